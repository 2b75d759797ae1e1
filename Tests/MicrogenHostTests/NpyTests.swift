import XCTest
import MicrogenIR
@testable import MicrogenHost

final class NpyTests: XCTestCase {
    /// NumPy wrote these files: reading them gives the bytes NumPy documents.
    func testReadsNumpyFiles() throws {
        let int8 = try Npy.read(path: TestPaths.models + "/vectors/kws_ref_model/case0_input0.npy")
        XCTAssertEqual(int8.dataType, .int8)
        XCTAssertEqual(int8.shape, [1, 49, 10, 1])
        // Case 0 is ((i*7+3) % 256) - 128 over the flat index (models/mlperf/README.md).
        for i in [0, 1, 100, 489] { XCTAssertEqual(Int8(bitPattern: int8.data[i]), Int8((i * 7 + 3) % 256 - 128)) }
        let float = try Npy.read(path: TestPaths.models + "/vectors/ad01_fp32/case0_input0.npy")
        XCTAssertEqual(float.dataType, .float32)
        XCTAssertEqual(float.shape, [1, 640])
    }

    func testRoundTripKeepsTypeShapeAndBytesAndAlignsData() throws {
        let array = NpyArray(dataType: .float32, shape: [2, 3], data: (0..<24).map { UInt8($0) })
        let encoded = Npy.encode(array)
        let headerLength = Int(encoded[8]) | Int(encoded[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0, "data must start on a 64-byte boundary")
        XCTAssertEqual(encoded[10 + headerLength - 1], 0x0A)
        XCTAssertEqual(try Npy.decode(encoded), array)
        let vector = NpyArray(dataType: .int8, shape: [5], data: [1, 2, 3, 4, 5])
        XCTAssertEqual(try Npy.decode(Npy.encode(vector)), vector)
    }

    func testBadFilesAreRefusedClearly() {
        XCTAssertThrowsError(try Npy.decode(Array("not numpy".utf8)))
        var truncated = Npy.encode(NpyArray(dataType: .int32, shape: [4], data: [UInt8](repeating: 0, count: 16)))
        truncated.removeLast(3)
        XCTAssertThrowsError(try Npy.decode(truncated)) { XCTAssertTrue("\($0)".contains("truncated")) }
        var bigEndian = Npy.encode(NpyArray(dataType: .int32, shape: [1], data: [0, 0, 0, 1]))
        let lessThan = bigEndian.firstIndex(of: UInt8(ascii: "<"))!
        bigEndian[lessThan] = UInt8(ascii: ">")
        XCTAssertThrowsError(try Npy.decode(bigEndian)) { XCTAssertTrue("\($0)".contains(">i4"), "\($0)") }
    }

    /// A .npy file with `header` (padded as NumPy pads it) followed by `data`.
    private func file(_ header: String, data: [UInt8] = [], version: UInt8 = 1) -> [UInt8] {
        var text = header
        let unpadded = 10 + text.utf8.count + 1
        text += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        return Npy.magic + [version, 0, UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8)] + Array(text.utf8) + data
    }

    private func assertRefused(_ bytes: [UInt8], _ fragments: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Npy.decode(bytes), file: file, line: line) { error in
            guard let error = error as? MicrogenError else { return XCTFail("not a MicrogenError: \(error)", file: file, line: line) }
            XCTAssertFalse(error.message.contains("\n"), error.message, file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "'\(fragment)' not in: \(error.message)", file: file, line: line)
            }
        }
    }

    /// Found by fuzzing: this shape's element count overflowed (a Swift trap).
    func testHugeShapesAreRefusedWithoutOverflow() {
        assertRefused(file("{'descr': '<i4', 'fortran_order': False, 'shape': (9223372036854775807, 2), }"), "more elements than can be counted")
        assertRefused(file("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }"), "truncated", "more than can be counted")
        assertRefused(file("{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999999999999999,), }"), "too large")
    }

    /// Found by fuzzing: without the space NumPy does not write, True was read as C order.
    func testFortranOrderIsReadWhateverTheSpacing() {
        let data = [UInt8](repeating: 0, count: 6)
        assertRefused(file("{'descr':'|i1','fortran_order':True,'shape':(2,3)}", data: data), "Fortran-ordered")
        assertRefused(file("{\"shape\": (2, 3), \"fortran_order\": True, \"descr\": \"|i1\"}", data: data), "Fortran-ordered")
        // One dimension (or only one above 1): both orders store the same bytes.
        XCTAssertEqual(try Npy.decode(file("{'descr':'|i1','fortran_order':True,'shape':(1, 6)}", data: data)).shape, [1, 6])
        let compact = try? Npy.decode(file("{'descr':'<i2','fortran_order':False,'shape':(3,)}", data: [1, 0, 2, 0, 3, 0]))
        XCTAssertEqual(compact, NpyArray(dataType: .int16, shape: [3], data: [1, 0, 2, 0, 3, 0]))
    }

    func testEveryHeaderFieldIsChecked() {
        assertRefused(file("{'descr': '<i4', 'shape': (1,), }", data: [0, 0, 0, 0]), "no fortran_order")
        assertRefused(file("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", data: [0, 0, 0, 0]), "'extra'")
        assertRefused(file("{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (1,)}", data: [0, 0, 0, 0]), "repeated")
        assertRefused(file("{'descr': '<i4', 'fortran_order': Maybe, 'shape': (1,)}", data: [0, 0, 0, 0]), "True or False")
        assertRefused(file("{'descr': '<i4', 'fortran_order': False, 'shape': (-1,)}"), "non-negative")
        assertRefused(file("{'descr': '<i4', 'fortran_order': False, 'shape': (1,)} trailing", data: [0, 0, 0, 0]), "after the dict")
        assertRefused(file("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", data: [UInt8](repeating: 0, count: 8)), "'<c8' is not supported")
        assertRefused(file("{'descr': '<i4', 'fortran_order': False, 'shape': (1,)}", data: [0, 0, 0, 0], version: 4), "version 4.0")
        assertRefused(file("{'descr': '<i4', 'fortran_order': False, 'shape': (1,)}", data: [0, 0, 0, 0, 9]), "1 bytes after the data")
        var longHeader = file("{'descr': '<i4', 'fortran_order': False, 'shape': (1,)}", data: [0, 0, 0, 0])
        longHeader[8] = 0xFF
        longHeader[9] = 0xFF
        assertRefused(longHeader, "truncated .npy header")
    }

    func testScalarsRoundTrip() throws {
        let scalar = NpyArray(dataType: .float32, shape: [], data: [0, 0, 0x80, 0x3F])
        XCTAssertEqual(try Npy.decode(Npy.encode(scalar)), scalar)
        XCTAssertEqual(scalar.doubles(), [1.0])
    }
}

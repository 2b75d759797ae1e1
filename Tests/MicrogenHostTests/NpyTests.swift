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
}

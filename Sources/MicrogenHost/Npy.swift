import Foundation
import MicrogenIR
import MicrogenProject

/// An n-dimensional array as stored in a NumPy `.npy` file: little-endian, C order.
public struct NpyArray: Sendable, Equatable {
    public var dataType: DataType
    public var shape: [Int]
    /// Raw little-endian element bytes.
    public var data: [UInt8]

    public init(dataType: DataType, shape: [Int], data: [UInt8]) {
        self.dataType = dataType
        self.shape = shape
        self.data = data
    }

    /// Elements of the shape (`decode` has checked that this product fits and matches the data).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Elements widened to Double, for comparisons and printing.
    public func doubles() -> [Double] {
        let t = Tensor(name: "", dataType: dataType, shape: shape, data: data)
        switch dataType {
        case .float32: return t.float32Values().map(Double.init)
        case .float64: return Tensor.decode(data, as: UInt64.self).map { Double(bitPattern: $0) }
        default: return t.integerValues().map(Double.init)
        }
    }
}

/// Reads and writes NumPy format 1.0 (reads 2.0 and 3.0 headers too).
public enum Npy {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] // "\x93NUMPY"

    static let descriptors: [(String, DataType)] = [
        ("<f4", .float32), ("<f8", .float64), ("<f2", .float16),
        ("|i1", .int8), ("<i1", .int8), ("|u1", .uint8), ("<u1", .uint8),
        ("<i2", .int16), ("<i4", .int32), ("<i8", .int64), ("|b1", .bool),
    ]

    public static func read(path: String) throws -> NpyArray {
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw MicrogenError(.io, "cannot read \(path)")
        }
        do {
            return try decode([UInt8](contents))
        } catch let error as MicrogenError {
            throw MicrogenError(error.kind, "\(path): \(error.message)")
        }
    }

    /// Checks every part of the file before reading its data: the magic and version, the header
    /// length against the file, the header's dict (exactly the keys descr, fortran_order and
    /// shape, in NumPy's literal syntax), the dtype, the order, and the data length against the
    /// shape (computed without overflow). Anything else is refused with a one-line message.
    public static func decode(_ bytes: [UInt8]) throws -> NpyArray {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw MicrogenError(.invalidArgument, "not a NumPy .npy file (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int
        let headerStart: Int
        switch (major, minor) {
        case (1, 0):
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case (2, 0), (3, 0):
            guard bytes.count >= 12 else { throw MicrogenError(.invalidArgument, "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw MicrogenError(.invalidArgument, ".npy format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)")
        }
        guard headerLength <= bytes.count - headerStart,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw MicrogenError(.invalidArgument, "truncated .npy header: it says \(headerLength) bytes but the file has \(bytes.count - headerStart) after the magic")
        }
        let fields = try NpyHeader.parse(header)
        guard let dataType = descriptors.first(where: { $0.0 == fields.descr })?.1 else {
            throw MicrogenError(.unsupported, ".npy dtype '\(NpyHeader.shown(fields.descr))' is not supported (use int8, uint8, int16, int32, int64, float32 or float64, little-endian)")
        }
        let shape = fields.shape
        // One or no dimension: Fortran and C order store the same bytes.
        if fields.fortranOrder && shape.filter({ $0 != 1 }).count > 1 {
            throw MicrogenError(.unsupported, "Fortran-ordered .npy arrays are not supported; save with C order (numpy.ascontiguousarray)")
        }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw MicrogenError(.invalidArgument, ".npy shape \(shapeText(shape)) has more elements than can be counted") }
            count = product
        }
        let start = headerStart + headerLength
        let (needed, overflow) = count.multipliedReportingOverflow(by: dataType.size)
        let available = bytes.count - start
        guard !overflow, available >= needed else {
            throw MicrogenError(.invalidArgument, ".npy data is truncated: \(available) bytes for shape \(shapeText(shape)) of \(dataType) (\(overflow ? "more than can be counted" : "\(needed)") needed)")
        }
        guard available == needed else {
            throw MicrogenError(.invalidArgument, ".npy file has \(available - needed) bytes after the data of shape \(shapeText(shape)) of \(dataType); it is corrupt or not one array")
        }
        return NpyArray(dataType: dataType, shape: shape, data: Array(bytes[start..<(start + needed)]))
    }

    /// A shape as NumPy prints it: (2, 3), (5,) or ().
    static func shapeText(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    public static func encode(_ array: NpyArray) -> [UInt8] {
        let descr = descriptors.first { $0.1 == array.dataType }!.0
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText(array.shape)), }"
        // Pad with spaces so the data starts on a 64-byte boundary, ending in a newline.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        out += array.data
        return out
    }

    /// Writes `array` to `path`, creating the directories it names that do not exist yet.
    public static func write(_ array: NpyArray, path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(encode(array)).write(to: url)
        } catch {
            throw MicrogenError(.io, "cannot write \(path): \(error.localizedDescription)")
        }
    }
}

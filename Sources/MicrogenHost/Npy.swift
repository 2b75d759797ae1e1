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

    public static func decode(_ bytes: [UInt8]) throws -> NpyArray {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw MicrogenError(.invalidArgument, "not a NumPy .npy file (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw MicrogenError(.invalidArgument, "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw MicrogenError(.invalidArgument, ".npy format version \(major) is not supported")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw MicrogenError(.invalidArgument, "truncated .npy header")
        }
        guard let descr = stringValue(of: "descr", in: header) else {
            throw MicrogenError(.invalidArgument, ".npy header has no descr: \(header)")
        }
        guard let dataType = descriptors.first(where: { $0.0 == descr })?.1 else {
            throw MicrogenError(.unsupported, ".npy dtype '\(descr)' is not supported (use int8, uint8, int16, int32, int64, float32 or float64, little-endian)")
        }
        if header.contains("'fortran_order': True") {
            throw MicrogenError(.unsupported, "Fortran-ordered .npy arrays are not supported; save with C order")
        }
        guard let shape = shapeValue(in: header) else {
            throw MicrogenError(.invalidArgument, ".npy header has no readable shape: \(header)")
        }
        let count = shape.reduce(1, *)
        let start = headerStart + headerLength
        let needed = count * dataType.size
        guard bytes.count - start >= needed else {
            throw MicrogenError(.invalidArgument, ".npy data is truncated: \(bytes.count - start) bytes for shape \(shape) of \(dataType) (\(needed) needed)")
        }
        return NpyArray(dataType: dataType, shape: shape, data: Array(bytes[start..<(start + needed)]))
    }

    public static func encode(_ array: NpyArray) -> [UInt8] {
        let descr = descriptors.first { $0.1 == array.dataType }!.0
        let shapeText = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
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

    private static func stringValue(of key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") else { return nil }
        let rest = header[keyRange.upperBound...]
        guard let open = rest.firstIndex(of: "'") else { return nil }
        let afterOpen = rest.index(after: open)
        guard let close = rest[afterOpen...].firstIndex(of: "'") else { return nil }
        return String(rest[afterOpen..<close])
    }

    private static func shapeValue(in header: String) -> [Int]? {
        guard let keyRange = header.range(of: "'shape'") else { return nil }
        let rest = header[keyRange.upperBound...]
        guard let open = rest.firstIndex(of: "("), let close = rest[open...].firstIndex(of: ")") else { return nil }
        let inner = rest[rest.index(after: open)..<close]
        var dims: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let dim = Int(trimmed.hasSuffix("L") ? String(trimmed.dropLast()) : trimmed), dim >= 0 else { return nil }
            dims.append(dim)
        }
        return dims
    }
}

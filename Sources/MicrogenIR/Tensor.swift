/// A tensor of the graph: an activation (no data) or a constant (weights, biases, shapes).
public struct Tensor: Sendable, Hashable {
    public var name: String
    public var dataType: DataType
    public var shape: [Int]
    public var quantization: Quantization?
    /// Little-endian raw bytes of a constant tensor; nil for activations.
    public var data: [UInt8]?

    public init(name: String, dataType: DataType, shape: [Int], quantization: Quantization? = nil, data: [UInt8]? = nil) {
        self.name = name
        self.dataType = dataType
        self.shape = shape
        self.quantization = quantization
        self.data = data
    }

    public var isConstant: Bool { data != nil }
    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dataType.size }

    /// The constant data read as little-endian values of the tensor's type.
    public func int8Values() -> [Int8] { (data ?? []).map { Int8(bitPattern: $0) } }
    public func int32Values() -> [Int32] { Tensor.decode(data ?? [], as: Int32.self) }
    public func int64Values() -> [Int64] { Tensor.decode(data ?? [], as: Int64.self) }
    public func float32Values() -> [Float] { Tensor.decode(data ?? [], as: UInt32.self).map { Float(bitPattern: $0) } }

    /// Integer constants of any integer type widened to Int (shapes, axes, paddings).
    public func integerValues() -> [Int] {
        switch dataType {
        case .int8: return int8Values().map(Int.init)
        case .uint8: return (data ?? []).map(Int.init)
        case .int16: return Tensor.decode(data ?? [], as: Int16.self).map(Int.init)
        case .int32: return int32Values().map(Int.init)
        case .int64: return int64Values().map(Int.init)
        default: return []
        }
    }

    public static func decode<T: FixedWidthInteger>(_ bytes: [UInt8], as: T.Type) -> [T] {
        let width = MemoryLayout<T>.size
        let count = bytes.count / width
        var out = [T](repeating: 0, count: count)
        for i in 0..<count {
            var v: T = 0
            for b in 0..<width { v |= T(truncatingIfNeeded: bytes[i * width + b]) << (8 * b) }
            out[i] = v
        }
        return out
    }
}

extension Array where Element == Int {
    /// "1x49x10x1": the way shapes are printed in messages and tables.
    public var shapeString: String { isEmpty ? "scalar" : map(String.init).joined(separator: "x") }
}

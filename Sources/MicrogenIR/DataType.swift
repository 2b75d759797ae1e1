/// Element types a tensor can hold. Only `int8` and `float32` are supported as activations;
/// the others appear as constants (biases, shapes, axes) or are refused with a clear message.
public enum DataType: String, Sendable, Hashable, CustomStringConvertible {
    case float32, float16, float64
    case int8, uint8, int16, int32, int64
    case bool

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .int16, .float16: return 2
        case .int32, .float32: return 4
        case .int64, .float64: return 8
        }
    }

    /// The C type used for this element type in generated code.
    public var cType: String {
        switch self {
        case .float32: return "float"
        case .float64: return "double"
        case .float16: return "uint16_t"
        case .int8: return "int8_t"
        case .uint8: return "uint8_t"
        case .int16: return "int16_t"
        case .int32: return "int32_t"
        case .int64: return "int64_t"
        case .bool: return "uint8_t"
        }
    }

    public var description: String { rawValue }
}

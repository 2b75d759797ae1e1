import MicrogenIR

/// TFLite's TensorType enum (schema.fbs) and how it maps to `DataType`.
enum TFLiteTensorType {
    /// Names by code, for messages.
    private static let names = [
        "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64", "INT8",
        "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4", "BFLOAT16",
    ]

    static func isKnown(_ code: Int8) -> Bool { code >= 0 && Int(code) < names.count }

    static func name(of code: Int8) -> String {
        isKnown(code) ? names[Int(code)] : "unknown type \(code)"
    }

    /// The IR type for a TFLite type code; nil for types microgen cannot represent (strings,
    /// complex numbers, packed int4, unsigned 16/32/64-bit, resources, variants, bfloat16).
    static func dataType(of code: Int8) -> DataType? {
        switch code {
        case 0: return .float32
        case 1: return .float16
        case 2: return .int32
        case 3: return .uint8
        case 4: return .int64
        case 6: return .bool
        case 7: return .int16
        case 9: return .int8
        case 10: return .float64
        default: return nil
        }
    }
}

import MicrogenIR

/// Small helpers that print C literals and declarations the same way every time.
public enum CWriter {
    /// A float literal that round-trips exactly (hex floats are C99 and never lose a bit).
    public static func floatLiteral(_ value: Float) -> String {
        if value.isNaN { return "(0.0f / 0.0f)" }
        if value.isInfinite { return value > 0 ? "(1.0f / 0.0f)" : "(-1.0f / 0.0f)" }
        if value == 0 { return value.sign == .minus ? "-0.0f" : "0.0f" }
        // %a-style: sign, 0x1.<hex>p<exp>, exact for binary32.
        let bits = value.bitPattern
        let sign = (bits >> 31) != 0 ? "-" : ""
        let exponentBits = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7FFFFF
        if exponentBits == 0 { // subnormal
            return "\(sign)0x0.\(hex(mantissa << 1, digits: 6))p-126f"
        }
        return "\(sign)0x1.\(hex(mantissa << 1, digits: 6))p\(exponentBits - 127)f"
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }

    /// An integer literal valid for its C type (INT32_MIN cannot be written as a plain literal).
    public static func integerLiteral<T: BinaryInteger>(_ value: T, cType: String) -> String {
        switch cType {
        case "int32_t" where value == T(Int32.min): return "INT32_MIN"
        case "int64_t" where value == T(Int64.min): return "INT64_MIN"
        case "int64_t": return "INT64_C(\(value))"
        case "uint32_t": return "\(value)u"
        default: return "\(value)"
        }
    }

    /// `static const T name[N] = { ... };` with 16 values a line. Arrays are aligned to 16 bytes
    /// so that word and SIMD loads on them are always legal.
    public static func constArray(name: String, cType: String, values: [String]) -> String {
        var text = "static const \(cType) \(name)[\(max(values.count, 1))] MG_ALIGNED(16) = {"
        if values.isEmpty { return text + "0};\n" }
        for (i, v) in values.enumerated() {
            if i % 16 == 0 { text += "\n   " }
            text += " \(v),"
        }
        return text + "\n};\n"
    }

    /// sizeof() of the scalar C types generated code uses (0 for others).
    public static func byteSize(ofCType cType: String) -> Int {
        switch cType {
        case "int8_t", "uint8_t", "char": return 1
        case "int16_t", "uint16_t": return 2
        case "int32_t", "uint32_t", "float": return 4
        case "int64_t", "uint64_t", "double": return 8
        default: return 0
        }
    }
}

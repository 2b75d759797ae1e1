import MicrogenIR

/// Appends little-endian fields to a payload.
struct PayloadWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { append(UInt64(value), count: 2) }
    mutating func u32(_ value: UInt32) { append(UInt64(value), count: 4) }
    mutating func u64(_ value: UInt64) { append(value, count: 8) }
    mutating func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }
    mutating func f32(_ value: Float) { u32(value.bitPattern) }
    mutating func raw(_ values: [UInt8]) { bytes += values }

    /// `len u8` then the bytes, cut to 255.
    mutating func shortString(_ text: String) {
        let utf8 = Array(text.utf8.prefix(255))
        u8(UInt8(utf8.count))
        raw(utf8)
    }

    private mutating func append(_ value: UInt64, count: Int) {
        for i in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}

/// Reads little-endian fields from a reply payload with bounds checks: a short or malformed
/// payload becomes a `MicrogenError` naming the message and the field, never a trap.
struct PayloadReader {
    let bytes: [UInt8]
    let message: String
    private(set) var position = 0

    init(_ bytes: [UInt8], message: String) {
        self.bytes = bytes
        self.message = message
    }

    var remaining: Int { bytes.count - position }

    mutating func u8(_ field: String) throws -> UInt8 { UInt8(try take(1, field)) }
    mutating func u16(_ field: String) throws -> UInt16 { UInt16(try take(2, field)) }
    mutating func u32(_ field: String) throws -> UInt32 { UInt32(try take(4, field)) }
    mutating func u64(_ field: String) throws -> UInt64 { try take(8, field) }
    mutating func i32(_ field: String) throws -> Int32 { Int32(bitPattern: try u32(field)) }
    mutating func f32(_ field: String) throws -> Float { Float(bitPattern: try u32(field)) }

    mutating func raw(_ count: Int, _ field: String) throws -> [UInt8] {
        try need(count, field)
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    mutating func shortString(_ field: String) throws -> String {
        let length = Int(try u8("\(field) length"))
        let utf8 = try raw(length, field)
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Refuses bytes left over after the last field: the two sides disagree on the layout.
    func finish() throws {
        guard remaining == 0 else {
            throw MicrogenError(.io, "malformed \(message): \(remaining) unexpected byte(s) after the last field (\(bytes.count) bytes in all)")
        }
    }

    private mutating func take(_ count: Int, _ field: String) throws -> UInt64 {
        try need(count, field)
        var value: UInt64 = 0
        for i in 0..<count { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += count
        return value
    }

    private func need(_ count: Int, _ field: String) throws {
        guard count <= remaining else {
            throw MicrogenError(.io, "malformed \(message): the payload ends (\(bytes.count) bytes) before \(field), which needs \(count) byte(s) at offset \(position)")
        }
    }
}

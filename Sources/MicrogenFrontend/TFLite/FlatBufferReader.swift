import MicrogenIR

/// Reads a FlatBuffers binary directly, without generated code.
///
/// A model file is untrusted input, so every read is bounds-checked and every failure becomes a
/// `.malformedModel` error that says what was being read. Offsets are computed in `Int` (64-bit)
/// from 32-bit file values, so they cannot overflow. Readers only descend a fixed schema, so
/// they cannot loop; the work budget bounds the total decoding work even when many tables point
/// at the same large vector.
final class FlatBufferReader {
    let bytes: [UInt8]
    /// Names the file in messages.
    let fileName: String
    /// Elements left to decode before the file is judged absurd (shared sub-objects read many times).
    private var workBudget: Int

    init(bytes: [UInt8], fileName: String) {
        self.bytes = bytes
        self.fileName = fileName
        self.workBudget = bytes.count * 16 + (1 << 20)
    }

    var count: Int { bytes.count }

    func malformed(_ what: String) -> MicrogenError {
        MicrogenError(.malformedModel, "\(fileName): \(what)")
    }

    /// Throws unless `size` bytes starting at `position` lie inside the file.
    func requireRange(_ position: Int, size: Int, _ what: @autoclosure () -> String) throws {
        guard position >= 0, size >= 0, position <= bytes.count, size <= bytes.count - position else {
            throw malformed("\(what()) at byte \(position) (\(size) bytes) lies outside the file (\(bytes.count) bytes); the file is truncated or corrupt")
        }
    }

    /// Accounts for decoding `elements` more values; throws once the budget is spent.
    func charge(_ elements: Int, _ what: @autoclosure () -> String) throws {
        workBudget -= max(elements, 1)
        guard workBudget >= 0 else {
            throw malformed("\(what()): the file makes the reader decode far more data than it holds (shared or cyclic references); it is corrupt")
        }
    }

    // MARK: little-endian scalars (callers check the range first)

    func uint8(at p: Int) -> UInt8 { bytes[p] }

    func uint16(at p: Int) -> UInt16 { UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8 }

    func uint32(at p: Int) -> UInt32 {
        UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }

    func uint64(at p: Int) -> UInt64 { UInt64(uint32(at: p)) | UInt64(uint32(at: p + 4)) << 32 }

    func checkedUInt32(at p: Int, _ what: @autoclosure () -> String) throws -> UInt32 {
        try requireRange(p, size: 4, what())
        return uint32(at: p)
    }

    // MARK: structure

    /// The root table: the first 4 bytes are its offset from the start of the file.
    func rootTable(context: String) throws -> FlatBufferTable {
        let offset = Int(try checkedUInt32(at: 0, "root table offset"))
        return try table(at: offset, context: context)
    }

    /// The table at `position`: its first 4 bytes are a signed offset back to its vtable, which
    /// starts with its own size and the table's inline size, then one 16-bit field offset per field.
    func table(at position: Int, context: String) throws -> FlatBufferTable {
        try charge(1, context)
        try requireRange(position, size: 4, "\(context): table")
        let toVtable = Int(Int32(bitPattern: uint32(at: position)))
        let vtable = position - toVtable
        try requireRange(vtable, size: 4, "\(context): vtable")
        let vtableSize = Int(uint16(at: vtable))
        let inlineSize = Int(uint16(at: vtable + 2))
        guard vtableSize >= 4, vtableSize % 2 == 0 else {
            throw malformed("\(context): vtable at byte \(vtable) has invalid size \(vtableSize); the file is corrupt")
        }
        guard inlineSize >= 4 else {
            throw malformed("\(context): table at byte \(position) has invalid inline size \(inlineSize); the file is corrupt")
        }
        try requireRange(vtable, size: vtableSize, "\(context): vtable")
        try requireRange(position, size: inlineSize, "\(context): table")
        return FlatBufferTable(reader: self, position: position, vtable: vtable, vtableSize: vtableSize, inlineSize: inlineSize, context: context)
    }

    /// The vector an offset at `referencePosition` points to: a 32-bit element count, then the elements.
    func vector(referencedAt referencePosition: Int, elementSize: Int, context: String) throws -> FlatBufferVector {
        let target = referencePosition + Int(try checkedUInt32(at: referencePosition, "\(context): offset"))
        let length = Int(try checkedUInt32(at: target, "\(context): length"))
        let start = target + 4
        // length <= 2^32 and elementSize <= 8, so the product cannot overflow Int.
        guard length * elementSize <= count - start else {
            throw malformed("\(context): vector of \(length) elements at byte \(target) runs past the end of the file (\(count) bytes); the file is truncated or corrupt")
        }
        return FlatBufferVector(reader: self, start: start, count: length, elementSize: elementSize, context: context)
    }
}

/// One table: fields are looked up by their schema index (field i's offset is at vtable + 4 + 2i).
struct FlatBufferTable {
    let reader: FlatBufferReader
    let position: Int
    let vtable: Int
    let vtableSize: Int
    let inlineSize: Int
    /// Where this table sits in the model, e.g. "subgraph 0, tensor 12", for messages.
    let context: String

    /// The absolute position of field `id`, or nil when the field is absent (so it takes its default).
    func fieldPosition(_ id: Int, size: Int, name: String) throws -> Int? {
        let slot = 4 + 2 * id
        guard slot + 2 <= vtableSize else { return nil }
        let offset = Int(reader.uint16(at: vtable + slot))
        if offset == 0 { return nil }
        guard offset >= 4, offset + size <= inlineSize else {
            throw reader.malformed("\(context): field '\(name)' at offset \(offset) lies outside its table (\(inlineSize) bytes); the file is corrupt")
        }
        return position + offset
    }

    func has(_ id: Int) throws -> Bool {
        let slot = 4 + 2 * id
        guard slot + 2 <= vtableSize else { return false }
        return reader.uint16(at: vtable + slot) != 0
    }

    // MARK: scalars with schema defaults

    func uint8(_ id: Int, _ name: String, default value: UInt8 = 0) throws -> UInt8 {
        guard let p = try fieldPosition(id, size: 1, name: name) else { return value }
        return reader.uint8(at: p)
    }

    func int8(_ id: Int, _ name: String, default value: Int8 = 0) throws -> Int8 {
        Int8(bitPattern: try uint8(id, name, default: UInt8(bitPattern: value)))
    }

    func bool(_ id: Int, _ name: String, default value: Bool = false) throws -> Bool {
        try uint8(id, name, default: value ? 1 : 0) != 0
    }

    func uint32(_ id: Int, _ name: String, default value: UInt32 = 0) throws -> UInt32 {
        guard let p = try fieldPosition(id, size: 4, name: name) else { return value }
        return reader.uint32(at: p)
    }

    func int32(_ id: Int, _ name: String, default value: Int32 = 0) throws -> Int32 {
        Int32(bitPattern: try uint32(id, name, default: UInt32(bitPattern: value)))
    }

    func uint64(_ id: Int, _ name: String, default value: UInt64 = 0) throws -> UInt64 {
        guard let p = try fieldPosition(id, size: 8, name: name) else { return value }
        return reader.uint64(at: p)
    }

    func float32(_ id: Int, _ name: String, default value: Float = 0) throws -> Float {
        Float(bitPattern: try uint32(id, name, default: value.bitPattern))
    }

    // MARK: references

    func table(_ id: Int, _ name: String, context childContext: String? = nil) throws -> FlatBufferTable? {
        guard let p = try fieldPosition(id, size: 4, name: name) else { return nil }
        let target = p + Int(reader.uint32(at: p))
        return try reader.table(at: target, context: childContext ?? "\(context), \(name)")
    }

    func vector(_ id: Int, _ name: String, elementSize: Int) throws -> FlatBufferVector? {
        guard let p = try fieldPosition(id, size: 4, name: name) else { return nil }
        return try reader.vector(referencedAt: p, elementSize: elementSize, context: "\(context), \(name)")
    }

    func string(_ id: Int, _ name: String) throws -> String? {
        guard let v = try vector(id, name, elementSize: 1) else { return nil }
        return try v.utf8String()
    }

    /// A union is two fields: its type tag (a byte) at `typeId` and the table at `typeId + 1`.
    /// A tag without a table reads as absent, as TFLite itself treats it.
    func union(typeId: Int, _ name: String) throws -> (type: UInt8, table: FlatBufferTable?) {
        let type = try uint8(typeId, "\(name)_type")
        guard type != 0 else { return (0, nil) }
        return (type, try table(typeId + 1, name))
    }

    // MARK: convenience for vectors of scalars

    func int32Vector(_ id: Int, _ name: String) throws -> [Int32]? { try vector(id, name, elementSize: 4)?.int32s() }
    func int64Vector(_ id: Int, _ name: String) throws -> [Int64]? { try vector(id, name, elementSize: 8)?.int64s() }
    func float32Vector(_ id: Int, _ name: String) throws -> [Float]? { try vector(id, name, elementSize: 4)?.float32s() }
}

/// A vector whose elements are known to lie inside the file.
struct FlatBufferVector {
    let reader: FlatBufferReader
    /// Position of the first element.
    let start: Int
    let count: Int
    let elementSize: Int
    let context: String

    func int32s() throws -> [Int32] {
        try reader.charge(count, context)
        return (0..<count).map { Int32(bitPattern: reader.uint32(at: start + 4 * $0)) }
    }

    func int64s() throws -> [Int64] {
        try reader.charge(count, context)
        return (0..<count).map { Int64(bitPattern: reader.uint64(at: start + 8 * $0)) }
    }

    func float32s() throws -> [Float] {
        try reader.charge(count, context)
        return (0..<count).map { Float(bitPattern: reader.uint32(at: start + 4 * $0)) }
    }

    func bytes() throws -> [UInt8] {
        try reader.charge(count, context)
        return Array(reader.bytes[start..<(start + count)])
    }

    /// Invalid UTF-8 is repaired rather than refused: names only serve messages.
    func utf8String() throws -> String {
        try reader.charge(count, context)
        return String(decoding: reader.bytes[start..<(start + count)], as: UTF8.self)
    }

    /// Element `index` of a vector of tables (each element is an offset to its table).
    func table(_ index: Int, context elementContext: String) throws -> FlatBufferTable {
        guard index >= 0, index < count, elementSize == 4 else {
            throw reader.malformed("\(context): element \(index) of \(count) does not exist")
        }
        let p = start + 4 * index
        return try reader.table(at: p + Int(reader.uint32(at: p)), context: elementContext)
    }

    /// Element `index` of a vector of strings.
    func string(_ index: Int) throws -> String {
        guard index >= 0, index < count, elementSize == 4 else {
            throw reader.malformed("\(context): element \(index) of \(count) does not exist")
        }
        return try reader.vector(referencedAt: start + 4 * index, elementSize: 1, context: "\(context)[\(index)]").utf8String()
    }
}

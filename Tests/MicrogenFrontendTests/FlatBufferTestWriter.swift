/// A small FlatBuffers writer for tests: builds files the importer must accept or refuse, with
/// any field left out or set to a bad value. It lays objects out front to back (a table, then
/// the objects it points to), which FlatBuffers allows: offsets only need to point forward.
struct FBTable {
    var fields: [Int: FBValue] = [:]

    init(_ fields: [Int: FBValue] = [:]) { self.fields = fields }

    subscript(id: Int) -> FBValue? {
        get { fields[id] }
        set { fields[id] = newValue }
    }
}

indirect enum FBValue {
    case int8(Int8), uint8(UInt8), bool(Bool)
    case int32(Int32), uint32(UInt32), uint64(UInt64), float32(Float)
    case table(FBTable)
    case string(String)
    case bytes([UInt8])
    case int32s([Int32])
    case int64s([Int64])
    case float32s([Float])
    case tables([FBTable])
    /// An offset field holding exactly this value (to point somewhere bad on purpose).
    case rawOffset(UInt32)

    var inlineSize: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .uint64: return 8
        default: return 4
        }
    }
}

enum FlatBufferTestWriter {
    /// The bytes of a buffer whose root is `root`, with `identifier` at bytes 4..8.
    static func serialize(_ root: FBTable, identifier: String = "TFL3") -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 4) + Array(identifier.utf8.prefix(4))
        while out.count < 8 { out.append(0) }
        let position = write(root, into: &out)
        patch(&out, at: 0, UInt32(position))
        return out
    }

    private static func align(_ out: inout [UInt8], to alignment: Int) {
        while out.count % alignment != 0 { out.append(0) }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func patch(_ out: inout [UInt8], at position: Int, _ value: UInt32) {
        for b in 0..<4 { out[position + b] = UInt8(truncatingIfNeeded: value >> (8 * b)) }
    }

    /// Writes a table (vtable first, then the table, then what it points to); returns its position.
    @discardableResult
    private static func write(_ table: FBTable, into out: inout [UInt8]) -> Int {
        let ids = table.fields.keys.sorted()
        // Inline layout: the vtable offset, then each field at its natural alignment.
        var offsets: [Int: Int] = [:]
        var size = 4
        for id in ids {
            let fieldSize = table.fields[id]!.inlineSize
            while size % fieldSize != 0 { size += 1 }
            offsets[id] = size
            size += fieldSize
        }
        let slots = (ids.last.map { $0 + 1 }) ?? 0
        align(&out, to: 2)
        let vtable = out.count
        append(UInt16(4 + 2 * slots), to: &out)
        append(UInt16(size), to: &out)
        for id in 0..<slots { append(UInt16(offsets[id] ?? 0), to: &out) }
        align(&out, to: 8)
        let start = out.count
        out.append(contentsOf: [UInt8](repeating: 0, count: size))
        patch(&out, at: start, UInt32(start - vtable))

        var children: [(position: Int, value: FBValue)] = []
        for id in ids {
            let p = start + offsets[id]!
            switch table.fields[id]! {
            case .int8(let v): out[p] = UInt8(bitPattern: v)
            case .uint8(let v): out[p] = v
            case .bool(let v): out[p] = v ? 1 : 0
            case .int32(let v): patch(&out, at: p, UInt32(bitPattern: v))
            case .uint32(let v): patch(&out, at: p, v)
            case .float32(let v): patch(&out, at: p, v.bitPattern)
            case .uint64(let v):
                patch(&out, at: p, UInt32(truncatingIfNeeded: v))
                patch(&out, at: p + 4, UInt32(truncatingIfNeeded: v >> 32))
            case .rawOffset(let v): patch(&out, at: p, v)
            case let child: children.append((p, child))
            }
        }
        for (position, child) in children {
            let target = writeReferenced(child, into: &out)
            patch(&out, at: position, UInt32(target - position))
        }
        return start
    }

    /// Writes a table, string or vector; returns the position an offset must point at.
    private static func writeReferenced(_ value: FBValue, into out: inout [UInt8]) -> Int {
        switch value {
        case .table(let t):
            return write(t, into: &out)
        case .string(let s):
            return writeVector(Array(s.utf8) + [0], count: s.utf8.count, alignment: 4, into: &out)
        case .bytes(let b):
            return writeVector(b, count: b.count, alignment: 16, into: &out)
        case .int32s(let v):
            var raw: [UInt8] = []
            for x in v { append(x, to: &raw) }
            return writeVector(raw, count: v.count, alignment: 4, into: &out)
        case .float32s(let v):
            var raw: [UInt8] = []
            for x in v { append(x.bitPattern, to: &raw) }
            return writeVector(raw, count: v.count, alignment: 4, into: &out)
        case .int64s(let v):
            var raw: [UInt8] = []
            for x in v { append(x, to: &raw) }
            return writeVector(raw, count: v.count, alignment: 8, into: &out)
        case .tables(let tables):
            let start = writeVector([UInt8](repeating: 0, count: 4 * tables.count), count: tables.count, alignment: 4, into: &out)
            for (i, t) in tables.enumerated() {
                let slot = start + 4 + 4 * i
                let target = write(t, into: &out)
                patch(&out, at: slot, UInt32(target - slot))
            }
            return start
        default:
            fatalError("\(value) is stored inline")
        }
    }

    /// The length, then the elements starting at a multiple of `alignment`.
    private static func writeVector(_ elements: [UInt8], count: Int, alignment: Int, into out: inout [UInt8]) -> Int {
        while (out.count + 4) % alignment != 0 { out.append(0) }
        let start = out.count
        append(UInt32(count), to: &out)
        out.append(contentsOf: elements)
        return start
    }
}

import MicrogenIR

/// Makes mutants of a .tflite file: mostly structure-aware (a scale, shape, index, option or
/// name set to a hostile value at a site `TFLiteFieldMap` found), sometimes plain byte flips or
/// a truncation. Every mutation says what it did, so a finding names its cause.
///
/// In-place mutations keep the flatbuffer well-formed; a new name or vector is appended at the
/// end of the file and the field's offset retargeted to it (FlatBuffers offsets point forward,
/// and the end of the file is after every field).
struct ModelMutator {
    let seed: [UInt8]
    let map: TFLiteFieldMap

    init(seed: [UInt8]) {
        self.seed = seed
        self.map = TFLiteFieldMap(bytes: seed)
    }

    /// Hostile tensor names: comment and line-splice breakers, trigraphs, terminal escapes,
    /// format strings, non-ASCII, and a long one. Injected code is made to fail the C build
    /// (an undeclared name, a missing file), so an injection that works is a compile error.
    static let hostileNames = [
        "*\\\r/ mg_fuzz_injected;", "*/ mg_fuzz_injected; /*", "/*", "*/", "??/", "a\\\nb", "\\", "\r", "\r#error mg_fuzz_injected\r",
        "*\\\r/\n#include \"/nonexistent/mg_fuzz_injected\"\n/*", "\\\n#error mg_fuzz_injected\n", "\u{1b}[2J\u{1b}[31mred", "\"); system(\"true", "%s%s%n", "",
        "ünïcödé ⚠︎", "a\u{0}b", "mg_common", "main", String(repeating: "long_name_", count: 60),
    ]

    static let floats: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1e-45, 1e-38, 1e-30, 1e-10, 1e10, 1e30, 1e38,
                                  .greatestFiniteMagnitude, -1, 1, 0.5, 2, 65536]
    static let zeroPoints: [Int64] = [.min, .max, -129, -128, 127, 128, 255, 256, 0, 1 << 31, -(1 << 31), 1 << 40]
    static let dimensions: [Int32] = [0, -1, -2, 1, 2, 3, 7, 255, 65536, 1 << 20, 1 << 28, .max, .min]
    static let int32s: [Int32] = [0, -1, 1, 2, 3, 4, 7, 100, 1000, 65536, .max, .min]
    static let bytes: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 127, 128, 255]

    /// A mutant with 1 to 3 mutations, and what each did. A truncation comes last, so the sites
    /// the other mutations change are still in the file.
    func mutant(_ rng: inout SplitMix64) -> (bytes: [UInt8], mutations: [String]) {
        var out = seed
        var notes: [String] = []
        var truncation: Int?
        for _ in 0..<(1 + rng.next(below: 3)) {
            if map.sites.isEmpty || rng.next(below: 10) == 0 {
                if rng.next(below: 4) == 0 {
                    truncation = min(truncation ?? .max, rng.next(below: max(seed.count, 1)))
                } else {
                    notes.append(flipBytes(&out, &rng))
                }
            } else {
                notes.append(structural(&out, map.sites[rng.next(below: map.sites.count)], &rng))
            }
        }
        if let truncation, truncation < out.count {
            out.removeSubrange(truncation...)
            notes.append("truncated to \(truncation) bytes")
        }
        return (out, notes)
    }

    // MARK: byte level

    private func flipBytes(_ out: inout [UInt8], _ rng: inout SplitMix64) -> String {
        guard !out.isEmpty else { return "nothing to flip in an empty file" }
        var at: [Int] = []
        for _ in 0..<(1 + rng.next(below: 8)) {
            let p = rng.next(below: out.count)
            out[p] ^= UInt8(truncatingIfNeeded: 1 + rng.next(below: 255))
            at.append(p)
        }
        return "flipped bytes at \(at)"
    }

    // MARK: structure aware

    private func pick<T>(_ values: [T], _ rng: inout SplitMix64) -> T { values[rng.next(below: values.count)] }

    private func structural(_ out: inout [UInt8], _ site: MutationSite, _ rng: inout SplitMix64) -> String {
        let p = site.position
        switch site.kind {
        case .float32:
            let value = rng.next(below: 4) == 0 ? Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) : pick(Self.floats, &rng)
            write(&out, at: p, value.bitPattern)
            return "\(site.label) = \(value)"
        case .zeroPoint:
            let value = pick(Self.zeroPoints, &rng)
            write(&out, at: p, UInt64(bitPattern: value))
            return "\(site.label) = \(value)"
        case .quantizedDimension:
            let value = pick([-1, 0, 1, 2, 3, 4, 7, .max, .min] as [Int32], &rng)
            write(&out, at: p, UInt32(bitPattern: value))
            return "\(site.label) = \(value)"
        case .dimension:
            let old = Int32(bitPattern: read32(out, p))
            let value = rng.next(below: 4) == 0 ? old &* 2 &+ Int32(rng.next(below: 3)) : pick(Self.dimensions, &rng)
            write(&out, at: p, UInt32(bitPattern: value))
            return "\(site.label) = \(value)"
        case .tensorIndex:
            let count = Int32(map.tensorCount)
            var choices: [Int32] = [-1, -2, count, count + 7, .max, .min, Int32(rng.next(below: max(map.tensorCount, 1)))]
            choices += map.constantTensors
            let value = pick(choices, &rng)
            write(&out, at: p, UInt32(bitPattern: value))
            return "\(site.label) = tensor \(value)\(map.constantTensors.contains(value) ? " (a constant)" : "")"
        case .tensorType:
            let value = pick([0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 16, 17, -1, 127] as [Int8], &rng)
            out[p] = UInt8(bitPattern: value)
            return "\(site.label) = \(value)"
        case .bufferIndex:
            let count = UInt32(map.bufferCount)
            let value = pick([0, count, count + 3, UInt32(Int32.max), .max, UInt32(rng.next(below: max(map.bufferCount, 1)))] + map.constantBuffers, &rng)
            write(&out, at: p, value)
            return "\(site.label) = \(value)"
        case .opcodeIndex:
            let count = UInt32(map.opcodeCount)
            let value = pick([count, count + 1, .max, UInt32(rng.next(below: max(map.opcodeCount, 1)))], &rng)
            write(&out, at: p, value)
            return "\(site.label) = \(value)"
        case .deprecatedBuiltinCode:
            let value = rng.next(below: 3) == 0 ? pick([-1, 127, -128] as [Int8], &rng) : Int8(rng.next(below: 127))
            out[p] = UInt8(bitPattern: value)
            return "\(site.label) = \(value)"
        case .builtinCode:
            let value = rng.next(below: 3) == 0 ? pick([-1, 1000, .max, .min] as [Int32], &rng) : Int32(rng.next(below: 210))
            write(&out, at: p, UInt32(bitPattern: value))
            return "\(site.label) = \(value)"
        case .optionsType:
            let value = UInt8(rng.next(below: 130))
            out[p] = value
            return "\(site.label) = \(value)"
        case .integerOption(let bytes):
            if bytes == 1 {
                let value = pick(Self.bytes, &rng)
                out[p] = value
                return "\(site.label) = \(value)"
            }
            let value = pick(Self.int32s, &rng)
            write(&out, at: p, UInt32(bitPattern: value))
            return "\(site.label) = \(value)"
        case .bufferData(let count):
            if count >= 4, rng.next(below: 2) == 0 {
                let slot = p + 4 * rng.next(below: count / 4)
                let value = pick(Self.int32s + [Int32(bitPattern: 0x7f7f_7f7f), Int32(bitPattern: 0x8080_8080)], &rng)
                write(&out, at: slot, UInt32(bitPattern: value))
                return "\(site.label) word at \(slot - p) = \(value)"
            }
            let at = p + rng.next(below: count)
            out[at] = pick(Self.bytes, &rng)
            return "\(site.label) byte \(at - p) = \(out[at])"
        case .name:
            let name = pick(Self.hostileNames, &rng)
            retarget(&out, field: p, to: Array(name.utf8) + [0], count: name.utf8.count)
            return "\(site.label) = \(String(reflecting: name))"
        case .int32Vector:
            let old = readVector(out, field: p)
            let new: [Int32]
            switch rng.next(below: 6) {
            case 0: new = []
            case 1: new = Array(old.dropLast())
            case 2: new = old + [old.last ?? 0]
            case 3: new = old + [1]
            case 4: new = [Int32](repeating: 1, count: pick([7, 16, 17, 300], &rng))
            default: new = old.reversed()
            }
            var raw: [UInt8] = []
            for v in new { raw += le(UInt32(bitPattern: v)) }
            retarget(&out, field: p, to: raw, count: new.count)
            return "\(site.label) = \(new.count > 20 ? "\(new.count) elements" : "\(new)")"
        }
    }

    // MARK: bytes

    private func le(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    private func write(_ out: inout [UInt8], at p: Int, _ value: UInt32) {
        guard p >= 0, p + 4 <= out.count else { return }
        for b in 0..<4 { out[p + b] = UInt8(truncatingIfNeeded: value >> (8 * b)) }
    }

    private func write(_ out: inout [UInt8], at p: Int, _ value: UInt64) {
        write(&out, at: p, UInt32(truncatingIfNeeded: value))
        write(&out, at: p + 4, UInt32(truncatingIfNeeded: value >> 32))
    }

    private func read32(_ bytes: [UInt8], _ p: Int) -> UInt32 {
        guard p >= 0, p + 4 <= bytes.count else { return 0 }
        return (0..<4).reduce(0) { $0 | UInt32(bytes[p + $1]) << (8 * $1) }
    }

    /// The int32 elements of the vector the offset at `field` points to (empty if it does not fit).
    private func readVector(_ bytes: [UInt8], field: Int) -> [Int32] {
        let target = field + Int(read32(bytes, field))
        let count = Int(read32(bytes, target))
        guard count <= 64, target + 4 + 4 * count <= bytes.count else { return [] }
        return (0..<count).map { Int32(bitPattern: read32(bytes, target + 4 + 4 * $0)) }
    }

    /// Appends a vector (length, then `elements`) at the end, 8-aligned, and points the offset
    /// at `field` to it.
    private func retarget(_ out: inout [UInt8], field: Int, to elements: [UInt8], count: Int) {
        while out.count % 8 != 4 { out.append(0) }
        let target = out.count
        out += le(UInt32(count)) + elements
        write(&out, at: field, UInt32(target - field))
    }
}

import MicrogenIR

/// Wraps a transport and damages the traffic on purpose, reproducibly from a seed, to prove that
/// the driver either gets the right answer or stops with a clear error. Faults apply to whole
/// frames (a flag, a body, a flag) counted separately in each direction.
public final class FaultInjectingTransport: Transport {
    public enum Kind: String, Sendable, CaseIterable {
        /// Flip one random bit of one random byte of the frame.
        case flipBit
        /// Lose one random byte of the frame's body.
        case dropByte
        /// Cut the frame short, closing flag included.
        case truncateFrame
        /// Deliver the frame twice.
        case duplicateFrame
        /// Put 1 to 24 random bytes before the frame.
        case insertGarbage
        /// From this frame on, nothing gets through in either direction.
        case stopAnswering
        /// The device restarts and loses its state: before receiving this frame (to the device),
        /// or after sending it, which is then lost (from the device). Needs `connect`.
        case restart
    }

    public enum Direction: String, Sendable, CaseIterable {
        case toDevice
        case fromDevice
    }

    /// Which frames get which fault.
    public struct Rule: Sendable, CustomStringConvertible {
        public var kind: Kind
        public var direction: Direction
        /// Frame numbers (from 0, per direction) to damage; nil: any frame, with `probability`.
        public var frames: Set<Int>?
        public var probability: Double

        /// Damages exactly these frames.
        public init(_ kind: Kind, _ direction: Direction, frames: Set<Int>) {
            self.kind = kind
            self.direction = direction
            self.frames = frames
            self.probability = 1
        }

        /// Damages each frame with this probability.
        public init(_ kind: Kind, _ direction: Direction, probability: Double) {
            self.kind = kind
            self.direction = direction
            self.frames = nil
            self.probability = probability
        }

        public var description: String {
            "\(kind) \(direction) " + (frames.map { "frames \($0.sorted())" } ?? "p=\(probability)")
        }
    }

    public var name: String { "\(inner.name) (with injected faults)" }
    /// One line per fault injected, for test failure messages.
    public private(set) var log: [String] = []
    public private(set) var framesSent = 0
    public private(set) var framesReceived = 0

    private var inner: any Transport
    private let connect: (() throws -> any Transport)?
    private let rules: [Rule]
    private var random: SplitMix64
    private var outgoing = FrameSplitter()
    private var incoming = FrameSplitter()
    private var ready: [UInt8] = []
    private var silent = false

    /// Wraps `transport`; `restart` rules need the other initializer.
    public init(wrapping transport: any Transport, seed: UInt64, rules: [Rule]) throws {
        guard !rules.contains(where: { $0.kind == .restart }) else {
            throw MicrogenError(.invalidArgument, "a restart fault needs a way to start the device again: use init(seed:rules:connect:)")
        }
        inner = transport
        connect = nil
        self.rules = rules
        random = SplitMix64(seed: seed)
    }

    /// Starts the device with `connect`, and again with it for every `restart` fault.
    public init(seed: UInt64, rules: [Rule], connect: @escaping () throws -> any Transport) throws {
        inner = try connect()
        self.connect = connect
        self.rules = rules
        random = SplitMix64(seed: seed)
    }

    public var faultsInjected: Int { log.count }

    public func write(_ bytes: [UInt8]) throws {
        for unit in outgoing.split(bytes) {
            let index = framesSent
            framesSent += 1
            if silent { continue }
            let (damaged, restart) = apply(to: unit, direction: .toDevice, index: index)
            if restart { try restartDevice() }
            if silent { continue }
            if !damaged.isEmpty { try inner.write(damaged) }
        }
    }

    public func read(maxCount: Int, deadline: Deadline) throws -> [UInt8] {
        while ready.isEmpty {
            let bytes = try inner.read(maxCount: 4096, deadline: deadline)
            if bytes.isEmpty { return [] }
            for unit in incoming.split(bytes) {
                let index = framesReceived
                framesReceived += 1
                if silent { continue }
                let (damaged, restart) = apply(to: unit, direction: .fromDevice, index: index)
                if restart {
                    try restartDevice()
                    break
                }
                if !silent { ready += damaged }
            }
        }
        let count = min(max(maxCount, 1), ready.count)
        defer { ready.removeFirst(count) }
        return Array(ready[0..<count])
    }

    public func close() {
        inner.close()
    }

    private func restartDevice() throws {
        guard let connect else { return }
        inner.close()
        inner = try connect()
        outgoing = FrameSplitter()
        incoming = FrameSplitter()
        ready.removeAll()
    }

    /// The frame as it goes on, and whether the device restarts here.
    private func apply(to unit: [UInt8], direction: Direction, index: Int) -> ([UInt8], Bool) {
        var bytes = unit
        var restart = false
        for rule in rules where rule.direction == direction {
            if let frames = rule.frames {
                guard frames.contains(index) else { continue }
            } else if random.unit() >= rule.probability {
                continue
            }
            var note = "\(rule.kind) on \(direction) frame \(index)"
            switch rule.kind {
            case .flipBit:
                let at = random.next(below: bytes.count), bit = random.next(below: 8)
                bytes[at] ^= UInt8(1 << bit)
                note += ": bit \(bit) of byte \(at)"
            case .dropByte:
                // A body byte: a lost flag next to another flag would change nothing.
                let at = bytes.count > 2 ? 1 + random.next(below: bytes.count - 2) : 0
                bytes.remove(at: at)
                note += ": byte \(at)"
            case .truncateFrame:
                // The opening flag and at least one body byte stay: it is cut, not lost.
                let keep = min(2 + random.next(below: max(bytes.count - 3, 1)), bytes.count)
                bytes = Array(bytes.prefix(keep))
                note += ": kept \(keep) of \(unit.count) bytes"
            case .duplicateFrame:
                bytes += bytes
            case .insertGarbage:
                let garbage = (0..<(1 + random.next(below: 24))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                bytes = garbage + bytes
                note += ": \(garbage.count) bytes"
            case .stopAnswering:
                silent = true
                bytes = []
            case .restart:
                restart = true
                // A reply the device had sent is lost with the restart.
                if direction == .fromDevice { bytes = [] }
            }
            log.append(note)
        }
        return (bytes, restart)
    }
}

/// Cuts a byte stream into frames as sent: each unit is flag, body, flag. Runs of flags between
/// frames are dropped (a receiver ignores them anyway); a body still waiting for its closing flag
/// stays buffered.
struct FrameSplitter {
    private var pending: [UInt8] = []

    mutating func split(_ bytes: [UInt8]) -> [[UInt8]] {
        var units: [[UInt8]] = []
        for byte in bytes {
            if byte == Frame.flag {
                if !pending.isEmpty { units.append([Frame.flag] + pending + [Frame.flag]) }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return units
    }
}

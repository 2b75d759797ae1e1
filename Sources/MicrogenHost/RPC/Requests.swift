import MicrogenIR

/// Which side of the model a TENSOR_INFO request asks about.
public enum TensorDirection: UInt8, Sendable, CustomStringConvertible {
    case input = 0
    case output = 1

    public var description: String { self == .input ? "input" : "output" }
}

/// A request the host sends (docs/protocol.md, "Messages"), with its payload layout.
public enum RPCRequest: Sendable, Equatable, CustomStringConvertible {
    /// WRITE_INPUT carries at most this many data bytes (index + offset + data ≤ 256).
    public static let maxWriteChunk = 251
    /// READ_OUTPUT returns at most this many bytes.
    public static let maxReadChunk = 256
    /// READ_TIMINGS returns at most this many operators.
    public static let maxTimingsChunk = 30

    case echo([UInt8])
    case info
    case tensorInfo(direction: TensorDirection, index: UInt8)
    case writeInput(index: UInt8, offset: UInt32, data: [UInt8])
    case run(runs: UInt16)
    case readTimings(first: UInt16, count: UInt8)
    case readOutput(index: UInt8, offset: UInt32, length: UInt16)
    case status

    public var type: MessageType {
        switch self {
        case .echo: return .echo
        case .info: return .info
        case .tensorInfo: return .tensorInfo
        case .writeInput: return .writeInput
        case .run: return .run
        case .readTimings: return .readTimings
        case .readOutput: return .readOutput
        case .status: return .status
        }
    }

    public var payload: [UInt8] {
        var w = PayloadWriter()
        switch self {
        case .echo(let bytes): w.raw(bytes)
        case .info, .status: break
        case .tensorInfo(let direction, let index):
            w.u8(direction.rawValue)
            w.u8(index)
        case .writeInput(let index, let offset, let data):
            w.u8(index)
            w.u32(offset)
            w.raw(data)
        case .run(let runs): w.u16(runs)
        case .readTimings(let first, let count):
            w.u16(first)
            w.u8(count)
        case .readOutput(let index, let offset, let length):
            w.u8(index)
            w.u32(offset)
            w.u16(length)
        }
        return w.bytes
    }

    public func frame(seq: UInt8) -> Frame { Frame(type: type.rawValue, seq: seq, payload: payload) }

    /// Decodes a request frame's payload: what a device does (the tests' fake device uses it).
    public init(type: UInt8, payload: [UInt8]) throws {
        guard let kind = MessageType(rawValue: type) else {
            throw MicrogenError(.io, "\(MessageType.describe(type)) is not a request")
        }
        var r = PayloadReader(payload, message: "\(kind) request")
        switch kind {
        case .echo: self = .echo(try r.raw(r.remaining, "data"))
        case .info: self = .info
        case .status: self = .status
        case .tensorInfo:
            let raw = try r.u8("direction")
            guard let direction = TensorDirection(rawValue: raw) else {
                throw MicrogenError(.io, "malformed TENSOR_INFO request: direction \(raw) is neither 0 (input) nor 1 (output)")
            }
            self = .tensorInfo(direction: direction, index: try r.u8("index"))
        case .writeInput:
            let index = try r.u8("index"), offset = try r.u32("offset")
            self = .writeInput(index: index, offset: offset, data: try r.raw(r.remaining, "data"))
        case .run: self = .run(runs: try r.u16("runs"))
        case .readTimings: self = .readTimings(first: try r.u16("first"), count: try r.u8("count"))
        case .readOutput: self = .readOutput(index: try r.u8("index"), offset: try r.u32("offset"), length: try r.u16("length"))
        }
        try r.finish()
    }

    public var description: String {
        switch self {
        case .echo(let bytes): return "ECHO of \(bytes.count) bytes"
        case .info: return "INFO"
        case .status: return "STATUS"
        case .tensorInfo(let direction, let index): return "TENSOR_INFO for \(direction) \(index)"
        case .writeInput(let index, let offset, let data): return "WRITE_INPUT of \(data.count) bytes at offset \(offset) of input \(index)"
        case .run(let runs): return "RUN of \(runs) run(s)"
        case .readTimings(let first, let count): return "READ_TIMINGS of operators \(first)..<\(Int(first) + Int(count))"
        case .readOutput(let index, let offset, let length): return "READ_OUTPUT of \(length) bytes at offset \(offset) of output \(index)"
        }
    }
}

import MicrogenIR

/// Message types (docs/protocol.md, "Messages"). Replies are `request | 0x80`; errors are 0xFF.
public enum MessageType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case echo = 0x01
    case info = 0x02
    case tensorInfo = 0x03
    case writeInput = 0x04
    case run = 0x05
    case readTimings = 0x06
    case readOutput = 0x07
    case status = 0x08

    public static let replyBit: UInt8 = 0x80
    public static let error: UInt8 = 0xFF

    public var replyType: UInt8 { rawValue | MessageType.replyBit }

    /// The name the protocol document uses.
    public var description: String {
        switch self {
        case .echo: return "ECHO"
        case .info: return "INFO"
        case .tensorInfo: return "TENSOR_INFO"
        case .writeInput: return "WRITE_INPUT"
        case .run: return "RUN"
        case .readTimings: return "READ_TIMINGS"
        case .readOutput: return "READ_OUTPUT"
        case .status: return "STATUS"
        }
    }

    /// Names any type byte: a request, its reply, an error or an unknown value.
    public static func describe(_ type: UInt8) -> String {
        if type == error { return "ERROR" }
        if let request = MessageType(rawValue: type) { return request.description }
        if type & replyBit != 0, let request = MessageType(rawValue: type & ~replyBit) { return "\(request) reply" }
        return "unknown type 0x\(String(type, radix: 16, uppercase: true))"
    }
}

/// Error codes of an error reply (docs/protocol.md, "Errors").
public enum RPCErrorCode: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case badCRC = 1
    case badFrame = 2
    case frameTooLong = 3
    case unknownMessage = 4
    case badIndex = 5
    case badOffset = 6
    case badLength = 7
    case modelError = 8
    case inputStale = 9

    public var description: String {
        switch self {
        case .badCRC: return "BAD_CRC"
        case .badFrame: return "BAD_FRAME"
        case .frameTooLong: return "FRAME_TOO_LONG"
        case .unknownMessage: return "UNKNOWN_MESSAGE"
        case .badIndex: return "BAD_INDEX"
        case .badOffset: return "BAD_OFFSET"
        case .badLength: return "BAD_LENGTH"
        case .modelError: return "MODEL_ERROR"
        case .inputStale: return "INPUT_STALE"
        }
    }

    /// The device could not read the request's frame: sending it again may well work.
    public var isTransmissionError: Bool { self == .badCRC || self == .badFrame || self == .frameTooLong }
}

/// Tensor element codes on the wire (TENSOR_INFO's dtype, the model header's `_DTYPE` macros).
public enum WireDataType {
    public static func code(of dataType: DataType) -> UInt8? {
        switch dataType {
        case .int8: return 1
        case .float32: return 2
        case .uint8: return 3
        case .int16: return 4
        case .int32: return 5
        default: return nil
        }
    }

    public static func dataType(code: UInt8) -> DataType? {
        switch code {
        case 1: return .int8
        case 2: return .float32
        case 3: return .uint8
        case 4: return .int16
        case 5: return .int32
        default: return nil
        }
    }
}

/// One protocol frame before stuffing: type, seq and payload (docs/protocol.md, "Frames").
public struct Frame: Sendable, Equatable, CustomStringConvertible {
    public static let flag: UInt8 = 0x7E
    public static let escape: UInt8 = 0x7D
    /// `MG_RPC_MAX_PAYLOAD`.
    public static let maxPayload = 256
    /// type, seq, length, crc: the body bytes around the payload.
    public static let overhead = 6

    public var type: UInt8
    public var seq: UInt8
    public var payload: [UInt8]

    public init(type: UInt8, seq: UInt8, payload: [UInt8] = []) {
        self.type = type
        self.seq = seq
        self.payload = payload
    }

    /// type | seq | length (u16 LE) | payload | crc (u16 LE), before stuffing.
    public var body: [UInt8] {
        var bytes: [UInt8] = [type, seq, UInt8(payload.count & 0xFF), UInt8(payload.count >> 8 & 0xFF)]
        bytes += payload
        let crc = CRC16.ccittFalse(bytes)
        bytes += [UInt8(crc & 0xFF), UInt8(crc >> 8)]
        return bytes
    }

    /// The bytes on the wire: flag, the stuffed body, flag.
    public func encoded() -> [UInt8] {
        precondition(payload.count <= Frame.maxPayload, "frame payload of \(payload.count) bytes exceeds \(Frame.maxPayload)")
        var out: [UInt8] = [Frame.flag]
        out.reserveCapacity(payload.count + 2 * Frame.overhead + 2)
        for byte in body {
            if byte == Frame.flag || byte == Frame.escape {
                out.append(Frame.escape)
                out.append(byte ^ 0x20)
            } else {
                out.append(byte)
            }
        }
        out.append(Frame.flag)
        return out
    }

    public var description: String {
        let name = MessageType.describe(type)
        return "\(name) (seq \(seq), \(payload.count) payload bytes)"
    }
}

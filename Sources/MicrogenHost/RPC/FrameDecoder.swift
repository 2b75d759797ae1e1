/// What the streaming decoder found between two flags.
public enum FrameEvent: Sendable, Equatable, CustomStringConvertible {
    /// A well-formed frame whose CRC matched.
    case frame(Frame)
    /// A frame whose CRC did not match. `type` and `seq` are as received, so not to be trusted.
    case badCRC(type: UInt8, seq: UInt8)
    /// Too short, a length field that disagrees with the bytes received, or a bad escape.
    case badFrame(reason: String)
    /// More than `Frame.maxPayload` payload bytes before the closing flag.
    case frameTooLong

    public var description: String {
        switch self {
        case .frame(let frame): return "a \(frame)"
        case .badCRC(let type, let seq): return "a frame with a bad CRC (type 0x\(String(type, radix: 16)), seq \(seq) as received)"
        case .badFrame(let reason): return "a malformed frame (\(reason))"
        case .frameTooLong: return "a frame longer than \(Frame.maxPayload) payload bytes"
        }
    }
}

/// Turns a byte stream into frames. Every flag byte ends whatever came before it, so after
/// garbage or a lost byte the decoder is back in step at the next flag. Damage is reported as an
/// event, never trapped on.
public struct FrameDecoder: Sendable {
    /// The largest body a valid frame can have, before stuffing.
    static let maxBody = Frame.maxPayload + Frame.overhead

    private var body: [UInt8] = []
    private var escaping = false
    private var badEscape = false
    private var overflowed = false
    /// Bytes seen since the last flag (including escapes): garbage before the very first flag is
    /// not reported, because a receiver that starts listening mid-stream cannot know better.
    private var seenFlag = false

    public init() {
        body.reserveCapacity(FrameDecoder.maxBody)
    }

    /// Feeds bytes and returns the events they completed, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [FrameEvent] where Bytes.Element == UInt8 {
        var events: [FrameEvent] = []
        for byte in bytes {
            if let event = feed(byte) { events.append(event) }
        }
        return events
    }

    /// Feeds one byte; returns an event when it was a flag closing a non-empty body.
    public mutating func feed(_ byte: UInt8) -> FrameEvent? {
        if byte == Frame.flag {
            defer { reset() }
            let hadContent = !body.isEmpty || escaping || badEscape || overflowed
            let wasSynced = seenFlag
            seenFlag = true
            guard hadContent, wasSynced else { return nil }
            return finish()
        }
        if overflowed { return nil }
        var value = byte
        if escaping {
            escaping = false
            guard byte == 0x5E || byte == 0x5D else {
                badEscape = true
                return nil
            }
            value = byte ^ 0x20
        } else if byte == Frame.escape {
            escaping = true
            return nil
        }
        if body.count == FrameDecoder.maxBody {
            overflowed = true
            body.removeAll(keepingCapacity: true)
            return nil
        }
        body.append(value)
        return nil
    }

    /// Forgets a partly received frame (the next frame starts clean at its flag).
    public mutating func discardPartialFrame() {
        reset()
    }

    private mutating func reset() {
        body.removeAll(keepingCapacity: true)
        escaping = false
        badEscape = false
        overflowed = false
    }

    private func finish() -> FrameEvent {
        if overflowed { return .frameTooLong }
        if badEscape { return .badFrame(reason: "an escape byte followed by a byte other than 0x5E or 0x5D") }
        if escaping { return .badFrame(reason: "an escape byte right before the closing flag") }
        guard body.count >= Frame.overhead else {
            return .badFrame(reason: "\(body.count) bytes between flags, fewer than the \(Frame.overhead) of an empty frame")
        }
        let length = Int(body[2]) | Int(body[3]) << 8
        let received = body.count - Frame.overhead
        guard length == received else {
            return .badFrame(reason: "length field says \(length) payload bytes but \(received) arrived")
        }
        let crcIndex = body.count - 2
        let expected = UInt16(body[crcIndex]) | UInt16(body[crcIndex + 1]) << 8
        guard CRC16.ccittFalse(body[0..<crcIndex]) == expected else {
            return .badCRC(type: body[0], seq: body[1])
        }
        return .frame(Frame(type: body[0], seq: body[1], payload: Array(body[4..<crcIndex])))
    }
}

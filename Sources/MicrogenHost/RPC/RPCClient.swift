import Foundation
import MicrogenIR

/// Talks the request/reply protocol over a `Transport`: one request outstanding at a time, a
/// deadline on every reply, retries with the same seq, and late or stray replies discarded.
public final class RPCClient {
    public struct Options: Sendable {
        /// Seconds to wait for each reply (each attempt) unless the caller gives its own.
        public var replyTimeout: Double
        /// Sends of one request before giving up (the first send included).
        public var attempts: Int
        /// After a damaged frame arrives, how long the line must stay quiet before the request is
        /// sent again instead of waiting out the whole timeout (the damaged frame was probably the
        /// reply, and the device will not send it twice). Not applied to RUN, whose reply may
        /// legitimately come much later and which is costly to repeat.
        public var settleTime: Double
        /// The seq of the first request; nil picks one at random, so a reply left over from an
        /// earlier session is unlikely to match.
        public var initialSeq: UInt8?

        public init(replyTimeout: Double = 2.0, attempts: Int = 3, settleTime: Double = 0.1, initialSeq: UInt8? = nil) {
            self.replyTimeout = replyTimeout
            self.attempts = attempts
            self.settleTime = settleTime
            self.initialSeq = initialSeq
        }
    }

    /// The protocol version this driver speaks (docs/protocol.md).
    public static let protocolVersion: UInt8 = 2

    public let transport: any Transport
    public let options: Options
    /// Sends after the first, over the client's life.
    public private(set) var retries = 0
    /// Well-formed frames that were not the awaited reply (late duplicates, stray seqs).
    public private(set) var discardedFrames = 0
    /// Frames that arrived damaged (bad CRC, malformed, too long).
    public private(set) var damagedFrames = 0
    /// Called with one line per notable event (a retry, a discarded frame), for `--verbose`.
    public var trace: ((String) -> Void)?

    private var decoder = FrameDecoder()
    private var nextSeq: UInt8

    public init(transport: any Transport, options: Options = Options()) {
        precondition(options.attempts >= 1, "at least one attempt")
        self.transport = transport
        self.options = options
        let first = options.initialSeq ?? UInt8.random(in: 1...255)
        self.nextSeq = first == 0 ? 1 : first
    }

    /// Reads and throws away whatever the line holds until it has been quiet for `quietTime`
    /// (at most `limit` seconds): output of a previous session, a boot banner.
    public func drain(quietTime: Double = 0.05, limit: Double = 1.0) throws {
        let end = Deadline.after(seconds: limit)
        while !end.hasPassed {
            let bytes = try transport.read(maxCount: 4096, deadline: min(end, Deadline.after(seconds: quietTime)))
            if bytes.isEmpty { break }
        }
        decoder.discardPartialFrame()
    }

    /// Sends `request` and returns the payload of its reply. `timeout` replaces the per-attempt
    /// reply timeout (RUN passes its expected run time plus a margin).
    public func call(_ request: RPCRequest, timeout: Double? = nil) throws -> [UInt8] {
        let seq = takeSeq()
        let wire = request.frame(seq: seq).encoded()
        let attemptTimeout = timeout ?? options.replyTimeout
        let settles = request.type != .run
        var lastSeen = "nothing"

        for attempt in 1...options.attempts {
            if attempt > 1 {
                retries += 1
                trace?("retrying \(request.type) (seq \(seq)), attempt \(attempt) of \(options.attempts): last saw \(lastSeen)")
            }
            try withContext(request.type, seq) { try transport.write(wire) }
            let attemptEnd = Deadline.after(seconds: attemptTimeout)
            var settleEnd: Deadline?

            waiting: while true {
                let until = settleEnd.map { min($0, attemptEnd) } ?? attemptEnd
                let bytes = try withContext(request.type, seq) { try transport.read(maxCount: 4096, deadline: until) }
                if bytes.isEmpty { break waiting }
                if settleEnd != nil { settleEnd = Deadline.after(seconds: options.settleTime) }

                var sendAgain = false
                for event in decoder.feed(bytes) {
                    switch classify(event, request: request, seq: seq) {
                    case .reply(let payload):
                        return payload
                    case .refused(let error):
                        throw MicrogenError(.io, "\(transport.name): the device refused \(request.type) (seq \(seq)) with \(error) (request: \(request))")
                    case .resendNow(let seen):
                        lastSeen = seen
                        // On the last attempt, wait on: the reply to an earlier send may follow.
                        sendAgain = attempt < options.attempts
                    case .damaged(let seen):
                        lastSeen = seen
                        damagedFrames += 1
                        if settles { settleEnd = Deadline.after(seconds: options.settleTime) }
                    case .ignored(let seen):
                        lastSeen = seen
                        discardedFrames += 1
                        trace?("discarded \(seen) while waiting for \(request.type) (seq \(seq))")
                    }
                }
                if sendAgain { break waiting }
            }
        }
        // "2.0", "0.3", "0.25": enough digits to show the setting.
        var seconds = String(format: "%.3f", attemptTimeout)
        while seconds.hasSuffix("0") && !seconds.hasSuffix(".0") { seconds.removeLast() }
        throw MicrogenError(.io, "\(transport.name): the device did not answer \(request.type) (seq \(seq)) after \(options.attempts) attempt\(options.attempts == 1 ? "" : "s") of \(seconds) s; the last thing seen was \(lastSeen) (request: \(request))")
    }

    private enum Outcome {
        case reply([UInt8])
        case refused(ErrorReply)
        /// The device said it could not read our frame: send it again at once.
        case resendNow(String)
        /// A frame arrived damaged: maybe our reply.
        case damaged(String)
        /// A well-formed frame that is not for us.
        case ignored(String)
    }

    private func classify(_ event: FrameEvent, request: RPCRequest, seq: UInt8) -> Outcome {
        guard case .frame(let frame) = event else { return .damaged("\(event)") }
        if frame.type == MessageType.error {
            guard let error = try? ErrorReply(payload: frame.payload) else {
                return .damaged("an error reply too short to read (seq \(frame.seq))")
            }
            let seen = "an error reply \(error) (seq \(frame.seq))"
            if error.code?.isTransmissionError == true {
                if frame.seq == seq { return .resendNow(seen) }
                // Another seq (0 when the device could not read one, or a seq damaged on the
                // way): it may still have been our request.
                return .damaged(seen)
            }
            guard frame.seq == seq else { return .ignored(seen) }
            return .refused(error)
        }
        guard frame.seq == seq else { return .ignored("a \(frame) for another request") }
        guard frame.type == request.type.replyType else {
            return .ignored("a \(frame) with seq \(seq) that is not a \(request.type) reply")
        }
        return .reply(frame.payload)
    }

    private func takeSeq() -> UInt8 {
        let seq = nextSeq
        // 0 is what an error reply carries when the device could not read a seq: never use it.
        nextSeq = nextSeq == 255 ? 1 : nextSeq + 1
        return seq
    }

    private func withContext<T>(_ type: MessageType, _ seq: UInt8, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as MicrogenError {
            throw MicrogenError(error.kind, "during \(type) (seq \(seq)): \(error.message)")
        }
    }
}

// Typed requests: each checks that the reply answers what was asked.
extension RPCClient {
    public func echo(_ bytes: [UInt8]) throws -> [UInt8] {
        try call(.echo(bytes))
    }

    /// Refuses a device that speaks another protocol version before reading the rest: a later
    /// version may lay INFO out differently.
    public func info() throws -> DeviceInfo {
        let payload = try call(.info)
        if let version = payload.first, version != RPCClient.protocolVersion {
            throw MicrogenError(.mismatch, "the device on \(transport.name) speaks RPC protocol version \(version) but this microgen speaks version \(RPCClient.protocolVersion); rebuild and flash the firmware with this microgen")
        }
        return try DeviceInfo(payload: payload)
    }

    public func tensorInfo(_ direction: TensorDirection, _ index: UInt8) throws -> TensorInfo {
        let reply = try TensorInfo(payload: call(.tensorInfo(direction: direction, index: index)))
        guard reply.direction == direction, reply.index == index else {
            throw MicrogenError(.io, "TENSOR_INFO for \(direction) \(index) was answered for \(reply.direction) \(reply.index)")
        }
        return reply
    }

    public func writeInput(index: UInt8, offset: UInt32, data: [UInt8]) throws {
        let request = RPCRequest.writeInput(index: index, offset: offset, data: data)
        let reply = try WriteInputReply(payload: call(request))
        guard reply == WriteInputReply(index: index, offset: offset, written: UInt16(data.count)) else {
            throw MicrogenError(.io, "\(request) was answered with index \(reply.index), offset \(reply.offset), written \(reply.written)")
        }
    }

    public func run(runs: UInt16, timeout: Double? = nil) throws -> RunReply {
        let reply = try RunReply(payload: call(.run(runs: runs), timeout: timeout))
        guard reply.runs == runs else {
            throw MicrogenError(.io, "RUN of \(runs) run(s) was answered for \(reply.runs) run(s)")
        }
        return reply
    }

    public func readTimings(first: UInt16, count: UInt8) throws -> [UInt64] {
        let reply = try TimingsReply(payload: call(.readTimings(first: first, count: count)))
        guard reply.first == first, reply.ticks.count == Int(count) else {
            throw MicrogenError(.io, "READ_TIMINGS of operators \(first)..<\(Int(first) + Int(count)) was answered for \(reply.first)..<\(Int(reply.first) + reply.ticks.count)")
        }
        return reply.ticks
    }

    public func readOutput(index: UInt8, offset: UInt32, length: UInt16) throws -> [UInt8] {
        let request = RPCRequest.readOutput(index: index, offset: offset, length: length)
        let data = try call(request)
        guard data.count == Int(length) else {
            throw MicrogenError(.io, "\(request) was answered with \(data.count) bytes")
        }
        return data
    }

    public func status() throws -> DeviceStatus {
        try DeviceStatus(payload: call(.status))
    }
}

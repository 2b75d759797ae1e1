import XCTest
import MicrogenIR
@testable import MicrogenHost

/// Framing, CRC and message layouts against bytes built by hand from docs/protocol.md.
final class RPCFrameTests: XCTestCase {
    func testCRCMatchesTheCatalogueCheckValue() {
        XCTAssertEqual(CRC16.ccittFalse(Array("123456789".utf8)), 0x29B1)
        XCTAssertEqual(CRC16.ccittFalse([UInt8]()), 0xFFFF)
    }

    /// ECHO, seq 5, payload 7E 7D 41: both special bytes are escaped. The CRC (0x0195) was computed
    /// independently (Python's binascii.crc_hqx with initial value 0xFFFF).
    func testEchoRequestByteForByte() {
        let expected: [UInt8] = [
            0x7E,                   // flag
            0x01, 0x05, 0x03, 0x00, // type ECHO, seq 5, length 3
            0x7D, 0x5E,             // 0x7E escaped
            0x7D, 0x5D,             // 0x7D escaped
            0x41,
            0x95, 0x01,             // CRC 0x0195, little-endian
            0x7E,                   // flag
        ]
        let request = RPCRequest.echo([0x7E, 0x7D, 0x41])
        XCTAssertEqual(request.frame(seq: 5).encoded(), expected)

        var decoder = FrameDecoder()
        XCTAssertEqual(decoder.feed(expected), [.frame(Frame(type: 0x01, seq: 5, payload: [0x7E, 0x7D, 0x41]))])
        XCTAssertEqual(try RPCRequest(type: 0x01, payload: [0x7E, 0x7D, 0x41]), request)
    }

    /// An INFO reply whose arena size and build id contain 0x7D and 0x7E. CRC 0xC0B7 computed
    /// independently as above.
    func testInfoReplyByteForByte() throws {
        let expected: [UInt8] = [
            0x7E,
            0x82, 0x05, 0x26, 0x00,             // INFO reply, seq 5, 38 payload bytes
            0x01, 0x01, 0x01, 0x00,             // version 1, 1 input, 1 output, flags 0
            0x0D, 0x00,                         // 13 operators
            0x00, 0x7D, 0x5D, 0x00, 0x00,       // arena 0x7D00 (0x7D escaped)
            0x00, 0xCA, 0x9A, 0x3B,             // counter 1e9 Hz
            0x00, 0x00, 0x00, 0x00,             // instructions per tick 0
            0x34, 0x12, 0x5A, 0x7D, 0x5E,       // build id 0x7E5A1234 (0x7E escaped)
            0x03, 0x6B, 0x77, 0x73,             // "kws"
            0x04, 0x68, 0x6F, 0x73, 0x74,       // "host"
            0x06, 0x78, 0x38, 0x36, 0x5F, 0x36, 0x34, // "x86_64"
            0xB7, 0xC0,                         // CRC 0xC0B7
            0x7E,
        ]
        let info = DeviceInfo(protocolVersion: 1, inputs: 1, outputs: 1, flags: 0, operators: 13, arenaSize: 0x7D00,
                              counterHz: 1_000_000_000, instructionsPerTick: 0, buildID: 0x7E5A_1234,
                              modelName: "kws", board: "host", core: "x86_64")
        XCTAssertEqual(Frame(type: MessageType.info.replyType, seq: 5, payload: info.encoded()).encoded(), expected)

        var decoder = FrameDecoder()
        let events = decoder.feed(expected)
        guard case .frame(let frame)? = events.first, events.count == 1 else { return XCTFail("\(events)") }
        XCTAssertEqual(frame.type, 0x82)
        XCTAssertEqual(frame.seq, 5)
        XCTAssertEqual(try DeviceInfo(payload: frame.payload), info)
    }

    func testDecoderReportsDamageAndResynchronizesAtTheNextFlag() {
        let good = Frame(type: 0x88, seq: 9, payload: [1, 2, 3]).encoded()
        var badCRC = good
        badCRC[6] ^= 0x01
        let lengthLies = Frame(type: 0x81, seq: 1, payload: [9, 9]).body
        var lying = lengthLies
        lying[2] = 5
        var stream: [UInt8] = [0x13, 0x37]            // noise before the first flag: not reported
        stream += good
        stream += [0x7E, 0x7E, 0x7E]                  // extra flags: ignored
        stream += badCRC
        stream += [0x7E, 0x01, 0x02, 0x7E]            // too short
        stream += [0x7E, 0x01, 0x7D, 0x41, 0x02, 0x03, 0x04, 0x05, 0x7E] // bad escape
        stream += [0x7E] + lying + [0x7E]
        stream += [0x7E, 0x01, 0x02, 0x7D, 0x7E]      // escape right before the flag
        stream += [0x7E] + [UInt8](repeating: 0x55, count: 400) + [0x7E]
        stream += good
        var decoder = FrameDecoder()
        let events = decoder.feed(stream)
        let kinds = events.map { event -> String in
            switch event {
            case .frame: return "frame"
            case .badCRC: return "crc"
            case .badFrame: return "bad"
            case .frameTooLong: return "long"
            }
        }
        XCTAssertEqual(kinds, ["frame", "crc", "bad", "bad", "bad", "bad", "long", "frame"])
        XCTAssertEqual(events.first, .frame(Frame(type: 0x88, seq: 9, payload: [1, 2, 3])))
        XCTAssertEqual(events.last, events.first)
        if case .badFrame(let reason) = events[4] { XCTAssertTrue(reason.contains("length field says 5"), reason) }
    }

    func testDecoderAcceptsTheLargestFrameAndAnyChunking() {
        let big = Frame(type: 0x87, seq: 200, payload: (0..<256).map { UInt8($0) })
        let wire = big.encoded()
        for chunk in [1, 2, 7, 64, wire.count] {
            var decoder = FrameDecoder()
            var events: [FrameEvent] = []
            var i = 0
            while i < wire.count {
                events += decoder.feed(wire[i..<min(i + chunk, wire.count)])
                i += chunk
            }
            XCTAssertEqual(events, [.frame(big)], "chunk \(chunk)")
        }
        // One payload byte more than the protocol allows.
        var decoder = FrameDecoder()
        let tooBig = [Frame.flag] + Frame(type: 0x87, seq: 1, payload: [UInt8](repeating: 1, count: 200)).body
            + [UInt8](repeating: 1, count: 57) + [Frame.flag]
        XCTAssertEqual(decoder.feed(tooBig), [.frameTooLong])
    }

    /// Random noise never traps the decoder, and every single-bit error or lost byte in a frame is caught.
    func testNoiseAndSingleErrorsNeverYieldAWrongFrame() {
        var random = SplitMix64(seed: 42)
        var decoder = FrameDecoder()
        for _ in 0..<200 {
            let noise = (0..<random.next(below: 600)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = decoder.feed(noise)
        }
        let frame = Frame(type: 0x87, seq: 3, payload: (0..<40).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let wire = frame.encoded()
        for index in wire.indices {
            for bit in 0..<8 {
                var damaged = wire
                damaged[index] ^= UInt8(1 << bit)
                var d = FrameDecoder()
                let events = d.feed([Frame.flag] + damaged + [Frame.flag])
                XCTAssertFalse(events.contains { if case .frame(let f) = $0 { return f != frame } else { return false } }, "bit \(bit) of byte \(index)")
            }
            var dropped = wire
            dropped.remove(at: index)
            var d = FrameDecoder()
            let events = d.feed([Frame.flag] + dropped + [Frame.flag])
            XCTAssertFalse(events.contains { if case .frame(let f) = $0 { return f != frame } else { return false } }, "dropped byte \(index)")
        }
    }

    func testRequestsRoundTrip() throws {
        let requests: [RPCRequest] = [
            .echo([]), .echo([0x7E]), .info, .tensorInfo(direction: .output, index: 2),
            .writeInput(index: 1, offset: 0x0102_0304, data: [9, 8, 7]), .run(runs: 1000),
            .readTimings(first: 30, count: 30), .readOutput(index: 0, offset: 256, length: 256), .status,
        ]
        for request in requests {
            var decoder = FrameDecoder()
            guard case .frame(let frame)? = decoder.feed(request.frame(seq: 77).encoded()).first else { return XCTFail("\(request)") }
            XCTAssertEqual(try RPCRequest(type: frame.type, payload: frame.payload), request)
        }
        XCTAssertEqual(RPCRequest.writeInput(index: 1, offset: 0x0102_0304, data: [9]).payload, [1, 4, 3, 2, 1, 9])
        XCTAssertEqual(RPCRequest.readOutput(index: 2, offset: 5, length: 256).payload, [2, 5, 0, 0, 0, 0, 1])
        XCTAssertEqual(RPCRequest.readTimings(first: 0x0102, count: 30).payload, [2, 1, 30])
    }

    func testRepliesRoundTripAndRefuseShortOrLongPayloadsClearly() throws {
        let tensor = TensorInfo(direction: .input, index: 0, dtypeCode: 1, dims: [1, 49, 10, 1], scale: 0.5, zeroPoint: -128, size: 490)
        XCTAssertEqual(try TensorInfo(payload: tensor.encoded()), tensor)
        XCTAssertEqual(tensor.dataType, .int8)
        XCTAssertEqual(tensor.typeAndShape, "int8 [1, 49, 10, 1]")
        let run = RunReply(runs: 3, operators: 13, total: 0x0102_0304_0506_0708)
        XCTAssertEqual(try RunReply(payload: run.encoded()), run)
        let timings = TimingsReply(first: 30, ticks: [1, UInt64.max])
        XCTAssertEqual(try TimingsReply(payload: timings.encoded()), timings)
        let status = DeviceStatus(stackHighWater: 100, stackSize: 4096, runsCompleted: 7, lastError: 2)
        XCTAssertEqual(try DeviceStatus(payload: status.encoded()), status)
        let error = ErrorReply(code: .badOffset, requestType: 4, reason: "past the end of the input")
        XCTAssertEqual(try ErrorReply(payload: error.encoded()), error)
        XCTAssertEqual("\(error)", "BAD_OFFSET: past the end of the input")

        let info = DeviceInfo(protocolVersion: 1, inputs: 1, outputs: 1, flags: 3, operators: 2, arenaSize: 1, counterHz: 2,
                              instructionsPerTick: 40, buildID: 5, modelName: "m", board: "b", core: "c")
        let full = info.encoded()
        for length in 0..<full.count {
            XCTAssertThrowsError(try DeviceInfo(payload: Array(full.prefix(length)))) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("malformed INFO reply") && text.contains("payload ends"), text)
            }
        }
        XCTAssertThrowsError(try DeviceInfo(payload: full + [0])) { XCTAssertTrue("\($0)".contains("unexpected byte"), "\($0)") }
        XCTAssertThrowsError(try TensorInfo(payload: [0, 0, 1, 7] + [UInt8](repeating: 0, count: 40))) {
            XCTAssertTrue("\($0)".contains("rank 7"), "\($0)")
        }
        XCTAssertThrowsError(try TensorInfo(payload: [2, 0, 1, 0] + [UInt8](repeating: 0, count: 12))) {
            XCTAssertTrue("\($0)".contains("direction 2"), "\($0)")
        }
        XCTAssertThrowsError(try TimingsReply(payload: [0, 0, 3] + [UInt8](repeating: 0, count: 16))) {
            XCTAssertTrue("\($0)".contains("ticks[2]"), "\($0)")
        }
        XCTAssertThrowsError(try DeviceStatus(payload: [1, 2, 3])) { XCTAssertTrue("\($0)".contains("STATUS reply"), "\($0)") }
    }

    func testTypeNames() {
        XCTAssertEqual(MessageType.describe(0x05), "RUN")
        XCTAssertEqual(MessageType.describe(0x85), "RUN reply")
        XCTAssertEqual(MessageType.describe(0xFF), "ERROR")
        XCTAssertEqual(MessageType.describe(0x42), "unknown type 0x42")
        XCTAssertEqual(WireDataType.dataType(code: 2), .float32)
        XCTAssertEqual(WireDataType.code(of: .int8), 1)
    }
}

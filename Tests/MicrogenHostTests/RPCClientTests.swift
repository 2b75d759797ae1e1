import XCTest
import MicrogenIR
@testable import MicrogenHost

/// A line whose replies a test writes by hand: it records every frame the client sends.
final class ScriptedTransport: Transport {
    var name: String { "the scripted line" }
    private(set) var sent: [Frame] = []
    private var decoder = FrameDecoder()
    private var pending: [UInt8] = []
    /// Bytes to deliver in answer to each request frame.
    var respond: (Frame) -> [UInt8]

    init(respond: @escaping (Frame) -> [UInt8]) {
        self.respond = respond
    }

    func write(_ bytes: [UInt8]) throws {
        for case .frame(let frame) in decoder.feed(bytes) {
            sent.append(frame)
            pending += respond(frame)
        }
    }

    func read(maxCount: Int, deadline: Deadline) throws -> [UInt8] {
        if pending.isEmpty {
            PosixIO.sleep(until: deadline)
            return []
        }
        let count = min(maxCount, pending.count)
        defer { pending.removeFirst(count) }
        return Array(pending[0..<count])
    }

    func close() {}
}

final class RPCClientTests: XCTestCase {
    static let fast = RPCClient.Options(replyTimeout: 0.3, attempts: 3, settleTime: 0.05, initialSeq: 1)
    /// For the fault matrices: the in-process device answers at once.
    static let faster = RPCClient.Options(replyTimeout: 0.2, attempts: 3, settleTime: 0.03, initialSeq: 1)

    static let inputs: [[UInt8]] = [
        (0..<400).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) },
        [Float(1.5), -2.25, 0x7E].flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } },
    ]
    static let inputSpecs: [(dataType: DataType, shape: [Int])] = [(.int8, [1, 20, 20, 1]), (.float32, [1, 3])]

    func testWholeSessionAgainstTheFakeDevice() throws {
        let device = FakeDevice()
        let session = DeviceSession(transport: device, options: Self.fast)
        let description = try session.verify(expectedName: "fake_model", inputs: Self.inputSpecs, expectedBuildID: 0xB17D_0001)
        XCTAssertEqual(description.inputs.map(\.size), [400, 12])
        XCTAssertEqual(description.outputs.map(\.shape), [[1, 300]])
        XCTAssertEqual(description.info.board, "fake")

        let result = try session.infer(inputs: Self.inputs, runs: 3)
        XCTAssertEqual(result.outputs, FakeDevice.expectedOutputs(inputs: Self.inputs))
        XCTAssertEqual(result.timings.runs, 3)
        XCTAssertEqual(result.timings.operatorTicks, (0..<45).map { UInt64($0 + 1) * 3 })
        XCTAssertEqual(result.timings.overheadTicks, 15)
        XCTAssertEqual(result.status.runsCompleted, 4, "one warm-up run on a fresh device, then 3")

        // Uploads are cut at 251 bytes and reads at 256; timings are read 30 operators at a time.
        // The inputs go up again before every run: the plan may have overwritten them.
        let writes = device.requestsSeen.compactMap { request -> String? in
            if case .writeInput(let index, let offset, let data) = request { return "\(index)@\(offset)+\(data.count)" }
            return nil
        }
        XCTAssertEqual(writes, Array(repeatElement(["0@0+251", "0@251+149", "1@0+12"], count: 3).joined()))
        let reads = device.requestsSeen.compactMap { request -> String? in
            switch request {
            case .readOutput(let index, let offset, let length): return "out\(index)@\(offset)+\(length)"
            case .readTimings(let first, let count): return "t\(first)+\(count)"
            default: return nil
            }
        }
        XCTAssertEqual(reads, Array(repeatElement(["t0+30", "t30+15"], count: 3).joined()) + ["out0@0+256", "out0@256+44"])
        let runs = device.requestsSeen.compactMap { request -> UInt16? in
            if case .run(let runs) = request { return runs }
            return nil
        }
        XCTAssertEqual(runs, [1, 1, 1, 1], "the warm-up run, then one run per upload")
        XCTAssertEqual(session.client.retries, 0)
        XCTAssertEqual(try session.client.echo([0x7E, 0x7D, 0, 255]), [0x7E, 0x7D, 0, 255])
    }

    func testVerifyRefusesAWrongDeviceClearly() throws {
        func refusal(_ model: FakeDevice.Model = FakeDevice.Model(), name: String = "fake_model",
                     inputs: [(dataType: DataType, shape: [Int])] = RPCClientTests.inputSpecs, buildID: UInt32? = nil) -> String {
            let session = DeviceSession(transport: FakeDevice(model: model), options: Self.fast)
            do {
                _ = try session.verify(expectedName: name, inputs: inputs, expectedBuildID: buildID)
                return "accepted"
            } catch let error as MicrogenError {
                XCTAssertEqual(error.kind, .mismatch)
                return error.message
            } catch {
                return "unexpected \(error)"
            }
        }
        var version1 = FakeDevice.Model()
        version1.protocolVersion = 1
        XCTAssertTrue(refusal(version1).contains("speaks RPC protocol version 1 but this microgen speaks version 2"), refusal(version1))
        XCTAssertTrue(refusal(name: "kws").contains("runs model 'fake_model' (board fake) but you asked to run 'kws'"), refusal(name: "kws"))
        XCTAssertTrue(refusal(buildID: 1).contains("build id 0xb17d0001, expected 0x1"), refusal(buildID: 1))
        let wrongType = refusal(inputs: [(.float32, [1, 20, 20, 1]), (.float32, [1, 3])])
        XCTAssertTrue(wrongType.contains("input 0 of 'fake_model' is int8 [1, 20, 20, 1] on the device but float32 [1, 20, 20, 1] was given"), wrongType)
        let wrongShape = refusal(inputs: [(.int8, [1, 20, 20, 1]), (.float32, [3])])
        XCTAssertTrue(wrongShape.contains("input 1 of 'fake_model' is float32 [1, 3] on the device but float32 [3] was given"), wrongShape)
        XCTAssertTrue(refusal(inputs: [(.int8, [1, 20, 20, 1])]).contains("2 input(s) on the device but 1 were given"))
        XCTAssertEqual(refusal(), "accepted")
    }

    func testErrorRepliesBecomeClearErrors() throws {
        let device = FakeDevice()
        let session = DeviceSession(transport: device, options: Self.fast)
        try session.info()
        XCTAssertThrowsError(try session.client.readOutput(index: 3, offset: 0, length: 4)) { error in
            XCTAssertEqual("\(error)", "I/O error: the fake device: the device refused READ_OUTPUT (seq 5) with BAD_INDEX: no such output (request: READ_OUTPUT of 4 bytes at offset 0 of output 3)")
        }
        device.refuse[.run] = .modelError
        XCTAssertThrowsError(try session.run(runs: 2)) { XCTAssertTrue("\($0)".contains("RUN (seq 6) with MODEL_ERROR: refused on purpose"), "\($0)") }
        XCTAssertThrowsError(try session.writeInput(0, [1, 2, 3])) { XCTAssertTrue("\($0)".contains("input 0 is int8 [1, 20, 20, 1], 400 bytes on the device, but 3 bytes were given"), "\($0)") }
        XCTAssertThrowsError(try session.readOutput(1)) { XCTAssertTrue("\($0)".contains("there is no output 1"), "\($0)") }
        XCTAssertThrowsError(try session.run(runs: 0)) { XCTAssertTrue("\($0)".contains("between 1 and 65535"), "\($0)") }
        XCTAssertEqual(session.client.retries, 0, "refusals are final, not retried")
    }

    func testMalformedReplyIsAClearError() throws {
        let device = FakeDevice()
        device.shortReplies[.status] = 9
        let session = DeviceSession(transport: device, options: Self.fast)
        XCTAssertThrowsError(try session.status()) { error in
            XCTAssertTrue("\(error)".contains("malformed STATUS reply: the payload ends (9 bytes) before runs_completed"), "\(error)")
        }
        device.shortReplies = [.writeInput: 0]
        XCTAssertThrowsError(try session.writeInput(1, [UInt8](repeating: 0, count: 12))) { XCTAssertTrue("\($0)".contains("malformed WRITE_INPUT reply"), "\($0)") }
    }

    func testASilentDeviceFailsAfterThreeAttemptsWithinTheDeadline() throws {
        let device = FakeDevice()
        device.answering = false
        let client = RPCClient(transport: device, options: Self.fast)
        let start = Deadline.now
        XCTAssertThrowsError(try client.status()) { error in
            XCTAssertEqual("\(error)", "I/O error: the fake device: the device did not answer STATUS (seq 1) after 3 attempts of 0.3 s; the last thing seen was nothing (request: STATUS)")
        }
        let elapsed = Double(Deadline.now.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        XCTAssertGreaterThanOrEqual(elapsed, 0.9)
        XCTAssertLessThan(elapsed, 1.3)
        XCTAssertEqual(client.retries, 2)

        // RUN waits as long as the caller says, per attempt.
        let runStart = Deadline.now
        XCTAssertThrowsError(try client.run(runs: 1, timeout: 0.5)) { XCTAssertTrue("\($0)".contains("did not answer RUN (seq 2) after 3 attempts of 0.5 s"), "\($0)") }
        let runElapsed = Double(Deadline.now.uptimeNanoseconds - runStart.uptimeNanoseconds) / 1e9
        XCTAssertGreaterThanOrEqual(runElapsed, 1.5)
        XCTAssertLessThan(runElapsed, 1.9)
    }

    func testRepliesForOtherRequestsAreDiscardedAndSeqSkipsZero() throws {
        let status = DeviceStatus(stackHighWater: 1, stackSize: 2, runsCompleted: 3, lastError: 0)
        let line = ScriptedTransport { request in
            // A late reply for the previous seq, an INFO reply with our seq, an unrelated error,
            // then the real reply.
            Frame(type: 0x88, seq: request.seq &- 1, payload: DeviceStatus(stackHighWater: 9, stackSize: 9, runsCompleted: 9, lastError: 9).encoded()).encoded()
                + Frame(type: 0x82, seq: request.seq, payload: [1]).encoded()
                + Frame(type: 0xFF, seq: request.seq &+ 1, payload: ErrorReply(code: .badIndex, requestType: 8, reason: "x").encoded()).encoded()
                + Frame(type: 0x88, seq: request.seq, payload: status.encoded()).encoded()
        }
        var options = Self.fast
        options.initialSeq = 255
        let client = RPCClient(transport: line, options: options)
        XCTAssertEqual(try client.status(), status)
        XCTAssertEqual(try client.status(), status)
        XCTAssertEqual(line.sent.map(\.seq), [255, 1])
        XCTAssertEqual(client.discardedFrames, 6)
        XCTAssertEqual(client.retries, 0)
    }

    func testTransmissionErrorRepliesAreRetriedWithTheSameSeq() throws {
        var calls = 0
        let line = ScriptedTransport { request in
            calls += 1
            if calls < 3 {
                return Frame(type: 0xFF, seq: request.seq, payload: ErrorReply(code: calls == 1 ? .badCRC : .badFrame, requestType: request.type, reason: "noise").encoded()).encoded()
            }
            return Frame(type: 0x81, seq: request.seq, payload: request.payload).encoded()
        }
        let client = RPCClient(transport: line, options: Self.fast)
        let start = Deadline.now
        XCTAssertEqual(try client.echo([1, 2, 3]), [1, 2, 3])
        XCTAssertLessThan(Double(Deadline.now.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9, 0.2, "resent at once, not after a timeout")
        XCTAssertEqual(line.sent.map(\.seq), [1, 1, 1])
        XCTAssertEqual(client.retries, 2)

        calls = -10
        XCTAssertThrowsError(try client.echo([4])) { error in
            XCTAssertTrue("\(error)".contains("did not answer ECHO (seq 2) after 3 attempts of 0.3 s; the last thing seen was an error reply BAD_FRAME: noise (seq 2)"), "\(error)")
        }
    }

    // MARK: - Faults against the fake device

    struct Outcome {
        var result: Result<DeviceInference, Error>
        var seconds: Double
        var log: [String]
    }

    static func infer(_ rules: [FaultInjectingTransport.Rule], seed: UInt64, connect: @escaping () throws -> any Transport,
                      options: RPCClient.Options = fast, runs: Int = 2, inputs: [[UInt8]] = inputs) throws -> Outcome {
        let line = try FaultInjectingTransport(seed: seed, rules: rules, connect: connect)
        defer { line.close() }
        let session = DeviceSession(transport: line, options: options)
        let start = Deadline.now
        let result = Result { try session.infer(inputs: inputs, runs: runs) }
        return Outcome(result: result, seconds: Double(Deadline.now.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9, log: line.log)
    }

    /// Checks the fault contract on one outcome: the exact outputs, or a clear MicrogenError, in
    /// bounded time. Returns whether it succeeded.
    @discardableResult
    static func check(_ outcome: Outcome, expected: [[UInt8]], timeLimit: Double, _ label: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        XCTAssertLessThan(outcome.seconds, timeLimit, "\(label): took \(outcome.seconds) s; faults \(outcome.log)", file: file, line: line)
        switch outcome.result {
        case .success(let inference):
            XCTAssertEqual(inference.outputs, expected, "\(label): WRONG OUTPUT; faults \(outcome.log)", file: file, line: line)
            return true
        case .failure(let error):
            guard let error = error as? MicrogenError else {
                XCTFail("\(label): not a MicrogenError: \(error)", file: file, line: line)
                return false
            }
            XCTAssertFalse(error.message.isEmpty, file: file, line: line)
            return false
        }
    }

    /// One fault of each kind, in each direction, at several points of the session: every
    /// transmission fault is survived by retrying; stopping is a clear error; a restart is
    /// either harmless (before anything was uploaded) or detected.
    func testEverySingleFaultIsSurvivedOrReported() throws {
        let expected = FakeDevice.expectedOutputs(inputs: Self.inputs)
        // The session is 17 frames each way: INFO, 3 TENSOR_INFO, STATUS, a warm-up RUN, STATUS,
        // 3 WRITE_INPUT, STATUS, RUN, 2 READ_TIMINGS, 2 READ_OUTPUT, STATUS.
        for kind in FaultInjectingTransport.Kind.allCases {
            for direction in FaultInjectingTransport.Direction.allCases {
                for frame in kind == .stopAnswering ? [0, 9, 16] : [0, 5, 8, 11, 16] {
                    let label = "\(kind) \(direction) frame \(frame)"
                    let outcome = try Self.infer([.init(kind, direction, frames: [frame])], seed: UInt64(frame) * 31 + 7,
                                                 connect: { FakeDevice() }, options: Self.faster)
                    let ok = Self.check(outcome, expected: expected, timeLimit: 3 * 0.2 + 0.5, label)
                    switch kind {
                    case .stopAnswering:
                        XCTAssertFalse(ok, label)
                        if case .failure(let error) = outcome.result { XCTAssertTrue("\(error)".contains("did not answer"), "\(label): \(error)") }
                    case .restart:
                        if case .failure(let error) = outcome.result { XCTAssertTrue("\(error)".contains("restarted"), "\(label): \(error)") }
                        // Up to the warm-up run the device holds nothing worth losing; from the
                        // first upload on, a restart must be caught.
                        if frame >= 7 { XCTAssertFalse(ok, "\(label): a restart after the upload began went unnoticed") }
                    default:
                        if case .failure(let error) = outcome.result { XCTFail("\(label): a single fault should be survived: \(error); faults \(outcome.log)") }
                    }
                }
            }
        }
    }

    /// Many random faults at once: never a wrong output, never past the deadline.
    func testRandomFaultStormsNeverGiveAWrongOutput() throws {
        let expected = FakeDevice.expectedOutputs(inputs: Self.inputs)
        let kinds: [FaultInjectingTransport.Kind] = [.flipBit, .dropByte, .truncateFrame, .duplicateFrame, .insertGarbage]
        var succeeded = 0
        for seed in UInt64(1)...6 {
            let rules = kinds.flatMap { kind in FaultInjectingTransport.Direction.allCases.map { FaultInjectingTransport.Rule(kind, $0, probability: 0.03) } }
            let outcome = try Self.infer(rules, seed: seed, connect: { FakeDevice() }, options: Self.faster)
            // Each of the 17 requests can take at most three attempts.
            if Self.check(outcome, expected: expected, timeLimit: 17 * 3 * 0.2, "seed \(seed)") { succeeded += 1 }
        }
        XCTAssertGreaterThan(succeeded, 3)
    }
}

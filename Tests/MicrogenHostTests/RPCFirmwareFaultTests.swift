import XCTest
import Foundation
import MicrogenIR
import MicrogenProject
@testable import MicrogenHost
#if canImport(Glibc)
import Glibc
#endif

/// The host firmware for the keyword-spotting reference model, built once for all these tests.
private final class KWSFirmware: @unchecked Sendable {
    static let shared = KWSFirmware()
    private let lock = NSLock()
    private var built: Result<(executable: String, input: [UInt8], output: [UInt8]), Error>?
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("microgen-r2-kws-\(getpid())").path

    func get() throws -> (executable: String, input: [UInt8], output: [UInt8]) {
        lock.lock()
        defer { lock.unlock() }
        if built == nil {
            built = Result {
                let models = TestPaths.models
                let model = try ModelBuilder.compile(path: models + "/kws_ref_model.tflite")
                let firmware = try HostFirmware.build(model, in: directory)
                let input = try Npy.read(path: models + "/vectors/kws_ref_model/case0_input0.npy")
                let output = try Npy.read(path: models + "/vectors/kws_ref_model/case0_output0.npy")
                return (firmware.executable, input.data, output.data)
            }
        }
        return try built!.get()
    }
}

/// The real C runtime (the host firmware of kws_ref_model) through a child process, with faults
/// injected on the line: the result is the TFLite Micro reference output exactly, or a clear
/// error, in bounded time.
final class RPCFirmwareFaultTests: XCTestCase {
    /// Short deadlines keep the suite fast; the host firmware answers in milliseconds, but the
    /// machine may be busy, so not too short.
    static let options = RPCClient.Options(replyTimeout: 0.3, attempts: 3, settleTime: 0.05, initialSeq: 1)

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: KWSFirmware.shared.directory)
        super.tearDown()
    }

    private func firmware() throws -> (executable: String, input: [UInt8], output: [UInt8]) {
        do {
            return try KWSFirmware.shared.get()
        } catch {
            XCTFail("cannot build the kws host firmware: \(error)")
            throw error
        }
    }

    func testTheHostFirmwareAnswersEverythingAndMatchesTheReference() throws {
        let kws = try firmware()
        let line = try ProcessTransport(executable: kws.executable, name: "the kws host firmware")
        defer { line.close() }
        let session = DeviceSession(transport: line, options: Self.options)
        let device = try session.verify(expectedName: "kws_ref_model", inputs: [(.int8, [1, 49, 10, 1])])
        XCTAssertEqual(device.info.protocolVersion, 2)
        XCTAssertEqual(device.info.counterHz, 1_000_000_000)
        XCTAssertEqual(device.inputs.first?.size, 490)
        XCTAssertEqual(device.outputs.first?.shape, [1, 12])
        XCTAssertGreaterThan(device.info.operators, 0)

        let result = try session.infer(inputs: [kws.input], runs: 3)
        XCTAssertEqual(result.outputs, [kws.output], "the device's output must be the TFLite Micro reference, bit for bit")
        XCTAssertEqual(result.timings.operatorTicks.count, Int(device.info.operators))
        XCTAssertGreaterThan(result.timings.totalTicks, 0)
        XCTAssertGreaterThanOrEqual(result.timings.totalTicks, result.timings.operatorTicks.reduce(0, +))
        XCTAssertEqual(result.status.runsCompleted, 4)
        XCTAssertEqual(try session.client.echo([0x7E, 0x7D, 0x00]), [0x7E, 0x7D, 0x00])

        // Refusals from the real runtime carry its code and reason.
        XCTAssertThrowsError(try session.client.readOutput(index: 0, offset: 10, length: 3)) {
            XCTAssertTrue("\($0)".contains("BAD_OFFSET"), "\($0)")
        }
        XCTAssertThrowsError(try session.client.tensorInfo(.input, 4)) { XCTAssertTrue("\($0)".contains("BAD_INDEX"), "\($0)") }
        XCTAssertThrowsError(try session.verify(expectedName: "vww", inputs: [(.int8, [1, 49, 10, 1])])) {
            XCTAssertTrue("\($0)".contains("runs model 'kws_ref_model'"), "\($0)")
        }
        XCTAssertThrowsError(try session.verify(expectedName: "kws_ref_model", inputs: [(.float32, [1, 49, 10, 1])])) {
            XCTAssertTrue("\($0)".contains("is int8 [1, 49, 10, 1] on the device but float32"), "\($0)")
        }
    }

    func testAFirmwareThatDiesMidSessionIsReportedClearly() throws {
        let kws = try firmware()
        let line = try ProcessTransport(executable: kws.executable, name: "the kws host firmware")
        defer { line.close() }
        let session = DeviceSession(transport: line, options: Self.options)
        try session.info()
        kill(line.processID, SIGKILL)
        let start = Deadline.now
        XCTAssertThrowsError(try session.status()) { error in
            XCTAssertTrue("\(error)".contains("during STATUS (seq 4)"), "\(error)")
            XCTAssertTrue("\(error)".contains("was killed by signal 9"), "\(error)")
        }
        XCTAssertLessThan(Double(Deadline.now.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9, 1)
    }

    /// One fault of every kind in each direction at many points of the session, against the
    /// real runtime.
    func testEverySingleFaultAgainstTheRealFirmware() throws {
        let kws = try firmware()
        let connect: () throws -> any Transport = { try ProcessTransport(executable: kws.executable, name: "the kws host firmware") }
        // The session is 13 frames each way: INFO, 2 TENSOR_INFO, STATUS, a warm-up RUN, STATUS,
        // 2 WRITE_INPUT, STATUS, RUN, READ_TIMINGS, READ_OUTPUT, STATUS.
        for kind in FaultInjectingTransport.Kind.allCases {
            for direction in FaultInjectingTransport.Direction.allCases {
                for frame in kind == .stopAnswering ? [0, 7, 12] : [0, 4, 6, 7, 9, 10, 11, 12] {
                    let label = "\(kind) \(direction) frame \(frame)"
                    let outcome = try RPCClientTests.infer([.init(kind, direction, frames: [frame])], seed: UInt64(frame) &* 7919 &+ 1,
                                                           connect: connect, options: Self.options, inputs: [kws.input])
                    let ok = RPCClientTests.check(outcome, expected: [kws.output], timeLimit: 3 * 0.3 + 1.0, label)
                    switch kind {
                    case .stopAnswering:
                        XCTAssertFalse(ok, label)
                    case .restart:
                        if case .failure(let error) = outcome.result { XCTAssertTrue("\(error)".contains("restarted"), "\(label): \(error)") }
                        if frame >= 6 { XCTAssertFalse(ok, "\(label): a restart after the upload began went unnoticed") }
                    default:
                        if case .failure(let error) = outcome.result { XCTFail("\(label): a single fault should be survived: \(error); faults \(outcome.log)") }
                    }
                }
            }
        }
    }

    /// Random storms of transmission faults in both directions.
    func testRandomFaultStormsAgainstTheRealFirmware() throws {
        let kws = try firmware()
        let connect: () throws -> any Transport = { try ProcessTransport(executable: kws.executable, name: "the kws host firmware") }
        let kinds: [FaultInjectingTransport.Kind] = [.flipBit, .dropByte, .truncateFrame, .duplicateFrame, .insertGarbage]
        let rules = kinds.flatMap { kind in FaultInjectingTransport.Direction.allCases.map { FaultInjectingTransport.Rule(kind, $0, probability: 0.025) } }
        var succeeded = 0
        for seed in UInt64(1)...8 {
            let outcome = try RPCClientTests.infer(rules, seed: seed, connect: connect, options: Self.options, inputs: [kws.input])
            if RPCClientTests.check(outcome, expected: [kws.output], timeLimit: 13 * 3 * 0.3 + 1, "seed \(seed)") { succeeded += 1 }
        }
        // Three sends per request do not survive every storm; most runs should.
        XCTAssertGreaterThanOrEqual(succeeded, 4)
    }
}

import Foundation
import XCTest
import MicrogenIR
import MicrogenFrontend
import MicrogenCodegen
@testable import MicrogenProject

/// The RPC runtime end to end: the keyword-spotting reference model built into the host
/// firmware and driven over its stdin/stdout with frames the test encodes itself.
final class RuntimeHostFirmwareTests: XCTestCase {
    static let modelPath = ProjectTestSupport.modelPath("kws_ref_model")
    static let vectors = ProjectTestSupport.vectors("kws_ref_model")

    private func compileKws() throws -> CompiledModel {
        let graph = try TFLiteImporter.load(path: Self.modelPath)
        return try ModelCompiler.compile(graph, options: CompileOptions(name: "kws", kernelsDirectory: try Resources.kernelsDirectory()))
    }

    /// Uploads case 0's input in chunks, runs, and checks the output against TFLM's.
    private func uploadRunAndCheck(_ firmware: RuntimeFirmwareProcess, runs: Int = 1) throws -> (operators: Int, total: UInt64) {
        let input = try runtimeLoadNpy(Self.vectors + "/case0_input0.npy")
        let expected = try runtimeLoadNpy(Self.vectors + "/case0_output0.npy")
        XCTAssertEqual(input.descr, "|i1")
        XCTAssertEqual(input.data.count, 490)
        var offset = 0
        while offset < input.data.count {
            let chunk = Array(input.data[offset..<min(offset + 251, input.data.count)])
            let reply = try firmware.request(0x04, [0] + runtimeLE32(offset) + chunk)
            XCTAssertEqual(reply.type, 0x84, reply.errorReason)
            XCTAssertEqual(reply.payload, [0] + runtimeLE32(offset) + runtimeLE16(chunk.count))
            offset += chunk.count
        }

        let run = try firmware.request(0x05, runtimeLE16(runs))
        XCTAssertEqual(run.type, 0x85, run.errorReason)
        var r = RuntimeReader(run.payload)
        XCTAssertEqual(r.u16(), runs)
        let operators = r.u16()
        let total = r.u64()
        XCTAssertTrue(r.isAtEnd)

        let output = try firmware.request(0x07, [0] + runtimeLE32(0) + runtimeLE16(12))
        XCTAssertEqual(output.type, 0x87, output.errorReason)
        XCTAssertEqual(output.payload, expected.data, "output differs from TFLM's")
        return (operators, total)
    }

    func testKwsOverRPCMatchesReferenceAndTimesOperators() throws {
        let model = try compileKws()
        let scratch = try runtimeScratchDirectory(self, "kws")
        let build = try HostFirmware.build(model, in: scratch + "/firmware")
        let firmware = try RuntimeFirmwareProcess(executable: build.executable, scratch: scratch)

        // ECHO, with bytes that must be stuffed.
        let echoed: [UInt8] = [0x7E, 0x7D, 0x00, 0xFF, 0x5E, 0x5D, 0x7E]
        let echo = try firmware.request(0x01, echoed)
        XCTAssertEqual(echo.type, 0x81)
        XCTAssertEqual(echo.payload, echoed)

        // INFO
        let info = try firmware.request(0x02)
        XCTAssertEqual(info.type, 0x82, info.errorReason)
        var r = RuntimeReader(info.payload)
        XCTAssertEqual(r.u8(), 2, "protocol version")
        XCTAssertEqual(r.u8(), 1, "inputs")
        XCTAssertEqual(r.u8(), 1, "outputs")
        XCTAssertEqual(r.u8(), 0, "flags: no cycle counter, no icount, inputs not preserved")
        XCTAssertEqual(r.u16(), model.operators.count)
        XCTAssertEqual(Int(r.u32()), model.plan.arenaSize)
        XCTAssertEqual(r.u32(), 1_000_000_000, "counter_hz")
        XCTAssertEqual(r.u32(), 0, "instructions_per_tick")
        let header = try XCTUnwrap(model.files.first { $0.name == "kws.h" }).contents
        XCTAssertTrue(header.contains("#define MG_KWS_BUILD_ID 0x\(String(r.u32(), radix: 16))u"), "build id")
        XCTAssertEqual(r.string(), "kws")
        XCTAssertEqual(r.string(), "host")
        XCTAssertFalse(r.string().isEmpty, "core name")
        XCTAssertTrue(r.isAtEnd)

        // TENSOR_INFO for the input and the output.
        for (direction, tensorIndex) in [(0, model.graph.inputs[0]), (1, model.graph.outputs[0])] {
            let tensor = model.graph.tensors[tensorIndex]
            let reply = try firmware.request(0x03, [UInt8(direction), 0])
            XCTAssertEqual(reply.type, 0x83, reply.errorReason)
            var t = RuntimeReader(reply.payload)
            XCTAssertEqual(t.u8(), direction)
            XCTAssertEqual(t.u8(), 0)
            XCTAssertEqual(t.u8(), 1, "dtype int8")
            let rank = t.u8()
            XCTAssertEqual((0..<rank).map { _ in Int(t.u32()) }, tensor.shape)
            XCTAssertEqual(Float(bitPattern: t.u32()), tensor.quantization?.scale)
            XCTAssertEqual(Int(Int32(bitPattern: t.u32())), tensor.quantization?.zeroPoint)
            XCTAssertEqual(Int(t.u32()), tensor.byteCount)
            XCTAssertTrue(t.isAtEnd)
        }

        // kws's plan reuses its input's memory, so one run per upload (docs/protocol.md).
        XCTAssertTrue(model.files.contains { $0.contents.contains("#define MG_KWS_INPUTS_PRESERVED 0") })
        let runs = 1
        let (operators, total) = try uploadRunAndCheck(firmware, runs: runs)
        XCTAssertEqual(operators, model.operators.count)

        // READ_TIMINGS in chunks smaller than the table, to exercise `first`.
        var sums: [UInt64] = []
        while sums.count < operators {
            let count = min(5, operators - sums.count)
            let reply = try firmware.request(0x06, runtimeLE16(sums.count) + [UInt8(count)])
            XCTAssertEqual(reply.type, 0x86, reply.errorReason)
            var t = RuntimeReader(reply.payload)
            XCTAssertEqual(t.u16(), sums.count)
            XCTAssertEqual(t.u8(), count)
            for _ in 0..<count { sums.append(t.u64()) }
            XCTAssertTrue(t.isAtEnd)
        }
        let operatorTotal = sums.reduce(0, +)
        XCTAssertGreaterThan(total, 0)
        XCTAssertLessThanOrEqual(operatorTotal, total, "operators are timed inside the whole inference")
        XCTAssertGreaterThanOrEqual(Double(operatorTotal), 0.98 * Double(total),
                                    "per-operator sums \(sums) add up to \(operatorTotal) of \(total) ticks")

        // STATUS
        let status = try firmware.request(0x08)
        XCTAssertEqual(status.type, 0x88, status.errorReason)
        var s = RuntimeReader(status.payload)
        XCTAssertEqual(s.u32(), 0, "no painted stack on the host")
        XCTAssertEqual(s.u32(), 0)
        XCTAssertEqual(Int(s.u32()), runs, "runs completed")
        XCTAssertEqual(s.u8(), 0, "no error yet")

        XCTAssertEqual(firmware.finish(), 0, firmware.standardError)
        XCTAssertEqual(firmware.framingProblems, [])
    }

    /// The firmware keeps no copy of the inputs and kws's plan overwrites its input: a RUN without
    /// fresh inputs, or of several runs, is refused (INPUT_STALE, 9) instead of computing on
    /// overwritten input, while a RUN repeated with its seq (a retry whose reply was lost) gets
    /// the first reply again without running.
    func testRunWithoutFreshInputsIsRefusedAndARetriedRunIsAnsweredAgain() throws {
        let model = try compileKws()
        let scratch = try runtimeScratchDirectory(self, "kws-stale")
        let build = try HostFirmware.build(model, in: scratch + "/firmware")
        let firmware = try RuntimeFirmwareProcess(executable: build.executable, scratch: scratch)
        func runsCompleted() throws -> UInt32 {
            var s = RuntimeReader(try firmware.request(0x08).payload)
            _ = s.u32(); _ = s.u32()
            return s.u32()
        }

        _ = try uploadRunAndCheck(firmware)
        XCTAssertEqual(try runsCompleted(), 1)
        let again = try firmware.request(0x05, runtimeLE16(1))
        XCTAssertEqual(again.errorCode, 9, "a second run on overwritten input: \(again)")
        XCTAssertTrue(again.errorReason.contains("write them again"), again.errorReason)

        // Several runs per upload would compute on overwritten input from the second on.
        _ = try uploadRunAndCheck(firmware)
        XCTAssertEqual(try runsCompleted(), 2)
        let input = try runtimeLoadNpy(Self.vectors + "/case0_input0.npy")
        for offset in stride(from: 0, to: input.data.count, by: 251) {
            _ = try firmware.request(0x04, [0] + runtimeLE32(offset) + Array(input.data[offset..<min(offset + 251, input.data.count)]))
        }
        let several = try firmware.request(0x05, runtimeLE16(2))
        XCTAssertEqual(several.errorCode, 9, "\(several)")
        XCTAssertTrue(several.errorReason.contains("once per upload"), several.errorReason)

        // A RUN sent twice with one seq runs once and is answered twice alike.
        let run = RuntimeWire.encode(type: 0x05, seq: 77, payload: runtimeLE16(1))
        firmware.send(run)
        let first = try XCTUnwrap(firmware.readFrame())
        firmware.send(run)
        let repeated = try XCTUnwrap(firmware.readFrame())
        XCTAssertEqual(first.type, 0x85, first.errorReason)
        XCTAssertEqual(repeated, first, "the retry gets the first reply")
        XCTAssertEqual(try runsCompleted(), 3, "and the model ran once")
        let expected = try runtimeLoadNpy(Self.vectors + "/case0_output0.npy")
        XCTAssertEqual(try firmware.request(0x07, [0] + runtimeLE32(0) + runtimeLE16(12)).payload, expected.data)
        // After another request the same seq is a new RUN, refused for want of inputs.
        firmware.send(run)
        XCTAssertEqual(firmware.readFrame()?.errorCode, 9)
        XCTAssertEqual(firmware.finish(), 0, firmware.standardError)
    }

    /// Under AddressSanitizer and UBSan: every kind of damaged frame and bad request gets the
    /// protocol's error, the receiver resynchronizes, and the model still runs right.
    func testSanitizedFirmwareAnswersDamageWithErrorsAndResynchronizes() throws {
        let model = try compileKws()
        let scratch = try runtimeScratchDirectory(self, "kws-asan")
        let build = try HostFirmware.build(model, in: scratch + "/firmware", sanitize: true)
        let firmware = try RuntimeFirmwareProcess(executable: build.executable, scratch: scratch)
        let inputSize = model.graph.tensors[model.graph.inputs[0]].byteCount

        func expectError(_ wire: [UInt8], code: UInt8, seq: UInt8, type: UInt8, _ what: String, line: UInt = #line) {
            firmware.send(wire)
            guard let reply = firmware.readFrame() else { return XCTFail("\(what): no reply\n\(firmware.standardError)", line: line) }
            XCTAssertEqual(reply.type, 0xFF, "\(what): \(reply)", line: line)
            XCTAssertEqual(reply.errorCode, code, "\(what): \(reply.errorReason)", line: line)
            XCTAssertEqual(reply.seq, seq, "\(what): seq", line: line)
            XCTAssertEqual(reply.payload.count > 1 ? reply.payload[1] : nil, type, "\(what): request type", line: line)
        }
        func expectEcho(seq: UInt8, line: UInt = #line) {
            firmware.send(RuntimeWire.encode(type: 0x01, seq: seq, payload: [seq, 1, 2]))
            XCTAssertEqual(firmware.readFrame(), RuntimeFrame(type: 0x81, seq: seq, payload: [seq, 1, 2]), "echo after damage", line: line)
        }

        // Noise before the first flag is ignored.
        firmware.send([0x00, 0x13, 0x37, 0x5E])
        expectEcho(seq: 200)

        var bad = RuntimeWire.body(type: 0x01, seq: 11, payload: [1, 2, 3])
        bad[5] ^= 0x01
        expectError(RuntimeWire.stuff(bad), code: 1, seq: 11, type: 0x01, "bad crc")
        expectError(RuntimeWire.stuff(RuntimeWire.body(type: 0x01, seq: 12, payload: [1, 2, 3], length: 4)),
                    code: 2, seq: 12, type: 0x01, "length disagrees")
        var dropped = RuntimeWire.encode(type: 0x01, seq: 13, payload: [9, 8, 7, 6])
        dropped.remove(at: 6)
        expectError(dropped, code: 2, seq: 13, type: 0x01, "dropped byte")
        expectError(RuntimeWire.encode(type: 0x01, seq: 14, payload: [UInt8](repeating: 0x41, count: 300)),
                    code: 3, seq: 14, type: 0x01, "too long")
        expectError([0x7E, 0x01, 0x0F, 0x7D, 0x11, 0x00, 0x7E], code: 2, seq: 15, type: 0x01, "bad escape")
        expectError([0x7E, 0x01, 0x10, 0x7E], code: 2, seq: 16, type: 0x01, "short frame")
        expectError([0x7E, 0x7D, 0x7E], code: 2, seq: 0, type: 0x00, "escape then flag")
        expectEcho(seq: 201)
        // A lost closing flag merges two frames: the merged frame is rejected, the next one is fine.
        let first = RuntimeWire.encode(type: 0x01, seq: 17, payload: [1])
        expectError(Array(first.dropLast()) + RuntimeWire.encode(type: 0x01, seq: 18, payload: [2]).dropFirst(),
                    code: 2, seq: 17, type: 0x01, "merged frames")
        expectEcho(seq: 202)

        // Requests that are well framed but wrong.
        expectError(RuntimeWire.encode(type: 0x42, seq: 20, payload: []), code: 4, seq: 20, type: 0x42, "unknown type")
        expectError(RuntimeWire.encode(type: 0x03, seq: 21, payload: [0, 1]), code: 5, seq: 21, type: 0x03, "input 1")
        expectError(RuntimeWire.encode(type: 0x03, seq: 22, payload: [2, 0]), code: 5, seq: 22, type: 0x03, "direction 2")
        expectError(RuntimeWire.encode(type: 0x04, seq: 23, payload: [0] + runtimeLE32(inputSize - 1) + [1, 2]),
                    code: 6, seq: 23, type: 0x04, "write past the input")
        expectError(RuntimeWire.encode(type: 0x04, seq: 24, payload: [0] + runtimeLE32(-16 & 0xFFFF_FFFF) + [1, 2]),
                    code: 6, seq: 24, type: 0x04, "write at a huge offset")
        expectError(RuntimeWire.encode(type: 0x04, seq: 25, payload: [0] + runtimeLE32(0)), code: 7, seq: 25, type: 0x04, "write nothing")
        expectError(RuntimeWire.encode(type: 0x07, seq: 26, payload: [0] + runtimeLE32(0) + runtimeLE16(0)), code: 7, seq: 26, type: 0x07, "read 0 bytes")
        expectError(RuntimeWire.encode(type: 0x07, seq: 27, payload: [0] + runtimeLE32(0) + runtimeLE16(257)), code: 7, seq: 27, type: 0x07, "read 257 bytes")
        expectError(RuntimeWire.encode(type: 0x07, seq: 28, payload: [0] + runtimeLE32(8) + runtimeLE16(5)), code: 6, seq: 28, type: 0x07, "read past the output")
        expectError(RuntimeWire.encode(type: 0x07, seq: 29, payload: [1] + runtimeLE32(0) + runtimeLE16(1)), code: 5, seq: 29, type: 0x07, "output 1")
        expectError(RuntimeWire.encode(type: 0x05, seq: 30, payload: runtimeLE16(0)), code: 7, seq: 30, type: 0x05, "run 0 times")
        expectError(RuntimeWire.encode(type: 0x02, seq: 31, payload: [0]), code: 7, seq: 31, type: 0x02, "INFO with a payload")
        expectError(RuntimeWire.encode(type: 0x06, seq: 32, payload: runtimeLE16(model.operators.count) + [1]), code: 5, seq: 32, type: 0x06, "timing past the end")
        expectError(RuntimeWire.encode(type: 0x06, seq: 33, payload: runtimeLE16(0) + [31]), code: 7, seq: 33, type: 0x06, "31 timings")

        let status = try firmware.request(0x08)
        XCTAssertEqual(status.payload.last, 7, "last_error is the last error sent")

        // Still serving correctly, under the sanitizers.
        _ = try uploadRunAndCheck(firmware)
        XCTAssertEqual(firmware.finish(), 0, firmware.standardError)
        XCTAssertFalse(firmware.standardError.contains("Sanitizer"), firmware.standardError)
        XCTAssertFalse(firmware.standardError.contains("runtime error"), firmware.standardError)
        XCTAssertEqual(firmware.framingProblems, [])
    }

    /// The rendered main.c, the runtime and the model compile warning-free for Cortex-M and
    /// with clang (the host build above uses cc).
    func testFirmwareMainCompilesForCortexMAndClang() throws {
        let model = try compileKws()
        let scratch = try runtimeScratchDirectory(self, "main")
        let build = try HostFirmware.build(model, in: scratch)
        let main = try String(contentsOfFile: build.directory + "/main.c", encoding: .utf8)
        XCTAssertTrue(main.contains(".offset = MG_KWS_INPUT0_OFFSET,"), main)
        XCTAssertTrue(main.contains(".run = mg_kws_run,"), main)
        XCTAssertFalse(main.contains("{{"), main)
        XCTAssertTrue(main.hasPrefix("/* Generated by microgen"), "the template's own comment is not rendered:\n\(main)")
        XCTAssertFalse(main.contains("\n\n\n"), main)
        let sources = ["main.c", "mg_rpc.c", "kws.c"].map { build.directory + "/" + $0 }
        try ProjectTestSupport.requireTools(["clang", "arm-none-eabi-gcc"])
        let compilers: [(String, [String])] = [("clang", []),
                                               ("arm-none-eabi-gcc", ["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-mthumb"]),
                                               ("arm-none-eabi-gcc", ["-mcpu=cortex-m3", "-mthumb"])]
        for (compiler, flags) in compilers {
            for source in sources {
                let result = try runProcess(compiler, ["-std=c99", "-Os", "-Wall", "-Wextra", "-Werror", "-DMG_PROFILE"] + flags
                    + ["-I", build.directory, "-c", source, "-o", scratch + "/out.o"])
                XCTAssertEqual(result.status, 0, "\(compiler) \(flags) \(source):\n\(result.standardError)")
            }
        }
    }

    func testBuildFailureNamesTheCompiler() throws {
        let model = try compileKws()
        var broken = model
        broken.files = model.files.map { $0.name == "kws.c" ? (name: $0.name, contents: $0.contents + "\nthis is not C;\n") : $0 }
        let scratch = try runtimeScratchDirectory(self, "broken")
        XCTAssertThrowsError(try HostFirmware.build(broken, in: scratch)) { error in
            let error = error as? MicrogenError
            XCTAssertEqual(error?.kind, .toolchain)
            XCTAssertTrue(error?.message.contains("kws.c") ?? false, error?.message ?? "")
        }
    }
}

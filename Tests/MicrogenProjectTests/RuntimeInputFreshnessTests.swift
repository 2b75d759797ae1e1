import Foundation
import XCTest
import MicrogenIR
import MicrogenCodegen
@testable import MicrogenProject

/// The firmware keeps no copy of the inputs (docs/protocol.md, RUN): a model whose plan overwrites
/// its inputs must have every input written again, to its last byte, before the next RUN; a model
/// whose plan leaves them alone says so in INFO and may run one upload many times.
final class RuntimeInputFreshnessTests: XCTestCase {
    /// in0 + in1 → ADD → TANH → output, 300 int8 values each (two WRITE_INPUT chunks per input).
    /// Without in-place execution TANH's output takes the memory of an input; with it, TANH writes
    /// over the ADD's output and the inputs survive.
    private func compile(inPlace: Bool) throws -> CompiledModel {
        let shape = [1, 300]
        let graph = Graph(name: "fresh", tensors: [
            Tensor(name: "in0", dataType: .int8, shape: shape, quantization: Quantization(scale: 0.05, zeroPoint: 3)),
            Tensor(name: "in1", dataType: .int8, shape: shape, quantization: Quantization(scale: 0.04, zeroPoint: -7)),
            Tensor(name: "sum", dataType: .int8, shape: shape, quantization: Quantization(scale: 0.06, zeroPoint: 1)),
            Tensor(name: "out", dataType: .int8, shape: shape, quantization: Quantization(scale: 1.0 / 128, zeroPoint: 0)),
        ], operators: [
            Operator(kind: .add, inputs: [0, 1], outputs: [2], options: .elementwise(activation: .none)),
            Operator(kind: .tanh, inputs: [2], outputs: [3]),
        ], inputs: [0, 1], outputs: [3])
        return try ModelCompiler.compile(graph, options: CompileOptions(name: "fresh", kernelsDirectory: try Resources.kernelsDirectory(), inPlace: inPlace))
    }

    private let inputs: [[UInt8]] = [(0..<300).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }, (0..<300).map { UInt8(truncatingIfNeeded: $0 * 13 + 5) }]

    private func start(_ model: CompiledModel, _ label: String) throws -> RuntimeFirmwareProcess {
        let scratch = try runtimeScratchDirectory(self, label)
        let build = try HostFirmware.build(model, in: scratch + "/firmware")
        return try RuntimeFirmwareProcess(executable: build.executable, scratch: scratch)
    }

    private func write(_ firmware: RuntimeFirmwareProcess, input: Int, chunks: [Range<Int>]) throws {
        for chunk in chunks {
            let reply = try firmware.request(0x04, [UInt8(input)] + runtimeLE32(chunk.lowerBound) + Array(inputs[input][chunk]))
            XCTAssertEqual(reply.type, 0x84, reply.errorReason)
        }
    }

    private func writeAll(_ firmware: RuntimeFirmwareProcess) throws {
        for input in 0..<2 { try write(firmware, input: input, chunks: [0..<251, 251..<300]) }
    }

    private func infoFlags(_ firmware: RuntimeFirmwareProcess) throws -> UInt8 {
        let info = try firmware.request(0x02)
        XCTAssertEqual(info.type, 0x82, info.errorReason)
        return info.payload[3]
    }

    private func output(_ firmware: RuntimeFirmwareProcess) throws -> [UInt8] {
        let first = try firmware.request(0x07, [0] + runtimeLE32(0) + runtimeLE16(256))
        let rest = try firmware.request(0x07, [0] + runtimeLE32(256) + runtimeLE16(44))
        return first.payload + rest.payload
    }

    func testOverwrittenInputsMustAllBeWrittenAgainToTheirLastByte() throws {
        let model = try compile(inPlace: false)
        XCTAssertTrue(model.files.contains { $0.contents.contains("#define MG_FRESH_INPUTS_PRESERVED 0") }, "the plan reuses an input's memory")
        let firmware = try start(model, "overwritten")
        XCTAssertEqual(try infoFlags(firmware) & 4, 0, "INFO says the inputs do not survive a run")

        try writeAll(firmware)
        XCTAssertEqual(try firmware.request(0x05, runtimeLE16(1)).type, 0x85)
        let expected = try output(firmware)

        try write(firmware, input: 1, chunks: [0..<251, 251..<300])
        XCTAssertEqual(try firmware.request(0x05, runtimeLE16(1)).errorCode, 9, "input 0 was not written again")
        try write(firmware, input: 0, chunks: [0..<251])
        XCTAssertEqual(try firmware.request(0x05, runtimeLE16(1)).errorCode, 9, "input 0 was written only in part")
        try write(firmware, input: 0, chunks: [251..<300])
        let run = try firmware.request(0x05, runtimeLE16(1))
        XCTAssertEqual(run.type, 0x85, run.errorReason)
        XCTAssertEqual(try output(firmware), expected, "the same inputs give the same output")
        XCTAssertEqual(firmware.finish(), 0, firmware.standardError)
    }

    func testPreservedInputsRunManyTimesFromOneUpload() throws {
        let overwritten = try start(try compile(inPlace: false), "reference")
        try writeAll(overwritten)
        _ = try overwritten.request(0x05, runtimeLE16(1))
        let expected = try output(overwritten)
        XCTAssertEqual(overwritten.finish(), 0, overwritten.standardError)

        let model = try compile(inPlace: true)
        XCTAssertTrue(model.files.contains { $0.contents.contains("#define MG_FRESH_INPUTS_PRESERVED 1") }, "TANH runs in place: the inputs survive")
        let firmware = try start(model, "preserved")
        XCTAssertEqual(try infoFlags(firmware) & 4, 4, "INFO says the inputs survive a run")
        try writeAll(firmware)
        let three = try firmware.request(0x05, runtimeLE16(3))
        XCTAssertEqual(three.type, 0x85, three.errorReason)
        XCTAssertEqual(try output(firmware), expected)
        let again = try firmware.request(0x05, runtimeLE16(1))
        XCTAssertEqual(again.type, 0x85, "a second RUN without an upload: \(again.errorReason)")
        XCTAssertEqual(try output(firmware), expected)
        XCTAssertEqual(firmware.finish(), 0, firmware.standardError)
    }
}

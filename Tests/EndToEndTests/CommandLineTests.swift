import Foundation
import XCTest
@testable import MicrogenHost
@testable import MicrogenProject

/// The command line as a user meets it: bad input ends with status 1 and one clear message, never a crash.
final class CommandLineTests: XCTestCase {
    private func microgen(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(GeneratedCodeTests.microgen, arguments)
    }

    private func assertFails(_ arguments: [String], mentioning phrases: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try microgen(arguments)
        XCTAssertEqual(result.status, 1, "expected exit status 1: \(result.standardError)", file: file, line: line)
        XCTAssertTrue(result.standardError.hasPrefix("microgen: "), result.standardError, file: file, line: line)
        for phrase in phrases {
            XCTAssertTrue(result.standardError.contains(phrase), "'\(phrase)' not in: \(result.standardError)", file: file, line: line)
        }
    }

    func testBadModelsGetOneClearMessage() throws {
        let scratch = try TestPaths.temporaryDirectory("cli-bad")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let kws = try Data(contentsOf: URL(fileURLWithPath: TestPaths.models + "/kws_ref_model.tflite"))
        try kws.prefix(kws.count / 3).write(to: URL(fileURLWithPath: scratch + "/truncated.tflite"))
        var generator = SystemRandomNumberGenerator()
        try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: scratch + "/random.tflite"))
        try Data("hello, not a model\n".utf8).write(to: URL(fileURLWithPath: scratch + "/text.tflite"))

        try assertFails(["inspect", scratch + "/truncated.tflite"], mentioning: ["malformed model"])
        try assertFails(["inspect", scratch + "/random.tflite"], mentioning: ["malformed model"])
        try assertFails(["build", scratch + "/text.tflite", "--output", scratch + "/out"], mentioning: ["not a TFLite"])
        try assertFails(["inspect", scratch + "/missing.tflite"], mentioning: ["does not exist"])
        let bad = TestPaths.fixtures + "/bad"
        try assertFails(["inspect", bad + "/unsupported_ops.tflite"], mentioning: ["SIN ×2", "GATHER ×1"])
        try assertFails(["inspect", bad + "/int16_activations.tflite"], mentioning: ["int16", "fc_in"])
        try assertFails(["inspect", bad + "/tensor_index_out_of_range.tflite"], mentioning: ["operator 0", "tensor 7"])
        try assertFails(["inspect", bad + "/buffer_index_out_of_range.tflite"], mentioning: ["buffer 9"])
        try assertFails(["build", TestPaths.models + "/kws_ref_model_float32.tflite", "--output", scratch + "/hybrid"], mentioning: ["hybrid"])
    }

    func testRunChecksItsInputs() throws {
        let model = TestPaths.models + "/kws_ref_model.tflite"
        let vectors = TestPaths.models + "/vectors/kws_ref_model"
        try assertFails(["run", model, "--board", "host", "--input", TestPaths.models + "/vectors/ad01_int8/case0_input0.npy"], mentioning: ["shape"])
        // No --input runs a model without inputs; this one has an input, so it is refused saying so.
        try assertFails(["run", model, "--board", "host"], mentioning: ["1 input(s) but 0 were given", "--input"])
        try assertFails(["run", model, "--board", "host", "--input", model], mentioning: ["not a NumPy"])
        // A wrong expectation is a mismatch: status 1 and the mismatch count on stdout.
        let result = try microgen(["run", model, "--board", "host", "--input", vectors + "/case1_input0.npy", "--expect", vectors + "/case2_output0.npy"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.standardOutput.contains("MISMATCH"), result.standardOutput)
    }

    func testRunWritesTheOutputAndIntermediates() throws {
        let scratch = try TestPaths.temporaryDirectory("cli-run")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let vectors = TestPaths.models + "/vectors/kws_ref_model"
        let result = try microgen(["run", TestPaths.models + "/kws_ref_model.tflite", "--board", "host", "--input", vectors + "/case0_input0.npy",
                                   "--output", scratch + "/new/dir/out.npy", "--expect", vectors + "/case0_output0.npy", "--dump-intermediates", scratch + "/dump"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(try Npy.read(path: scratch + "/new/dir/out.npy"), try Npy.read(path: vectors + "/case0_output0.npy"), "written, with the directories it names")
        // Operator 1's output (tensor 23) against TFLite's intermediate.
        XCTAssertEqual(try Npy.read(path: scratch + "/dump/t23.npy").data, try Npy.read(path: vectors + "/case0_op01_depthwise_conv_2d_t23.npy").data)
    }

    func testEveryCommandExplainsItselfWithAnExample() throws {
        for command in ["build", "run", "inspect"] {
            let result = try microgen([command, "--help"])
            XCTAssertEqual(result.status, 0)
            XCTAssertTrue(result.standardOutput.contains("microgen \(command) "), "\(command) --help has no example:\n\(result.standardOutput)")
        }
    }
}

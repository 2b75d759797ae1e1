import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenHost
@testable import MicrogenProject

/// The generated C of every one-operator fixture (Tests/Fixtures/ops), of the keyword-spotting
/// example and of the MLPerf Tiny models (models/mlperf) runs under AddressSanitizer and UndefinedBehaviorSanitizer, on the portable kernels and
/// on the SIMD kernels through their C emulation (MG_USE_DSP=1), with the arena, inputs and
/// outputs allocated at exactly their planned sizes between ASan's guard zones, and every output
/// matches its committed TensorFlow Lite Micro reference (int8 bit for bit, float32 within
/// OutputComparison's tolerance).
final class SanitizerRunTests: XCTestCase {
    private struct Case {
        var label: String
        var model: String
        var inputs: [String]
        var expected: String
    }

    /// Every fixture directory, the kws example and the MLPerf models, each with its inputs and reference output.
    private func cases() throws -> [Case] {
        let fm = FileManager.default
        let ops = TestPaths.fixtures + "/ops"
        var cases: [Case] = []
        for op in try fm.contentsOfDirectory(atPath: ops).sorted() {
            for variant in try fm.contentsOfDirectory(atPath: ops + "/" + op).sorted() {
                let directory = ops + "/\(op)/\(variant)"
                var inputs: [String] = []
                while fm.fileExists(atPath: directory + "/input\(inputs.count).npy") { inputs.append(directory + "/input\(inputs.count).npy") }
                cases.append(Case(label: "\(op)_\(variant)", model: directory + "/model.tflite", inputs: inputs, expected: directory + "/output0.npy"))
            }
        }
        let kws = TestPaths.repository + "/examples/kws"
        cases.append(Case(label: "kws", model: kws + "/kws_ref_model.tflite", inputs: [kws + "/input0.npy"], expected: kws + "/expected0.npy"))
        // The MLPerf Tiny models, int8 and float (kws_ref_model_float32 is a hybrid model microgen refuses).
        for model in ["kws_ref_model", "vww_96_int8", "vww_96_float", "pretrainedResnet_quant", "pretrainedResnet", "ad01_int8", "ad01_fp32"] {
            let vectors = TestPaths.models + "/vectors/\(model)"
            cases.append(Case(label: model, model: TestPaths.models + "/\(model).tflite", inputs: [vectors + "/case0_input0.npy"],
                              expected: vectors + "/case0_output0.npy"))
        }
        return cases
    }

    func testEveryFixtureAndExampleRunsCleanUnderSanitizers() throws {
        let cases = try cases()
        XCTAssertGreaterThan(cases.count, 157, "the fixtures are missing: run tools/refgen/make_op_fixtures.py")
        var entries: [SanitizedBatch.Entry] = []
        var expected: [String: (label: String, output: NpyArray)] = [:]
        for (i, c) in cases.enumerated() {
            let model = try ModelBuilder.compile(path: c.model, name: "san\(i)")
            entries.append(SanitizedBatch.Entry(model: model, inputs: try c.inputs.map { try Npy.read(path: $0).data }))
            expected[model.name] = (c.label, try Npy.read(path: c.expected))
        }
        for flags in [[], ["-DMG_USE_DSP=1"]] {
            let directory = try TestPaths.temporaryDirectory("sanitizers")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let (outputs, failures) = try SanitizedBatch(entries: entries, flags: flags).run(in: directory)
            XCTAssert(failures.isEmpty, "\(flags): \(failures.count) models failed under the sanitizers:\n"
                      + failures.map { "\(expected[$0.model]?.label ?? $0.model): \($0)" }.joined(separator: "\n"))
            var mismatches: [String] = []
            for entry in entries {
                guard let output = outputs[entry.model.name]?.first, let reference = expected[entry.model.name] else { continue }
                let tensor = entry.model.graph.tensors[entry.model.graph.outputs[0]]
                let actual = NpyArray(dataType: tensor.dataType, shape: tensor.shape, data: output)
                let comparison = try OutputComparison(actual: actual, expected: reference.output)
                if !comparison.passed { mismatches.append("\(reference.label): \(comparison.summary)") }
            }
            XCTAssertEqual(outputs.count + failures.count, entries.count, "\(flags): every model ran or failed")
            XCTAssert(mismatches.isEmpty, "\(flags): outputs differ from TFLite Micro:\n" + mismatches.joined(separator: "\n"))
        }
    }
}

import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenHost
@testable import MicrogenProject

/// The MLPerf Tiny models in models/mlperf against the TensorFlow Lite Micro vectors: every case's
/// output, and for int8 cases 0 and 1 every intermediate tensor the manifest lists.
final class ReferenceModelTests: XCTestCase {
    func testKeywordSpottingInt8() throws { try checkModel("kws_ref_model") }
    func testVisualWakeWordsInt8() throws { try checkModel("vww_96_int8") }
    func testResNetInt8() throws { try checkModel("pretrainedResnet_quant") }
    func testAnomalyDetectionInt8() throws { try checkModel("ad01_int8") }
    func testVisualWakeWordsFloat() throws { try checkModel("vww_96_float") }
    func testResNetFloat() throws { try checkModel("pretrainedResnet") }
    func testAnomalyDetectionFloat() throws { try checkModel("ad01_fp32") }

    /// The hybrid KWS model (float activations, int8 weights) is refused with a message that says why.
    func testHybridModelIsRefusedClearly() throws {
        XCTAssertThrowsError(try ModelBuilder.compile(path: TestPaths.models + "/kws_ref_model_float32.tflite")) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.lowercased().contains("hybrid"), message)
            XCTAssertTrue(message.contains("FULLY_CONNECTED") || message.contains("CONV_2D"), message)
        }
    }

    struct Manifest: Decodable {
        struct Intermediate: Decodable {
            var op_index: Int
            var op: String
            var tensor_index: Int
            var file: String
        }
        struct Case: Decodable {
            var inputs: [String]
            var outputs: [String]
            var intermediates_tflite_ref: [Intermediate]?
            var max_abs_diff_tflm_vs_tflite_ref: [Double]?
        }
        var model: String
        var cases: [Case]
    }

    private func checkModel(_ vectors: String) throws {
        let directory = TestPaths.models + "/vectors/" + vectors
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json")))
        XCTAssertFalse(manifest.cases.isEmpty)
        let (program, buildDirectory) = try buildHostProgram(model: TestPaths.models + "/" + manifest.model, traces: true)
        defer { try? FileManager.default.removeItem(atPath: buildDirectory) }

        var failures: [String] = []
        var intermediatesChecked = 0
        for (k, testCase) in manifest.cases.enumerated() {
            let inputs = try testCase.inputs.map { try Npy.read(path: directory + "/" + $0) }
            let traceDirectory = buildDirectory + "/trace\(k)"
            let outputs = try program.run(inputs, traceDirectory: traceDirectory)
            for (i, file) in testCase.outputs.enumerated() {
                let comparison = try OutputComparison(actual: outputs[i], expected: Npy.read(path: directory + "/" + file))
                if !comparison.passed { failures.append("case \(k) output \(i): \(comparison.summary)") }
            }
            // The intermediates come from TFLite's reference kernels. Where TFLite and TFLite Micro
            // disagree on the final output (ad01 rounds differently), they are not our target.
            let referencesAgree = (testCase.max_abs_diff_tflm_vs_tflite_ref ?? [0]).allSatisfy { $0 == 0 }
            for intermediate in referencesAgree ? testCase.intermediates_tflite_ref ?? [] : [] {
                // A convolution's result consumed inside it by a fused residual ADD is never
                // stored; the ADD's output, which is, is checked like every other.
                if program.model.fusedTensors.contains(intermediate.tensor_index) { continue }
                guard let traced = program.tracedTensor(intermediate.tensor_index, in: traceDirectory) else {
                    failures.append("case \(k): operator \(intermediate.op_index) (\(intermediate.op)) output t\(intermediate.tensor_index) was not traced")
                    continue
                }
                let comparison = try OutputComparison(actual: traced, expected: Npy.read(path: directory + "/" + intermediate.file))
                intermediatesChecked += 1
                if !comparison.passed {
                    failures.append("case \(k): operator \(intermediate.op_index) (\(intermediate.op)) t\(intermediate.tensor_index): \(comparison.summary)")
                }
            }
        }
        if ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant"].contains(vectors) {
            XCTAssertGreaterThan(intermediatesChecked, 0, "no intermediates were compared for \(vectors)")
        }
        XCTAssert(failures.isEmpty, "\(vectors): \(failures.count) mismatches:\n" + failures.prefix(20).joined(separator: "\n"))
    }
}

import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenHost
@testable import MicrogenProject

/// `--keep-inputs`: the plan keeps the inputs alive to the last operator, so the device says its
/// inputs survive a run and the driver runs one upload many times (one RUN of N); without it the
/// plan reuses the input's memory and the driver uploads before every run. Same outputs either way.
final class KeepInputsTests: XCTestCase {
    func testKeptInputsRunManyTimesFromOneUploadWithTheSameOutput() throws {
        let path = TestPaths.models + "/kws_ref_model.tflite"
        let vectors = TestPaths.models + "/vectors/kws_ref_model"
        let input = try Npy.read(path: vectors + "/case1_input0.npy")
        let expected = try Npy.read(path: vectors + "/case1_output0.npy")
        var arenas: [Bool: Int] = [:]
        for keep in [false, true] {
            let model = try ModelBuilder.compile(path: path, keepInputs: keep)
            arenas[keep] = model.plan.arenaSize
            XCTAssertTrue(model.files.contains { $0.contents.contains("#define MG_KWS_REF_MODEL_INPUTS_PRESERVED \(keep ? 1 : 0)") })
            let directory = try TestPaths.temporaryDirectory("keep-inputs")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let connection = try DeviceConnection(model: model, options: .init(board: "host", buildDirectory: directory),
                                                  progress: ProgressLine(enabled: false))
            defer { connection.close() }
            XCTAssertEqual(connection.device.info.inputsPreserved, keep)
            let result = try connection.infer([input], runs: 3)
            XCTAssertEqual(result.outputs, [expected], "keep inputs: \(keep)")
            XCTAssertEqual(result.timings.runs, 3)
            XCTAssertEqual(result.status.runsCompleted, 4, "the warm-up run, then 3")
        }
        XCTAssertGreaterThan(arenas[true]!, arenas[false]!, "kws's plan reuses its input's memory unless told to keep it")
    }
}

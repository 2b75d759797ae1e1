import Foundation
import XCTest
import MicrogenIR
import MicrogenHost
@testable import MicrogenProject

/// Every reference model (int8 and float) on the emulated Cortex-M7 and Cortex-M4: case 0
/// through the RPC driver matches TFLite Micro (int8 bit for bit, float within 1e-4 relative
/// or 1e-5 absolute). About 40 s. (kws_ref_model_float32, a hybrid model, is not supported by
/// the compiler yet.)
final class QemuModelTests: XCTestCase {
    static let models = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8",
                         "vww_96_float", "pretrainedResnet", "ad01_fp32"]

    func testReferenceModelsOnCortexM7AndM4() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        for boardName in ["cortex-m7", "cortex-m4"] {
            let board = try BoardCatalog.named(boardName)
            for name in Self.models {
                let model = try ProjectTestSupport.compile(name)
                let vectors = ProjectTestSupport.vectors(name)
                let input = try Npy.read(path: vectors + "/case0_input0.npy")
                let expected = try Npy.read(path: vectors + "/case0_output0.npy")
                let build = try ProjectTestSupport.buildProject(model: model, board: board, label: "\(boardName)-\(name)")
                let transport = try QemuTransport(board: board, kernel: build.elfPath)
                let session = DeviceSession(transport: transport, options: RPCClient.Options(replyTimeout: 10))
                defer { session.close() }
                let result = try session.infer(inputs: [input.data], runs: 1, runTimeout: 60)
                let output = NpyArray(dataType: expected.dataType, shape: expected.shape, data: result.outputs[0])
                if expected.dataType == .float32 {
                    for (i, (got, want)) in zip(output.doubles(), expected.doubles()).enumerated() {
                        XCTAssertLessThanOrEqual(abs(got - want), max(1e-5, 1e-4 * abs(want)), "\(boardName) \(name) element \(i)")
                    }
                } else {
                    XCTAssertEqual(output.data, expected.data, "\(boardName) \(name)")
                }
                let instructions = Double(result.timings.totalTicks) * Double(try session.info().info.instructionsPerTick)
                print("\(boardName) \(name): \(Int(instructions)) instructions, flash \(build.size.flash), arena \(build.size.arena), stack high water \(result.status.stackHighWater)")
            }
        }
    }
}

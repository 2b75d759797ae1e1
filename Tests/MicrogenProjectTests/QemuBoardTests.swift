import Foundation
import XCTest
import MicrogenIR
import MicrogenHost
@testable import MicrogenProject

/// Every emulated board: the kws project builds with make, boots in QEMU through QemuTransport,
/// and the RPC exchange gives the reference output bit for bit, with deterministic counts.
final class QemuBoardTests: XCTestCase {
    static let emulatedBoards = ["cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"]

    func testKwsRunsBitExactOnEveryEmulatedBoard() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        let model = try ProjectTestSupport.compile("kws_ref_model")
        let vectors = ProjectTestSupport.vectors("kws_ref_model")
        let input = try Npy.read(path: vectors + "/case0_input0.npy")
        let expected = try Npy.read(path: vectors + "/case0_output0.npy")

        for name in Self.emulatedBoards {
            let board = try BoardCatalog.named(name)
            let build = try ProjectTestSupport.buildProject(model: model, board: board, label: "qemu-\(name)")
            XCTAssertTrue(build.log.contains("Memory region"), "make prints the memory use")

            let transport = try QemuTransport(board: board, kernel: build.elfPath)
            let session = DeviceSession(transport: transport)
            defer { session.close() }
            let device = try session.verify(expectedName: model.name, inputs: [(.int8, [1, 49, 10, 1])])
            XCTAssertEqual(device.info.board, name)
            XCTAssertEqual(device.info.core, board.core)
            XCTAssertEqual(device.info.flags & DeviceInfo.qemuIcountFlag, DeviceInfo.qemuIcountFlag, name)
            XCTAssertEqual(device.info.flags & DeviceInfo.cycleCounterFlag, 0, "\(name): QEMU has no DWT cycle counter")

            let first = try session.infer(inputs: [input.data], runs: 1, runTimeout: 10)
            XCTAssertEqual(first.outputs, [expected.data], "\(name): output differs from the TFLM reference")
            let second = try session.infer(inputs: [input.data], runs: 1, runTimeout: 10)
            XCTAssertEqual(second.outputs, [expected.data], name)
            XCTAssertEqual(first.timings, second.timings, "\(name): counts under -icount shift=0 must repeat exactly")

            let timings = first.timings
            XCTAssertEqual(timings.operatorTicks.count, model.operators.count)
            let operatorSum = timings.operatorTicks.reduce(0, +)
            XCTAssertLessThanOrEqual(operatorSum, timings.totalTicks, name)
            XCTAssertGreaterThan(Double(operatorSum), 0.98 * Double(timings.totalTicks), "\(name): operators add up to the total within 2%")
            let instructions = Double(timings.totalTicks) * Double(device.info.instructionsPerTick)
            // kws: 2.66 M MACs; an int8 MAC takes a few instructions, so 3..60 M instructions.
            XCTAssertGreaterThan(instructions, 3e6, name)
            XCTAssertLessThan(instructions, 6e7, name)
            XCTAssertGreaterThan(first.status.stackHighWater, 0, name)
            XCTAssertLessThan(first.status.stackHighWater, first.status.stackSize, name)
            print("\(name): \(Int(instructions)) instructions per inference (\(timings.totalTicks) ticks x \(device.info.instructionsPerTick)), counter \(device.info.counterHz) Hz, stack high water \(first.status.stackHighWater) of \(first.status.stackSize) bytes")
        }
    }
}

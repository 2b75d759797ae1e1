import MicrogenIR
import XCTest
@testable import MicrogenFrontend

/// Models past what the device runtime, the RPC protocol or the generated C can hold, and
/// constant inputs or outputs: each refused at import with one line naming the tensor and the
/// limit (found by fuzzing: these passed import and failed in the C compiler or overflowed the
/// arena).
final class GraphLimitTests: XCTestCase {
    typealias Spec = TestModel.TensorSpec

    /// A constant input got arena offset 0 with its full size: `invoke` wrote 16 KB into a
    /// 32-byte arena.
    func testConstantInputIsRefused() {
        var model = TestModel.single(builtin: 0, type: TestModel.float32, shape: [4096], inputCount: 2)
        model.buffers.append(.init(data: [UInt8](repeating: 0, count: 4096 * 4)))
        model.tensors[1].buffer = UInt32(model.buffers.count - 1)
        let message = assertImportFails(model.bytes(), kind: .unsupported, "model input 1 is tensor 1 'in1', a constant",
                                        "inputs and outputs to be activations")
        XCTAssertFalse(message.contains("\n"), message)
    }

    func testConstantOutputIsRefused() {
        var model = TestModel.single(builtin: 19, type: TestModel.float32)
        model.buffers.append(.init(data: [UInt8](repeating: 0, count: 32)))
        model.tensors.append(Spec(name: "weights", type: TestModel.float32, shape: [1, 8], buffer: UInt32(model.buffers.count - 1)))
        model.outputs = [1, 2]
        assertImportFails(model.bytes(), kind: .unsupported, "model output 1 is tensor 2 'weights', a constant")
    }

    func testMoreThan255InputsOrOutputsAreRefused() {
        var inputs = TestModel.single(builtin: 19)
        inputs.inputs = Array(repeating: 0, count: 256)
        assertImportFails(inputs.bytes(), kind: .unsupported, "256 inputs", "at most 255")
        var outputs = TestModel.single(builtin: 19)
        outputs.outputs = Array(repeating: 1, count: 256)
        assertImportFails(outputs.bytes(), kind: .unsupported, "256 outputs", "at most 255")
        var most = TestModel.single(builtin: 19)
        most.inputs = Array(repeating: 0, count: 255)
        XCTAssertNoThrow(try importTest(most), "255 inputs are within the limit")
    }

    func testRankAboveSixIsRefused() {
        var model = TestModel.single(builtin: 19, shape: [1, 1, 1, 1, 1, 2, 4])
        assertImportFails(model.bytes(), kind: .unsupported, "2 tensors have (tensor 0 'in0' (rank 7), tensor 1 'out' (rank 7))",
                          "more than 6 dimensions")
        model = TestModel.single(builtin: 19, shape: [1, 1, 1, 1, 2, 4])
        XCTAssertNoThrow(try importTest(model), "rank 6 is within the limit")
    }

    /// 2^30 float32 elements are 4 GiB: refused by bytes, though the element count is allowed.
    func testTensorsOf2GiBOrMoreAreRefused() {
        let model = TestModel.single(builtin: 19, type: TestModel.float32, shape: [1 << 15, 1 << 15])
        assertImportFails(model.bytes(), kind: .unsupported, "tensor 0 'in0' (4294967296 bytes)", "more than 2147483647 bytes")
        let int8 = TestModel.single(builtin: 19, shape: [1 << 15, 1 << 15])
        XCTAssertNoThrow(try importTest(int8), "1 GiB of int8 is within the limit")
    }

    func testMoreThan65535OperatorsAreRefused() {
        var model = TestModel.single(builtin: 19)
        model.operators = Array(repeating: model.operators[0], count: GraphLimits.operators + 1)
        assertImportFails(model.bytes(), kind: .unsupported, "65536 operators", "at most 65535")
    }
}

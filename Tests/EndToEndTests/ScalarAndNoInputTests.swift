import Foundation
import XCTest
import MicrogenIR
import MicrogenCodegen
@testable import MicrogenHost
@testable import MicrogenProject

/// Models the RPC path and the host program used to refuse or mishandle: a scalar input (shape
/// []), a model without inputs, and inputs whose .npy shape differs from the model's.
final class ScalarAndNoInputTests: XCTestCase {
    private func float32(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
    }

    private func compile(_ graph: Graph) throws -> CompiledModel {
        try ModelCompiler.compile(graph, options: CompileOptions(name: graph.name, kernelsDirectory: try Resources.kernelsDirectory()))
    }

    /// y = x + c, every tensor of `shape`.
    private func addConstant(_ name: String, shape: [Int], constant: [Float]) -> Graph {
        let tensors = [
            Tensor(name: "x", dataType: .float32, shape: shape),
            Tensor(name: "c", dataType: .float32, shape: shape, data: float32(constant)),
            Tensor(name: "y", dataType: .float32, shape: shape),
        ]
        return Graph(name: name, tensors: tensors, operators: [Operator(kind: .add, inputs: [0, 1], outputs: [2], options: .elementwise(activation: .none))],
                     inputs: [0], outputs: [2])
    }

    /// Runs `model` over RPC on the host board (what `microgen run --board host` does) and as
    /// the host program (what --dump-intermediates uses); both must give the same outputs.
    private func runBothWays(_ model: CompiledModel, _ inputs: [NpyArray], reshape: Bool = false) throws -> [NpyArray] {
        let directory = try TestPaths.temporaryDirectory("scalar")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let connection = try DeviceConnection(model: model, options: .init(board: "host", buildDirectory: directory + "/rpc"),
                                              progress: ProgressLine(enabled: false))
        defer { connection.close() }
        let overRPC = try connection.infer(inputs, reshapeInputs: reshape).outputs
        let program = try HostProgram.build(model, in: directory + "/program")
        XCTAssertEqual(try program.run(inputs, reshapeInputs: reshape), overRPC)
        return overRPC
    }

    func testScalarInputAndOutputRun() throws {
        let model = try compile(addConstant("scalar", shape: [], constant: [2]))
        XCTAssertTrue(model.files.contains { $0.contents.contains("#define MG_SCALAR_INPUT0_RANK 0") })
        let outputs = try runBothWays(model, [NpyArray(dataType: .float32, shape: [], data: float32([1.5]))])
        XCTAssertEqual(outputs, [NpyArray(dataType: .float32, shape: [], data: float32([3.5]))])
    }

    func testModelWithoutInputsRuns() throws {
        let tensors = [
            Tensor(name: "a", dataType: .float32, shape: [2], data: float32([1, 2])),
            Tensor(name: "b", dataType: .float32, shape: [2], data: float32([10, 20])),
            Tensor(name: "y", dataType: .float32, shape: [2]),
        ]
        let graph = Graph(name: "noinput", tensors: tensors, operators: [Operator(kind: .add, inputs: [0, 1], outputs: [2], options: .elementwise(activation: .none))],
                          inputs: [], outputs: [2])
        let outputs = try runBothWays(try compile(graph), [])
        XCTAssertEqual(outputs, [NpyArray(dataType: .float32, shape: [2], data: float32([11, 22]))])
    }

    /// The same element count in another shape is refused unless the user asks to reshape.
    func testAnotherShapeNeedsReshapeInputs() throws {
        let model = try compile(addConstant("square", shape: [2, 2], constant: [1, 1, 1, 1]))
        let flat = NpyArray(dataType: .float32, shape: [4], data: float32([1, 2, 3, 4]))
        XCTAssertThrowsError(try conformInputs([flat], to: model.graph, modelName: model.name, reshape: false)) { error in
            XCTAssertTrue("\(error)".contains("has shape (2, 2) but the .npy has shape (4,)"), "\(error)")
            XCTAssertTrue("\(error)".contains("--reshape-inputs"), "\(error)")
        }
        let wrongCount = NpyArray(dataType: .float32, shape: [5], data: float32([1, 2, 3, 4, 5]))
        XCTAssertThrowsError(try conformInputs([wrongCount], to: model.graph, modelName: model.name, reshape: true)) { error in
            XCTAssertTrue("\(error)".contains("cannot be reshaped"), "\(error)")
        }
        let outputs = try runBothWays(model, [flat], reshape: true)
        XCTAssertEqual(outputs, [NpyArray(dataType: .float32, shape: [2, 2], data: float32([2, 3, 4, 5]))])
    }
}

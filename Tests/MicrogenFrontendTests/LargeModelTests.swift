import Foundation
import MicrogenIR
import MicrogenCodegen
import XCTest
@testable import MicrogenFrontend

/// A model with 10,000 operators imports, plans and compiles: a guard against steps that grow
/// with the square of the operator count (a 10,001-operator model once took over 100 s and
/// 1.3 GB). The bound is generous on purpose, for slow debug builds on a busy machine: it
/// catches a hang, not a regression of a few percent.
final class LargeModelTests: XCTestCase {
    /// RELU, ADD(x, x), RELU, ...: a chain of cheap float32 operators (compiled without folding
    /// the RELUs into the ADDs, so all 10,000 reach the planner).
    static func chain(_ operators: Int) -> TestModel {
        var model = TestModel.single(builtin: 19, type: TestModel.float32)
        var last: Int32 = 1
        for k in 1..<operators {
            last = model.append(builtin: k % 2 == 0 ? 19 : 0, inputs: k % 2 == 0 ? [last] : [last, last], type: TestModel.float32)
        }
        model.outputs = [last]
        return model
    }

    func testTenThousandOperatorsCompileWithinBounds() throws {
        let bytes = Self.chain(10_000).bytes()
        let start = Date()
        let graph = try TFLiteImporter.importModel(bytes: bytes, name: "chain")
        XCTAssertEqual(graph.operators.count, 10_000)
        let kernels = TestPaths.repoRoot.appendingPathComponent("templates/runtime/kernels").path
        let compiled = try ModelCompiler.compile(graph, options: CompileOptions(name: "chain", kernelsDirectory: kernels, foldActivations: false))
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(compiled.operators.count, 10_000)
        XCTAssertTrue(compiled.files.contains { $0.contents.contains("MG_CHAIN_NUM_OPERATORS 10000") })
        XCTAssertLessThan(seconds, 120, "import and compile of 10,000 operators took \(seconds) s")
    }

    /// Thousands of operators the kernels refuse: the refusal names the first few and counts the rest.
    func testRefusalOfThousandsOfOperatorsIsBounded() {
        // ADD of shapes [2] and [3] cannot broadcast.
        let tensors = [Tensor(name: "a", dataType: .float32, shape: [2]), Tensor(name: "b", dataType: .float32, shape: [3])]
            + (0..<3000).map { Tensor(name: "y\($0)", dataType: .float32, shape: [3]) }
        let operators = (0..<3000).map { Operator(kind: .add, inputs: [0, 1], outputs: [2 + $0], options: .elementwise(activation: .none)) }
        let graph = Graph(name: "bad", tensors: tensors, operators: operators, inputs: [0, 1], outputs: (0..<3000).map { 2 + $0 })
        let kernels = TestPaths.repoRoot.appendingPathComponent("templates/runtime/kernels").path
        XCTAssertThrowsError(try ModelCompiler.compile(graph, options: CompileOptions(name: "bad", kernelsDirectory: kernels))) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("3000 operators cannot be compiled"), message)
            XCTAssertTrue(message.contains("and 2995 more"), message)
            XCTAssertLessThan(message.count, 2000, message)
        }
    }
}

import XCTest
import MicrogenIR
@testable import MicrogenCompiler

/// Merging an in-place operator's output into the input it overwrites: only when the input dies
/// there and is not a model input or output, and never when the operator also reads a reshaped
/// view of that input. (That the generated C stays bit-exact is checked end to end by
/// InPlaceExecutionTests.)
final class PlannerInPlaceTests: XCTestCase {
    private func tensor(_ bytes: Int) -> Tensor { Tensor(name: "t", dataType: .int8, shape: [bytes]) }

    /// input(64) → A → a(256) → B → b(256) → C → c(256, model output); B and C may run in place.
    private func chain() -> AliasedGraph {
        let graph = Graph(name: "chain", tensors: [64, 256, 256, 256].map(tensor), operators: [
            Operator(kind: .fullyConnected, inputs: [0], outputs: [1]),
            Operator(kind: .logistic, inputs: [1], outputs: [2]),
            Operator(kind: .tanh, inputs: [2], outputs: [3]),
        ], inputs: [0], outputs: [3])
        return AliasedGraph(graph: graph, storageOf: [:])
    }

    func testChainRunsInOneBuffer() {
        let plain = BufferAssignment(chain(), scratch: [])
        let merged = BufferAssignment(chain(), scratch: [], inPlaceInputs: [nil, 0, 0])
        XCTAssertEqual(merged.inPlaceOperators, [1: 0, 2: 0])
        XCTAssertEqual(merged.buffer(of: 2), merged.buffer(of: 1))
        XCTAssertEqual(merged.buffer(of: 3), merged.buffer(of: 1))
        XCTAssertNotEqual(merged.buffer(of: 0), merged.buffer(of: 1))
        XCTAssertEqual(merged.requests.count, 2)

        let before = plain.plan(), after = merged.plan()
        XCTAssertNil(validate(after, merged.requests))
        XCTAssertEqual(before.arenaSize, 512)
        XCTAssertEqual(after.arenaSize, 320) // input (64) beside one 256-byte buffer
        XCTAssertEqual(after.lowerBound, 512, "the reported bound is the one without in-place execution")
        XCTAssertEqual(after.plannedLowerBound, 320)
    }

    func testModelInputIsNeverOverwritten() {
        let merged = BufferAssignment(chain(), scratch: [], inPlaceInputs: [0, nil, nil])
        XCTAssertTrue(merged.inPlaceOperators.isEmpty)
    }

    func testModelOutputIsNeverOverwritten() {
        var aliased = chain()
        aliased.graph.outputs = [2, 3]
        let merged = BufferAssignment(aliased, scratch: [], inPlaceInputs: [nil, 0, 0])
        XCTAssertEqual(merged.inPlaceOperators, [1: 0], "tensor 2 is a model output, so TANH needs its own buffer")
        XCTAssertNotEqual(merged.buffer(of: 3), merged.buffer(of: 2))
    }

    func testInputReadLaterIsNotOverwritten() {
        var aliased = chain()
        aliased.graph.tensors.append(tensor(256))
        aliased.graph.operators.append(Operator(kind: .add, inputs: [3, 1], outputs: [4]))
        aliased.graph.outputs = [4]
        let merged = BufferAssignment(aliased, scratch: [], inPlaceInputs: [nil, 0, 0, 0])
        // LOGISTIC's input (1) is read again by the ADD; TANH's input (2) dies at TANH.
        XCTAssertEqual(merged.inPlaceOperators, [2: 0, 3: 0])
        XCTAssertNotEqual(merged.buffer(of: 2), merged.buffer(of: 1))
    }

    func testDifferentSizesAreNotMerged() {
        var aliased = chain()
        aliased.graph.tensors[2] = tensor(128)
        let merged = BufferAssignment(aliased, scratch: [], inPlaceInputs: [nil, 0, nil])
        XCTAssertTrue(merged.inPlaceOperators.isEmpty)
    }

    func testReshapedViewOfTheSameBufferBlocksInPlace() {
        // ADD(a, r) where r is a RESHAPE of a: overwriting a would change r under the kernel.
        var aliased = chain()
        aliased.graph.tensors.append(Tensor(name: "r", dataType: .int8, shape: [16, 16]))
        aliased.graph.operators[2] = Operator(kind: .add, inputs: [2, 4], outputs: [3])
        aliased.storageOf[4] = 2
        let merged = BufferAssignment(aliased, scratch: [], inPlaceInputs: [nil, nil, 0])
        XCTAssertTrue(merged.inPlaceOperators.isEmpty)
        // The same tensor read twice (x + x) is fine: each element is read before it is written.
        aliased.graph.operators[2] = Operator(kind: .add, inputs: [2, 2], outputs: [3])
        XCTAssertEqual(BufferAssignment(aliased, scratch: [], inPlaceInputs: [nil, nil, 0]).inPlaceOperators, [2: 0])
    }

    func testInPlaceThroughAnAlias() {
        // a → RESHAPE (removed, r aliases a) → SOFTMAX(r) in place: the output shares a's buffer.
        var aliased = chain()
        aliased.graph.tensors.append(Tensor(name: "r", dataType: .int8, shape: [16, 16]))
        aliased.graph.operators[2] = Operator(kind: .softmax, inputs: [4], outputs: [3])
        aliased.storageOf[4] = 2
        let merged = BufferAssignment(aliased, scratch: [], inPlaceInputs: [nil, 0, 0])
        XCTAssertEqual(merged.inPlaceOperators, [1: 0, 2: 0])
        XCTAssertEqual(merged.buffer(of: 3), merged.buffer(of: 1))
        XCTAssertEqual(merged.buffer(of: 4), merged.buffer(of: 1))
    }

    func testScratchBuffersArePlannedBesideActivations() {
        let buffers = BufferAssignment(chain(), scratch: [0, 100, 0], inPlaceInputs: [nil, 0, 0])
        let plan = buffers.plan()
        XCTAssertNil(validate(plan, buffers.requests))
        XCTAssertNotNil(plan.offsets[buffers.scratchBufferID(forOperator: 1)])
        XCTAssertEqual(plan.lowerBound, 612)
    }
}

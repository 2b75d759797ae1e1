import Foundation
import XCTest
import MicrogenIR
import MicrogenFrontend
@testable import MicrogenCompiler

/// Choosing the operator order: it stays a valid topological order, never raises the peak of
/// live bytes, finds the best order (checked against every order on small graphs), and leaves
/// an order that is already optimal alone.
final class PlannerOperatorOrderTests: XCTestCase {
    /// Peak live bytes of a graph in its current order, as the buffer requests see it.
    private func peak(_ graph: Graph) -> Int {
        BufferAssignment(AliasedGraph(graph: graph, storageOf: [:]), scratch: []).lowerBoundWithoutInPlace
    }

    /// Every tensor is written before it is read (an alias counts as written with its source).
    private func assertTopological(_ graph: Graph, aliases: [Int: Int] = [:], file: StaticString = #filePath, line: UInt = #line) {
        var available = Set(graph.inputs)
        for (i, tensor) in graph.tensors.enumerated() where tensor.isConstant { available.insert(i) }
        func root(_ t: Int) -> Int { aliases[t].map(root) ?? t }
        for (k, op) in graph.operators.enumerated() {
            for t in op.inputs where t >= 0 {
                XCTAssertTrue(available.contains(root(t)), "operator \(k) reads tensor \(t) before it is written", file: file, line: line)
            }
            available.formUnion(op.outputs)
        }
    }

    private func tensor(_ bytes: Int) -> Tensor { Tensor(name: "t", dataType: .int8, shape: [bytes]) }

    /// x feeds two branches, each with a large intermediate; interleaving them keeps both large
    /// intermediates alive at once.
    private func twoBranches() -> Graph {
        // 0 x(10)  1 a1(100)  2 a2(10)  3 b1(100)  4 b2(10)  5 out(10)
        let tensors = [10, 100, 10, 100, 10, 10].map(tensor)
        let ops = [
            Operator(kind: .relu, inputs: [0], outputs: [1]),
            Operator(kind: .relu, inputs: [0], outputs: [3]),
            Operator(kind: .relu, inputs: [1], outputs: [2]),
            Operator(kind: .relu, inputs: [3], outputs: [4]),
            Operator(kind: .add, inputs: [2, 4], outputs: [5]),
        ]
        return Graph(name: "branches", tensors: tensors, operators: ops, inputs: [0], outputs: [5])
    }

    func testInterleavedBranchesAreSerialized() {
        let graph = twoBranches()
        XCTAssertEqual(peak(graph), 210)
        let ordered = chooseOperatorOrder(graph)
        assertTopological(ordered)
        XCTAssertEqual(peak(ordered), 120)
        XCTAssertEqual(Set(ordered.operators), Set(graph.operators))
        XCTAssertEqual(chooseOperatorOrder(ordered).operators, ordered.operators, "an optimal order is kept")
    }

    func testChainIsUnchanged() {
        let tensors = [10, 20, 30, 20, 10].map(tensor)
        let ops = (0..<4).map { Operator(kind: .relu, inputs: [$0], outputs: [$0 + 1]) }
        let graph = Graph(name: "chain", tensors: tensors, operators: ops, inputs: [0], outputs: [4])
        XCTAssertEqual(chooseOperatorOrder(graph).operators, ops)
    }

    /// Random DAGs (each operator reads one or two earlier tensors, sometimes a constant): the
    /// chosen order is topological, deterministic, and as good as the best of all orders.
    func testMatchesBruteForceOnRandomGraphs() {
        var generator = SplitMix64(seed: 21)
        for round in 0..<40 {
            let opCount = 3 + round % 6
            var tensors = [tensor(1 + Int(generator.next() % 64)), Tensor(name: "w", dataType: .int8, shape: [4], data: [1, 2, 3, 4])]
            var ops: [Operator] = []
            var produced = [0]
            for _ in 0..<opCount {
                var inputs = [produced[Int(generator.next() % UInt64(produced.count))]]
                if generator.next() % 2 == 0 { inputs.append(produced[Int(generator.next() % UInt64(produced.count))]) }
                if generator.next() % 5 == 0 { inputs.append(1) }
                tensors.append(tensor(1 + Int(generator.next() % 64)))
                ops.append(Operator(kind: .add, inputs: inputs, outputs: [tensors.count - 1]))
                produced.append(tensors.count - 1)
            }
            // Outputs: the last tensor, and sometimes an intermediate one.
            var outputs = [tensors.count - 1]
            if generator.next() % 3 == 0 { outputs.append(produced[1 + Int(generator.next() % UInt64(produced.count - 1))]) }
            let graph = Graph(name: "random", tensors: tensors, operators: ops, inputs: [0], outputs: Array(Set(outputs)).sorted())

            let ordered = chooseOperatorOrder(graph)
            assertTopological(ordered)
            XCTAssertEqual(ordered.operators.count, ops.count)
            XCTAssertEqual(Set(ordered.operators), Set(ops))
            XCTAssertLessThanOrEqual(peak(ordered), peak(graph), "round \(round)")
            XCTAssertEqual(chooseOperatorOrder(graph).operators, ordered.operators, "deterministic")
            let best = bestPeakOverAllOrders(graph)
            XCTAssertEqual(peak(ordered), best, "round \(round)")
            if peak(graph) == best { XCTAssertEqual(ordered.operators, ops, "round \(round): an optimal order is kept") }
        }
    }

    private func bestPeakOverAllOrders(_ graph: Graph) -> Int {
        var best = Int.max
        var order: [Operator] = []
        var used = Array(repeating: false, count: graph.operators.count)
        var available = Set(graph.inputs)
        for (i, tensor) in graph.tensors.enumerated() where tensor.isConstant { available.insert(i) }
        func extend() {
            if order.count == graph.operators.count {
                var candidate = graph
                candidate.operators = order
                best = min(best, peak(candidate))
                return
            }
            for (k, op) in graph.operators.enumerated() where !used[k] && op.inputs.allSatisfy(available.contains) {
                used[k] = true
                order.append(op)
                let added = op.outputs.filter { !available.contains($0) }
                available.formUnion(added)
                extend()
                available.subtract(added)
                order.removeLast()
                used[k] = false
            }
        }
        extend()
        return best
    }

    /// With in-place operators, serializing so an input dies at its in-place reader lets the
    /// output reuse it; the order search counts that.
    func testOrderAccountsForInPlaceOperators() {
        // 0 x(50) → op A: relu(x) = y(50) in place; op B: add(x, c) = z(10), c constant.
        // Running B first lets A overwrite x; running A first keeps x alive beside y.
        let tensors = [tensor(50), tensor(50), tensor(10), Tensor(name: "c", dataType: .int8, shape: [1], data: [1])]
        let ops = [Operator(kind: .relu, inputs: [0], outputs: [1]), Operator(kind: .add, inputs: [0, 3], outputs: [2])]
        let graph = Graph(name: "inplace", tensors: tensors, operators: ops, inputs: [0], outputs: [1, 2])
        // Model inputs are never overwritten, so let x come from an operator instead.
        var produced = graph
        produced.tensors.insert(tensor(50), at: 0)
        produced.operators = [Operator(kind: .relu, inputs: [0], outputs: [1]),
                              Operator(kind: .relu, inputs: [1], outputs: [2]),
                              Operator(kind: .add, inputs: [1, 4], outputs: [3])]
        produced.outputs = [2, 3]
        let inPlace: (Operator, Graph) -> Int? = { op, _ in op.kind == .relu ? 0 : nil }
        let ordered = chooseOperatorOrder(AliasedGraph(graph: produced, storageOf: [:]), inPlaceInput: inPlace).graph
        assertTopological(ordered)
        XCTAssertEqual(ordered.operators.map(\.kind), [.relu, .add, .relu], "the ADD runs before the in-place RELU")
        let position = ordered.operators.map { inPlace($0, ordered) }
        let merged = BufferAssignment(AliasedGraph(graph: ordered, storageOf: [:]), scratch: [], inPlaceInputs: position)
        XCTAssertEqual(merged.inPlaceOperators.keys.sorted(), [2])
    }

    /// The four MLPerf Tiny int8 models: the order never raises the peak and planning is fast.
    func testReferenceModelsPlanQuickly() throws {
        let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/models/mlperf"
        for name in ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"] {
            let path = models + "/\(name).tflite"
            let aliased = removeAliasingOperators(try TFLiteImporter.load(path: path))
            let start = Date()
            let ordered = chooseOperatorOrder(aliased)
            let buffers = BufferAssignment(ordered, scratch: [])
            let plan = buffers.plan()
            let seconds = Date().timeIntervalSince(start)
            assertTopological(ordered.graph, aliases: ordered.storageOf)
            XCTAssertNil(validate(plan, buffers.requests))
            XCTAssertLessThanOrEqual(plan.lowerBound, BufferAssignment(aliased, scratch: []).lowerBoundWithoutInPlace)
            XCTAssertLessThan(seconds, 5, name)
            print("\(name): arena \(plan.arenaSize), lower bound \(plan.lowerBound), \(plan.algorithm.rawValue), "
                + "proved optimal \(plan.provedOptimal), \(buffers.requests.count) buffers, planned in \(String(format: "%.3f", seconds)) s")
        }
    }
}

import Foundation

/// Facts about a graph that many operators ask for (an operator's position, the last operator
/// reading a tensor, a lowering's whole-graph estimate), computed once per graph instead of
/// once per question: asked per operator, each would be a scan of the whole graph, and
/// compiling a model would grow with the square of its operator count.
///
/// The cache keeps the contents it describes and drops every fact when asked about different
/// contents, so a fact never describes an older graph. Comparing costs nothing while the graph
/// is unchanged: arrays that share storage compare equal at once. Copies of a graph share one
/// cache; a lock guards it.
final class GraphAnalysisCache: @unchecked Sendable {
    private struct Contents: Equatable {
        var tensors: [Tensor]
        var operators: [Operator]
        var inputs: [Int]
        var outputs: [Int]
    }

    private let lock = NSLock()
    private var contents: Contents?
    private var positions: [Operator: Int]?
    private var lastReaders: [Int: Int]?
    private var memos: [String: Any] = [:]

    /// Runs `body` on tables that describe `graph`, under the lock.
    private func withTables<T>(for graph: Graph, _ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        let current = Contents(tensors: graph.tensors, operators: graph.operators, inputs: graph.inputs, outputs: graph.outputs)
        if contents != current {
            contents = current
            positions = nil
            lastReaders = nil
            memos = [:]
        }
        return body()
    }

    func position(of op: Operator, in graph: Graph) -> Int? {
        withTables(for: graph) {
            if positions == nil {
                var table: [Operator: Int] = [:]
                for (i, o) in graph.operators.enumerated() where table[o] == nil { table[o] = i }
                positions = table
            }
            return positions![op]
        }
    }

    func lastReader(of tensor: Int, in graph: Graph) -> Int? {
        withTables(for: graph) {
            if lastReaders == nil {
                var table: [Int: Int] = [:]
                for (i, o) in graph.operators.enumerated() { for t in o.inputs where t >= 0 { table[t] = i } }
                lastReaders = table
            }
            return lastReaders![tensor]
        }
    }

    /// The value stored under `key` for `graph`, computed by `make` the first time. `make` runs
    /// outside the lock, so it may ask the cache for other facts.
    func memo<T>(_ key: String, for graph: Graph, _ make: () -> T) -> T {
        if let value = withTables(for: graph, { memos[key] as? T }) { return value }
        let value = make()
        withTables(for: graph) { memos[key] = value }
        return value
    }
}

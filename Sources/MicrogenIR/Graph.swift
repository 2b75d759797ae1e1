/// A model as a dataflow graph: tensors, and operators in an order that respects their dependencies.
public struct Graph: Sendable {
    public var name: String
    public var tensors: [Tensor]
    public var operators: [Operator]
    public var inputs: [Int]
    public var outputs: [Int]
    /// Whole-graph facts computed once (see `GraphAnalysisCache`, which notices changes).
    private let analysis = GraphAnalysisCache()

    public init(name: String, tensors: [Tensor], operators: [Operator], inputs: [Int], outputs: [Int]) {
        self.name = name
        self.tensors = tensors
        self.operators = operators
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The position of `op` in `operators` (its first occurrence), without scanning them: lowerings
    /// ask it for every operator.
    public func index(of op: Operator) -> Int? { analysis.position(of: op, in: self) }

    /// The last operator that reads `tensor`, if any.
    public func lastReader(of tensor: Int) -> Int? { analysis.lastReader(of: tensor, in: self) }

    /// A whole-graph value computed once per graph under `key` (which must name what `make`
    /// computes, and the type it returns).
    public func memoized<T>(_ key: String, _ make: () -> T) -> T { analysis.memo(key, for: self, make) }

    /// The operator that writes each tensor, if any.
    public func producers() -> [Int: Int] {
        var map: [Int: Int] = [:]
        for (i, op) in operators.enumerated() { for t in op.outputs { map[t] = i } }
        return map
    }

    /// The operators that read each tensor.
    public func consumers() -> [Int: [Int]] {
        var map: [Int: [Int]] = [:]
        for (i, op) in operators.enumerated() { for t in op.inputs where t >= 0 { map[t, default: []].append(i) } }
        return map
    }
}

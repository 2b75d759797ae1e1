/// A model as a dataflow graph: tensors, and operators in an order that respects their dependencies.
public struct Graph: Sendable {
    public var name: String
    public var tensors: [Tensor]
    public var operators: [Operator]
    public var inputs: [Int]
    public var outputs: [Int]

    public init(name: String, tensors: [Tensor], operators: [Operator], inputs: [Int], outputs: [Int]) {
        self.name = name
        self.tensors = tensors
        self.operators = operators
        self.inputs = inputs
        self.outputs = outputs
    }

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

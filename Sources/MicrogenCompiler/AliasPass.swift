import MicrogenIR

/// Operators whose output has the same bytes as their input in a different shape. They cost
/// nothing at run time: the output becomes another name for the input's buffer.
let aliasingKinds: Set<OpKind> = [.reshape, .squeeze]

/// The graph after RESHAPE and SQUEEZE are removed, and which tensor's buffer each removed output
/// now shares. Tensors keep their own shapes, so the operators reading them still see the shape
/// the model gave them.
public struct AliasedGraph: Sendable {
    public var graph: Graph
    /// Tensor index → the tensor whose storage it uses (only tensors that are aliases appear).
    public var storageOf: [Int: Int]

    /// The tensor that owns the storage of `tensor` (itself unless it is an alias).
    public func root(_ tensor: Int) -> Int {
        var t = tensor
        while let next = storageOf[t] { t = next }
        return t
    }
}

public func removeAliasingOperators(_ graph: Graph) -> AliasedGraph {
    var result = graph
    var storageOf: [Int: Int] = [:]
    var kept: [Operator] = []
    for op in graph.operators {
        guard aliasingKinds.contains(op.kind), let source = op.inputs.first, source >= 0, let target = op.outputs.first,
              graph.tensors[source].byteCount == graph.tensors[target].byteCount else {
            kept.append(op)
            continue
        }
        if graph.tensors[source].isConstant {
            // A reshaped constant is the same constant under another shape.
            result.tensors[target].data = graph.tensors[source].data
        } else {
            storageOf[target] = source
        }
    }
    result.operators = kept
    return AliasedGraph(graph: result, storageOf: storageOf)
}

import MicrogenIR

/// Folds a standalone RELU or RELU6 into the operator that produces its input, as that
/// operator's fused activation: one pass over the data instead of two, and one buffer fewer.
///
/// Legal when the producer can fuse an activation and has none yet, the activation is the only
/// reader of the producer's output (which is not a model output), and the two tensors have the
/// same type and quantization. For int8 the standalone kernel then computes exactly the fused
/// clamp: TFLite Micro requantizes with a multiplier of 1.0 (exact) and clamps to
/// [zero point, q(6)] just as the fused activation range does.
public func foldStandaloneActivations(_ graph: Graph) -> Graph {
    var result = graph
    var removed = Set<Int>()
    let producers = graph.producers()
    let consumers = graph.consumers()
    for (index, op) in graph.operators.enumerated() {
        guard let fused = fusedEquivalent(of: op.kind), op.inputs.count == 1, op.outputs.count == 1 else { continue }
        let input = op.inputs[0], output = op.outputs[0]
        guard input >= 0, let producerIndex = producers[input], !removed.contains(producerIndex),
              consumers[input]?.count == 1, !graph.outputs.contains(input), !graph.inputs.contains(input) else { continue }
        let a = graph.tensors[input], b = graph.tensors[output]
        guard a.dataType == b.dataType, a.quantization == b.quantization, a.shape == b.shape else { continue }
        guard let options = withActivation(result.operators[producerIndex].options, fused) else { continue }
        result.operators[producerIndex].options = options
        result.operators[producerIndex].outputs = result.operators[producerIndex].outputs.map { $0 == input ? output : $0 }
        removed.insert(index)
    }
    result.operators = result.operators.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    return result
}

private func fusedEquivalent(of kind: OpKind) -> FusedActivation? {
    switch kind {
    case .relu: return .relu
    case .relu6: return .relu6
    default: return nil
    }
}

/// The options with `activation` fused in, when the operator supports a fused activation and has none.
private func withActivation(_ options: OperatorOptions, _ activation: FusedActivation) -> OperatorOptions? {
    switch options {
    case .conv2D(var o) where o.activation == .none:
        o.activation = activation
        return .conv2D(o)
    case .depthwiseConv2D(var o) where o.activation == .none:
        o.activation = activation
        return .depthwiseConv2D(o)
    case .fullyConnected(var o) where o.activation == .none:
        o.activation = activation
        return .fullyConnected(o)
    case .pool2D(var o) where o.activation == .none:
        o.activation = activation
        return .pool2D(o)
    case .elementwise(let current) where current == .none:
        return .elementwise(activation: activation)
    default:
        return nil
    }
}

import MicrogenIR

/// Fuses an int8 ADD into the convolution that computes one of its inputs (a residual block's
/// last convolution and its shortcut): the convolution requantizes each output value as before,
/// adds the residual value with TFLM's ADD arithmetic, and writes the sum over the residual. The
/// convolution's own result is never stored, so a residual block needs one image fewer; and the
/// ADD's pass over memory is gone.
///
/// Only where the result is exactly the two operators': the ADD's three tensors are int8 and of
/// one shape (no broadcasting), the convolution's output is read by that ADD alone and is not a
/// model output, and the fast kernel computes the convolution (its epilogue does the ADD).
enum ResidualFusion {
    /// The graph with every such ADD folded into its convolution (placed where the ADD was, when
    /// both its inputs exist), and the tensors no longer stored (the convolutions' results).
    static func fuse(_ graph: Graph) -> (graph: Graph, fusedTensors: Set<Int>) {
        let ops = graph.operators
        var producer: [Int: Int] = [:], readers: [Int: Int] = [:]
        for (i, op) in ops.enumerated() {
            for t in op.outputs where t >= 0 { producer[t] = i }
            for t in op.inputs where t >= 0 { readers[t, default: 0] += 1 }
        }
        let modelOutputs = Set(graph.outputs)
        let convolution = ConvLowering()
        var removed: Set<Int> = [], replacements: [Int: Operator] = [:], fused: Set<Int> = []
        func filterArea(_ p: Int) -> Int {
            let filter = ops[p].inputs.count > 1 ? ops[p].inputs[1] : -1
            guard filter >= 0, filter < graph.tensors.count, graph.tensors[filter].shape.count == 4 else { return 0 }
            return graph.tensors[filter].shape[1] * graph.tensors[filter].shape[2]
        }

        for (i, add) in ops.enumerated() where add.kind == .add {
            guard case .elementwise(let activation) = add.options, add.inputs.count == 2, add.outputs.count == 1 else { continue }
            let tensors = (add.inputs + add.outputs).filter { $0 >= 0 && $0 < graph.tensors.count }.map { graph.tensors[$0] }
            guard tensors.count == 3, tensors.allSatisfy({ $0.dataType == .int8 && !$0.isConstant && $0.shape == tensors[2].shape }) else { continue }
            // Of two fusable convolutions, the one with the larger filter (a block's main path,
            // not its 1x1 shortcut): the shortcut's input then dies before the main path ends.
            var chosen: (producer: Int, position: Int)?
            for position in 0..<2 {
                let result = add.inputs[position], residual = add.inputs[1 - position]
                guard result != residual, readers[result] == 1, !modelOutputs.contains(result), let p = producer[result], !removed.contains(p),
                      ops[p].kind == .conv2D, ops[p].outputs == [result], case .conv2D(let options) = ops[p].options, options.residual == nil,
                      convolution.canFuseResidual(ops[p], in: graph) else { continue }
                if chosen == nil || (filterArea(p), p) > (filterArea(chosen!.producer), chosen!.producer) { chosen = (p, position) }
            }
            guard let (p, position) = chosen, case .conv2D(var options) = ops[p].options else { continue }
            let result = add.inputs[position], residual = add.inputs[1 - position]
            options.residual = ResidualAdd(convolutionOutput: result, residual: residual, residualFirst: position == 1, activation: activation)
            replacements[i] = Operator(kind: .conv2D, inputs: ops[p].inputs + [residual], outputs: add.outputs, options: .conv2D(options))
            removed.insert(p)
            fused.insert(result)
        }
        guard !fused.isEmpty else { return (graph, []) }
        let operators = ops.indices.filter { !removed.contains($0) }.map { replacements[$0] ?? ops[$0] }
        return (Graph(name: graph.name, tensors: graph.tensors, operators: operators, inputs: graph.inputs, outputs: graph.outputs), fused)
    }
}

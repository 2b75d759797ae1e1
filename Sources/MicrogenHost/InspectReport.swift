import MicrogenIR
import MicrogenProject
import MicrogenCodegen

/// The human-readable view of a compiled model: operators, tensors and the memory plan.
public enum InspectReport {
    public static func render(_ model: CompiledModel, source: String) -> String {
        let graph = model.graph
        var out = "model \(UntrustedText.terminal(source)) → C name \(model.name)\n"
        out += "\(graph.operators.count) operators (after removing \(model.aliases.storageOf.count) RESHAPE/SQUEEZE as aliases), "
        out += "\(grouped(model.macs)) MACs\n\n"

        var ops = TextTable(headers: ["#", "operator", "inputs", "output", "activation", "MACs", "out offset"], rightAligned: [0, 5, 6])
        for op in model.operators {
            let source = graph.operators[op.index]
            let inputs = op.inputs.filter { $0 >= 0 }.map { t -> String in
                let tensor = graph.tensors[t]
                return (tensor.isConstant ? "c:" : "") + tensor.shape.shapeString
            }.joined(separator: " ")
            let output = op.outputs.map { graph.tensors[$0].shape.shapeString }.joined(separator: " ")
            let offset = op.outputs.first.flatMap { model.tensorOffsets[$0] }.map(String.init) ?? "-"
            // A residual ADD fused into a convolution: "CONV_2D+ADD", activations "conv, then ADD's".
            var kind = op.kind.rawValue, activation = source.fusedActivation.rawValue
            if case .conv2D(let options) = source.options, let residual = options.residual {
                kind += "+ADD"
                activation += ", " + residual.activation.rawValue
            }
            ops.add([String(op.index), kind, inputs, output, activation, grouped(op.macs), offset])
        }
        out += ops.render() + "\n"

        var tensors = TextTable(headers: ["tensor", "name", "type", "shape", "scale", "zero point", "bytes", "arena offset"],
                                rightAligned: [0, 6, 7])
        let used = Set(graph.operators.flatMap { $0.inputs + $0.outputs }).union(graph.inputs).union(graph.outputs)
        for index in used.sorted() where index >= 0 {
            let t = graph.tensors[index]
            let q = t.quantization
            let scale = q.map { $0.isPerChannel ? "per-channel (\($0.scales.count), axis \($0.axis))" : "\($0.scale)" } ?? "-"
            let zero = q.map { $0.isPerChannel ? "-" : String($0.zeroPoint) } ?? "-"
            let offset = t.isConstant ? "flash" : (model.tensorOffsets[index].map(String.init) ?? "-")
            let name = UntrustedText.terminal(t.name, limit: 40)
            tensors.add([String(index), name, t.dataType.rawValue, t.shape.shapeString, scale, zero, grouped(t.byteCount), offset])
        }
        out += tensors.render() + "\n"

        out += MemoryTable.render(model)
        out += "\(model.buffers.count) arena buffers; \(MemoryChart.peakText(model))\n"
        return out
    }
}

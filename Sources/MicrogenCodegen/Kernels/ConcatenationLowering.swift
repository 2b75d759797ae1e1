import MicrogenIR
import MicrogenCompiler

/// CONCATENATION along any axis (negative axes count from the end), any number of inputs,
/// int8, float32 or int32 (`mg_concatenation.h`): a copy of rows computed at build time.
///
/// TensorFlow Lite Micro's int8 kernel copies bytes and its Prepare refuses inputs whose scale
/// or zero point differ from the output's, so such models are refused here too rather than
/// silently requantized.
public struct ConcatenationLowering: KernelLowering {
    public init() {}

    public var kinds: [OpKind] { [.concatenation] }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try ConcatenationPlan(op, graph: graph, operatorIndex: graph.index(of: op))
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let plan = try ConcatenationPlan(op, graph: context.graph, operatorIndex: context.operatorIndex)
        let rows = context.constantArray("input_row_bytes", cType: "int32_t", integers: plan.inputRowBytes)
        let params = context.constantStruct("params", type: "mg_concatenation_params", fields: [
            "outer": "\(plan.outer)",
            "output_row_bytes": "\(plan.inputRowBytes.reduce(0, +))",
            "input_count": "\(plan.inputRowBytes.count)",
            "input_row_bytes": rows,
        ])
        let inputs = op.inputs.map { "(const void *)(\(context.pointer($0)))" }.joined(separator: ", ")
        let output = context.pointer(op.outputs[0])
        let statements = """
            {
                const void *const inputs[\(op.inputs.count)] = { \(inputs) };
                mg_concatenation(&\(params), inputs, (void *)(\(output)));
            }
            """
        return LoweredOperator(kernelHeaders: ["mg_concatenation.h"], statements: statements)
    }
}

/// A validated CONCATENATION seen as [outer, row] per tensor (see `mg_concatenation.h`).
struct ConcatenationPlan {
    /// Product of the output dimensions before the axis.
    var outer: Int
    /// Bytes of one row of each input: its axis dimension times the dimensions after the axis.
    var inputRowBytes: [Int]

    init(_ op: Operator, graph: Graph, operatorIndex: Int?) throws {
        let name = "CONCATENATION (operator \(operatorIndex.map(String.init) ?? "?"))"
        guard !op.inputs.isEmpty, op.outputs.count == 1 else {
            throw MicrogenError(.malformedModel, "\(name): expected at least 1 input and 1 output, found \(op.inputs.count) and \(op.outputs.count)")
        }
        for t in op.inputs + op.outputs where !graph.tensors.indices.contains(t) {
            throw MicrogenError(.malformedModel, "\(name): tensor index \(t) is out of range")
        }
        guard case .concatenation(let rawAxis, let activation) = op.options else {
            throw MicrogenError(.malformedModel, "\(name): missing concatenation options")
        }
        guard activation == .none else {
            throw MicrogenError(.unsupported, "\(name): fused activation \(activation.rawValue) is not supported "
                + "(TFLite Micro accepts only NONE on CONCATENATION)")
        }

        let output = graph.tensors[op.outputs[0]]
        let inputs = op.inputs.map { graph.tensors[$0] }
        guard [.int8, .float32, .int32].contains(output.dataType) else {
            throw MicrogenError(.unsupported, "\(name): output '\(output.name)' is \(output.dataType); int8, float32 and int32 are supported")
        }
        for t in inputs where t.dataType != output.dataType {
            throw MicrogenError(.unsupported, "\(name): input '\(t.name)' is \(t.dataType) but the output '\(output.name)' "
                + "is \(output.dataType); all must have the same type")
        }

        let rank = output.shape.count
        let axis = rawAxis < 0 ? rawAxis + rank : rawAxis
        guard rank > 0, (0..<rank).contains(axis) else {
            throw MicrogenError(.malformedModel, "\(name): axis \(rawAxis) is out of range for output '\(output.name)' of shape \(output.shape.shapeString)")
        }
        guard !output.shape.contains(where: { $0 < 0 }) else {
            throw MicrogenError(.unsupported, "\(name): output '\(output.name)' has unknown dimensions (\(output.shape.shapeString))")
        }

        var axisTotal = 0
        for t in inputs {
            let matches = t.shape.count == rank
                && t.shape.indices.allSatisfy { $0 == axis || t.shape[$0] == output.shape[$0] }
                && t.shape[axis] >= 0
            guard matches else {
                throw MicrogenError(.malformedModel, "\(name): input '\(t.name)' of shape \(t.shape.shapeString) does not fit "
                    + "output '\(output.name)' of shape \(output.shape.shapeString) along axis \(axis)")
            }
            axisTotal += t.shape[axis]
        }
        guard axisTotal == output.shape[axis] else {
            throw MicrogenError(.malformedModel, "\(name): the inputs' sizes along axis \(axis) add up to \(axisTotal), "
                + "but output '\(output.name)' has \(output.shape[axis])")
        }

        if output.dataType == .int8 {
            let qo = try ElementwisePlan.perTensor(output, name)
            for t in inputs {
                let q = try ElementwisePlan.perTensor(t, name)
                guard q.scale == qo.scale, q.zeroPoint == qo.zeroPoint else {
                    throw MicrogenError(.unsupported, "\(name): input '\(t.name)' has scale \(q.scale) and zero point \(q.zeroPoint) "
                        + "but output '\(output.name)' has scale \(qo.scale) and zero point \(qo.zeroPoint); "
                        + "TFLite Micro requires equal quantization (no requantization) on int8 CONCATENATION")
                }
            }
        }

        outer = output.shape[..<axis].reduce(1, *)
        let inner = output.shape[(axis + 1)...].reduce(1, *) * output.dataType.size
        inputRowBytes = inputs.map { $0.shape[axis] * inner }
        guard output.byteCount < Int(Int32.max) else {
            throw MicrogenError(.unsupported, "\(name): output '\(output.name)' is too large")
        }
    }
}

import MicrogenIR
import MicrogenCompiler

/// PAD, int8 and float32, rank ≤ 5 (`mg_pad.h`). The paddings must be a constant int32 or int64
/// [rank, 2] tensor (TensorFlow Lite Micro requires a constant too). int8 pads with the output
/// zero point and float32 with 0, as TFLM does; values are copied unchanged, like TFLM, even if
/// the input and output quantization differ.
public struct PadLowering: KernelLowering {
    public init() {}

    public var kinds: [OpKind] { [.pad] }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try PadPlan(op, graph: graph, operatorIndex: graph.index(of: op))
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let plan = try PadPlan(op, graph: context.graph, operatorIndex: context.operatorIndex)
        let params = context.constantStruct("params", type: "mg_pad_params", fields: [
            "out_dims": DataMovementSupport.cList(plan.outputDims),
            "in_dims": DataMovementSupport.cList(plan.inputDims),
            "before": DataMovementSupport.cList(plan.before),
        ])
        let input = context.pointer(op.inputs[0]), output = context.pointer(op.outputs[0])
        let call: String
        if plan.isQuantized {
            call = "mg_pad_s8(&\(params), (int8_t)\(plan.int8PadValue), (const int8_t *)\(input), (int8_t *)\(output));"
        } else {
            call = "mg_pad_f32(&\(params), 0.0f, (const float *)\(input), (float *)\(output));"
        }
        return LoweredOperator(kernelHeaders: ["mg_pad.h"], statements: call)
    }
}

/// A validated PAD folded into `mg_pad_params`' five dimensions: a dimension without padding is
/// merged into the one outside it, so only padded dimensions (and the innermost run) remain.
struct PadPlan {
    static let dimensionCount = 5
    var isQuantized: Bool
    var int8PadValue: Int
    var outputDims: [Int]
    var inputDims: [Int]
    var before: [Int]

    init(_ op: Operator, graph: Graph, operatorIndex: Int?) throws {
        let label = DataMovementSupport.label(op, index: operatorIndex)
        let (input, output) = try DataMovementSupport.activationOperands(op, graph: graph, label: label, inputCount: 2, maxRank: Self.dimensionCount)
        let (paddingsTensor, paddings) = try DataMovementSupport.constantIntegers(op, slot: 1, graph: graph, label: label, role: "paddings")
        let rank = input.shape.count
        guard paddingsTensor.shape == [rank, 2] || (rank == 0 && paddings.isEmpty) else {
            throw MicrogenError(.malformedModel, "\(label): paddings '\(paddingsTensor.name)' have shape \(paddingsTensor.shape.shapeString); "
                + "expected \(rank)x2 for input '\(input.name)' of shape \(input.shape.shapeString)")
        }
        guard paddings.allSatisfy({ $0 >= 0 }) else {
            throw MicrogenError(.unsupported, "\(label): paddings \(paddings) of '\(paddingsTensor.name)' contain a negative value; only non-negative paddings are supported")
        }
        var expected: [Int] = []
        for axis in 0..<rank {
            let total: Int = paddings[2 * axis] + paddings[2 * axis + 1]
            expected.append(input.shape[axis] + total)
        }
        guard output.shape == expected else {
            throw MicrogenError(.malformedModel, "\(label): output '\(output.name)' has shape \(output.shape.shapeString), "
                + "but padding \(input.shape.shapeString) by \(paddings) gives \(expected.shapeString)")
        }
        isQuantized = input.dataType == .int8
        int8PadValue = 0
        if isQuantized {
            let zeroPoint = output.quantization?.zeroPoint ?? 0
            guard (-128...127).contains(zeroPoint) else {
                throw MicrogenError(.malformedModel, "\(label): output '\(output.name)' has zero point \(zeroPoint), outside the int8 range")
            }
            int8PadValue = zeroPoint
        }

        // Outermost first.
        var dims: [PaddedDimension] = []
        for axis in 0..<rank {
            let dim = PaddedDimension(size: input.shape[axis], before: paddings[2 * axis], after: paddings[2 * axis + 1])
            if let last = dims.last, dim.before == 0, dim.after == 0 {
                dims[dims.count - 1] = PaddedDimension(size: last.size * dim.size, before: last.before * dim.size, after: last.after * dim.size)
            } else {
                dims.append(dim)
            }
        }
        // An unpadded outermost dimension of size 1 is a no-op loop.
        if dims.count > 1, dims[0] == PaddedDimension(size: 1, before: 0, after: 0) { dims.removeFirst() }
        let fill = Array(repeating: PaddedDimension(size: 1, before: 0, after: 0), count: Self.dimensionCount - dims.count)
        dims = fill + dims
        inputDims = dims.map(\.size)
        before = dims.map(\.before)
        outputDims = dims.map(\.outputSize)
        guard outputDims.reduce(1, *) <= Int(Int32.max) else {
            throw MicrogenError(.unsupported, "\(label): output '\(output.name)' is too large for 32-bit indexing")
        }
    }
}

/// One dimension of a PAD: the input size and the padding on each side.
struct PaddedDimension: Equatable {
    var size: Int
    var before: Int
    var after: Int
    var outputSize: Int { size + before + after }
}

import MicrogenIR
import MicrogenCompiler

/// MEAN over constant axes, int8 -> int8 and float32 -> float32, rank <= 4 (kernel in
/// `mg_mean.h`).
///
/// For int8 the multiplier is TFLite Micro's: QuantizeMultiplier(input_scale / output_scale),
/// then 1/count folded in as (multiplier << s) / count with s = floor(log2(count)) (capped at
/// 32 and at 31 + shift), and the shift lowered by s. The TFLM we match uses it even when input
/// and output share quantization.
public struct MeanLowering: KernelLowering {
    public init() {}
    public var kinds: [OpKind] { [.mean] }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try MeanSetup(op, in: graph)
    }

    /// One addition per input element.
    public func macs(_ op: Operator, in graph: Graph) -> Int {
        guard let input = op.inputs.first, input >= 0 else { return 0 }
        return graph.tensors[input].elementCount
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let s = try MeanSetup(op, in: context.graph)
        func list(_ values: [Int]) -> String { "{ " + values.map(String.init).joined(separator: ", ") + " }" }
        let params = context.constantStruct("params", type: "mg_mean_params", fields: [
            "kept": list(s.kept), "reduced": list(s.reduced), "strides": list(s.strides),
            "count": "\(s.count)",
            "multiplier": CWriter.integerLiteral(s.requantization.multiplier, cType: "int32_t"),
            "shift": "\(s.requantization.shift)",
            "input_zero_point": "\(s.inputZeroPoint)",
            "output_zero_point": "\(s.outputZeroPoint)",
        ])
        let kernel = s.isInt8 ? "mg_mean_s8" : "mg_mean_f32"
        return LoweredOperator(
            kernelHeaders: ["mg_mean.h"],
            statements: "\(kernel)(&\(params), \(context.pointer(op.inputs[0])), \(context.pointer(op.outputs[0])));")
    }
}

/// The validated axes, loop bounds and int8 requantization of one MEAN.
private struct MeanSetup {
    var isInt8: Bool
    /// The input shape padded to rank 4, split into kept and reduced extents.
    var kept: [Int]
    var reduced: [Int]
    var strides: [Int]
    var count: Int
    /// int8: input_scale / (output_scale * count) as TFLite Micro rounds it.
    var requantization = QuantizedMultiplier(multiplier: 0, shift: 0)
    var inputZeroPoint = 0
    var outputZeroPoint = 0

    init(_ op: Operator, in graph: Graph) throws {
        let label = "MEAN (operator \(graph.index(of: op).map(String.init) ?? "?"))"
        guard op.inputs.count == 2, op.outputs.count == 1, op.inputs.allSatisfy({ $0 >= 0 }), op.outputs[0] >= 0 else {
            throw MicrogenError(.malformedModel, "\(label): expected an input, an axes tensor and one output")
        }
        let input = graph.tensors[op.inputs[0]]
        let axesTensor = graph.tensors[op.inputs[1]]
        let output = graph.tensors[op.outputs[0]]
        guard input.dataType == output.dataType, input.dataType == .int8 || input.dataType == .float32 else {
            throw MicrogenError(.unsupported, "\(label): input \"\(input.name)\" is \(input.dataType) and output \"\(output.name)\" is \(output.dataType); only int8 -> int8 and float32 -> float32 are supported")
        }
        guard input.shape.count <= 4 else {
            throw MicrogenError(.unsupported, "\(label): input \"\(input.name)\" has rank \(input.shape.count) (\(input.shape.shapeString)); at most 4 is supported")
        }
        guard input.elementCount > 0 else {
            throw MicrogenError(.unsupported, "\(label): input \"\(input.name)\" is empty (\(input.shape.shapeString))")
        }
        guard axesTensor.isConstant, axesTensor.dataType == .int32 else {
            throw MicrogenError(.unsupported, "\(label): axes \"\(axesTensor.name)\" must be a constant int32 tensor (is \(axesTensor.isConstant ? "constant" : "computed at run time") \(axesTensor.dataType))")
        }
        let rank = input.shape.count
        var axes: [Int] = []
        for axis in axesTensor.integerValues() {
            let resolved = axis < 0 ? axis + rank : axis
            guard resolved >= 0, resolved < rank else {
                throw MicrogenError(.malformedModel, "\(label): axis \(axis) of \"\(axesTensor.name)\" is out of range for input \"\(input.name)\" (\(input.shape.shapeString))")
            }
            if !axes.contains(resolved) { axes.append(resolved) }
        }

        let padding = 4 - rank
        let shape = Array(repeating: 1, count: padding) + input.shape
        let reducedAxes = Set(axes.map { $0 + padding })
        kept = shape.indices.map { reducedAxes.contains($0) ? 1 : shape[$0] }
        reduced = shape.indices.map { reducedAxes.contains($0) ? shape[$0] : 1 }
        strides = shape.indices.map { shape[($0 + 1)...].reduce(1, *) }
        count = reduced.reduce(1, *)
        isInt8 = input.dataType == .int8
        guard kept.reduce(1, *) == output.elementCount else {
            throw MicrogenError(.malformedModel, "\(label): output \"\(output.name)\" (\(output.shape.shapeString)) does not hold the mean of \(input.shape.shapeString) over axes \(axes)")
        }

        guard isInt8 else { return }
        guard let qi = input.quantization, let qo = output.quantization else {
            throw MicrogenError(.malformedModel, "\(label): int8 tensors \"\(input.name)\" and \"\(output.name)\" need quantization parameters")
        }
        inputZeroPoint = qi.zeroPoint
        outputZeroPoint = qo.zeroPoint
        let base = try QuantizedMultiplier(Double(qi.scale) / Double(qo.scale))
        var log2Count = Int.bitWidth - 1 - count.leadingZeroBitCount
        log2Count = min(log2Count, 32, 31 + base.shift)
        let multiplier = (Int64(base.multiplier) << log2Count) / Int64(count)
        requantization = QuantizedMultiplier(multiplier: Int32(multiplier), shift: base.shift - log2Count)
    }
}

import MicrogenIR
import MicrogenCompiler

/// QUANTIZE (float32 → int8, and int8 → int8 requantization) and DEQUANTIZE (int8 → float32),
/// per-tensor quantization only (`mg_quantize.h`), computed as TensorFlow Lite Micro does:
/// - float32 → int8: round(x / scale) + zero point, the division in float32, halves away from zero;
/// - int8 → int8: the multiplier for Double(input scale) / Double(output scale), applied to
///   (q − input zero point) with MultiplyByQuantizedMultiplier, plus the output zero point;
/// - int8 → float32: scale × (q − zero point) in float32.
public struct QuantizeLowering: KernelLowering {
    public init() {}

    public var kinds: [OpKind] { [.quantize, .dequantize] }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try QuantizePlan(op, graph: graph, operatorIndex: graph.index(of: op))
    }

    public func macs(_ op: Operator, in graph: Graph) -> Int {
        // One multiply per element.
        guard let output = op.outputs.first, graph.tensors.indices.contains(output) else { return 0 }
        return graph.tensors[output].elementCount
    }

    /// int8 → int8 requantization reads in[i] before writing out[i] (`mg_requantize_s8_s8`), and
    /// both are one byte per element, so the output may overwrite a dying input. The float
    /// conversions change the element size and never run in place.
    public func inPlaceInput(_ op: Operator, in graph: Graph) -> Int? {
        guard let plan = try? QuantizePlan(op, graph: graph, operatorIndex: nil), case .requantize = plan.conversion else { return nil }
        return 0
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let plan = try QuantizePlan(op, graph: context.graph, operatorIndex: context.operatorIndex)
        let input = context.pointer(op.inputs[0]), output = context.pointer(op.outputs[0])
        let size = "\(plan.elementCount)"
        let statement: String
        switch plan.conversion {
        case .quantize(let scale, let zeroPoint):
            let params = context.constantStruct("params", type: "mg_quantize_params", fields: [
                "size": size, "scale": CWriter.floatLiteral(scale), "zero_point": "\(zeroPoint)",
            ])
            statement = "mg_quantize_f32_s8(&\(params), (const float *)\(input), (int8_t *)\(output));"
        case .requantize(let inputZeroPoint, let multiplier, let outputZeroPoint):
            let params = context.constantStruct("params", type: "mg_requantize_params", fields: [
                "size": size,
                "input_zero_point": "\(inputZeroPoint)",
                "multiplier": CWriter.integerLiteral(multiplier.multiplier, cType: "int32_t"),
                "shift": "\(multiplier.shift)",
                "output_zero_point": "\(outputZeroPoint)",
            ])
            statement = "mg_requantize_s8_s8(&\(params), (const int8_t *)\(input), (int8_t *)\(output));"
        case .dequantize(let scale, let zeroPoint):
            let params = context.constantStruct("params", type: "mg_dequantize_params", fields: [
                "size": size, "scale": CWriter.floatLiteral(scale), "zero_point": "\(zeroPoint)",
            ])
            statement = "mg_dequantize_s8_f32(&\(params), (const int8_t *)\(input), (float *)\(output));"
        }
        return LoweredOperator(kernelHeaders: ["mg_quantize.h"], statements: statement)
    }
}

/// A validated QUANTIZE or DEQUANTIZE and its compile-time constants.
struct QuantizePlan {
    enum Conversion {
        case quantize(scale: Float, zeroPoint: Int)
        case requantize(inputZeroPoint: Int, multiplier: QuantizedMultiplier, outputZeroPoint: Int)
        case dequantize(scale: Float, zeroPoint: Int)
    }

    var conversion: Conversion
    var elementCount: Int

    init(_ op: Operator, graph: Graph, operatorIndex: Int?) throws {
        let label = DataMovementSupport.label(op, index: operatorIndex)
        guard op.inputs.count == 1, op.outputs.count == 1 else {
            throw MicrogenError(.malformedModel, "\(label): expected 1 input and 1 output, found \(op.inputs.count) inputs and \(op.outputs.count) outputs")
        }
        for t in op.inputs + op.outputs where !graph.tensors.indices.contains(t) {
            throw MicrogenError(.malformedModel, "\(label): tensor index \(t) is out of range")
        }
        let input = graph.tensors[op.inputs[0]], output = graph.tensors[op.outputs[0]]
        guard input.elementCount == output.elementCount else {
            throw MicrogenError(.malformedModel, "\(label): input '\(input.name)' (\(input.shape.shapeString)) and output '\(output.name)' "
                + "(\(output.shape.shapeString)) have different element counts")
        }
        guard input.elementCount <= Int(Int32.max) else {
            throw MicrogenError(.unsupported, "\(label): input '\(input.name)' is too large for 32-bit indexing")
        }
        elementCount = input.elementCount

        switch (op.kind, input.dataType, output.dataType) {
        case (.quantize, .float32, .int8):
            let q = try Self.perTensor(output, label: label)
            conversion = .quantize(scale: q.scale, zeroPoint: q.zeroPoint)
        case (.quantize, .int8, .int8):
            let qin = try Self.perTensor(input, label: label), qout = try Self.perTensor(output, label: label)
            let multiplier = try QuantizedMultiplier(Double(qin.scale) / Double(qout.scale))
            conversion = .requantize(inputZeroPoint: qin.zeroPoint, multiplier: multiplier, outputZeroPoint: qout.zeroPoint)
        case (.dequantize, .int8, .float32):
            let q = try Self.perTensor(input, label: label)
            conversion = .dequantize(scale: q.scale, zeroPoint: q.zeroPoint)
        default:
            let supported = op.kind == .quantize ? "float32 → int8 and int8 → int8" : "int8 → float32"
            throw MicrogenError(.unsupported, "\(label): \(input.dataType) input '\(input.name)' to \(output.dataType) output '\(output.name)' "
                + "is not supported (\(op.kind.rawValue) supports \(supported))")
        }
    }

    /// The one scale and zero point of an int8 tensor, checked.
    static func perTensor(_ tensor: Tensor, label: String) throws -> (scale: Float, zeroPoint: Int) {
        guard let q = tensor.quantization, !q.scales.isEmpty else {
            throw MicrogenError(.unsupported, "\(label): int8 tensor '\(tensor.name)' has no quantization parameters")
        }
        guard q.scales.count == 1, q.zeroPoints.count <= 1 else {
            throw MicrogenError(.unsupported, "\(label): int8 tensor '\(tensor.name)' has \(q.scales.count) scales (per-channel); only per-tensor quantization is supported")
        }
        guard q.scale > 0, q.scale.isFinite else {
            throw MicrogenError(.malformedModel, "\(label): tensor '\(tensor.name)' has scale \(q.scale); it must be positive and finite")
        }
        guard (-128...127).contains(q.zeroPoint) else {
            throw MicrogenError(.malformedModel, "\(label): tensor '\(tensor.name)' has zero point \(q.zeroPoint), outside the int8 range")
        }
        return (q.scale, q.zeroPoint)
    }
}

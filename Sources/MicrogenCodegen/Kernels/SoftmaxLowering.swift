import Foundation
import MicrogenIR
import MicrogenCompiler

/// SOFTMAX over the last axis, int8 -> int8 and float32 -> float32 (kernels in `mg_softmax.h`).
///
/// For int8 the input scaling is computed here as TFLite Micro's `SoftmaxPrepare` does it:
/// beta * input_scale * 2^(31 - 5) in double precision (capped at 2^31 - 1) becomes a Q31
/// multiplier and left shift, and differences below diff_min (whose scaled value would not fit
/// Q5.26) count as exp = 0.
public struct SoftmaxLowering: KernelLowering {
    public init() {}
    public var kinds: [OpKind] { [.softmax] }

    /// Bits of the integer part of the scaled differences (Q5.26), as in TFLite Micro.
    static let scaledDiffIntegerBits = 5

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try SoftmaxSetup(op, in: graph)
    }

    /// One exponential per element.
    public func macs(_ op: Operator, in graph: Graph) -> Int {
        guard let output = op.outputs.first, output >= 0 else { return 0 }
        return graph.tensors[output].elementCount
    }

    /// Both kernels may write over their input: each row's maximum is found before anything is
    /// written, and afterwards every pass reads in[c] before it writes out[c] of the same row (the
    /// float kernel's last pass reads only the output). Input and output have the same shape and type.
    public func inPlaceInput(_ op: Operator, in graph: Graph) -> Int? {
        (try? SoftmaxSetup(op, in: graph)) != nil ? 0 : nil
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let s = try SoftmaxSetup(op, in: context.graph)
        let input = context.pointer(op.inputs[0])
        let output = context.pointer(op.outputs[0])
        if let q = s.quantized {
            let params = context.constantStruct("params", type: "mg_softmax_s8_params", fields: [
                "rows": "\(s.rows)", "depth": "\(s.depth)",
                "input_multiplier": CWriter.integerLiteral(q.multiplier.multiplier, cType: "int32_t"),
                "input_left_shift": "\(q.multiplier.shift)",
                "diff_min": "\(q.diffMin)",
            ])
            return LoweredOperator(kernelHeaders: ["mg_softmax.h"], statements: "mg_softmax_s8(&\(params), \(input), \(output));")
        }
        let params = context.constantStruct("params", type: "mg_softmax_f32_params", fields: [
            "rows": "\(s.rows)", "depth": "\(s.depth)", "beta": CWriter.floatLiteral(s.beta),
        ])
        return LoweredOperator(kernelHeaders: ["mg_softmax.h"], statements: "mg_softmax_f32(&\(params), \(input), \(output));")
    }
}

/// The validated shape and compile-time constants of one SOFTMAX.
private struct SoftmaxSetup {
    struct Quantized {
        var multiplier: QuantizedMultiplier
        var diffMin: Int
    }
    var rows: Int
    var depth: Int
    var beta: Float
    var quantized: Quantized?

    init(_ op: Operator, in graph: Graph) throws {
        let label = "SOFTMAX (operator \(graph.index(of: op).map(String.init) ?? "?"))"
        guard op.inputs.count >= 1, op.outputs.count == 1, op.inputs[0] >= 0, op.outputs[0] >= 0 else {
            throw MicrogenError(.malformedModel, "\(label): expected one input and one output")
        }
        let input = graph.tensors[op.inputs[0]]
        let output = graph.tensors[op.outputs[0]]
        var beta: Float = 1
        if case .softmax(let b) = op.options { beta = b }
        guard input.dataType == output.dataType, input.dataType == .int8 || input.dataType == .float32 else {
            throw MicrogenError(.unsupported, "\(label): input \"\(input.name)\" is \(input.dataType) and output \"\(output.name)\" is \(output.dataType); only int8 -> int8 and float32 -> float32 are supported")
        }
        guard (1...4).contains(input.shape.count), input.shape == output.shape else {
            throw MicrogenError(.unsupported, "\(label): input \"\(input.name)\" (\(input.shape.shapeString)) and output \"\(output.name)\" (\(output.shape.shapeString)) must have the same shape of rank 1 to 4")
        }
        guard input.elementCount > 0 else {
            throw MicrogenError(.unsupported, "\(label): input \"\(input.name)\" is empty (\(input.shape.shapeString))")
        }
        depth = input.shape.last!
        rows = input.elementCount / depth
        self.beta = beta

        guard input.dataType == .int8 else { return }
        guard let qi = input.quantization, let qo = output.quantization else {
            throw MicrogenError(.malformedModel, "\(label): int8 tensors \"\(input.name)\" and \"\(output.name)\" need quantization parameters")
        }
        // The fixed-point kernel produces probabilities in steps of 1/256 from -128.
        guard qo.zeroPoint == -128, qo.scale == Float(1.0 / 256.0) else {
            throw MicrogenError(.unsupported, "\(label): int8 output \"\(output.name)\" must have scale 1/256 and zero point -128 (has \(qo.scale), \(qo.zeroPoint))")
        }
        let integerBits = SoftmaxLowering.scaledDiffIntegerBits
        let maxMultiplier = Double((Int64(1) << 31) - 1)
        let real = min(Double(beta) * Double(qi.scale) * Double(Int64(1) << (31 - integerBits)), maxMultiplier)
        let multiplier = try QuantizedMultiplier(real)
        // TFLite Micro requires this multiplier to exceed 1 (it checks and stops otherwise).
        guard real > 1, multiplier.shift >= 0 else {
            throw MicrogenError(.unsupported, "\(label): beta (\(beta)) times the input scale of \"\(input.name)\" (\(qi.scale)) is too small for the int8 kernel")
        }
        // The largest |difference| whose rescaled value stays below 2^5 in Q5.26, rounded down.
        let radius = floor(Double((1 << integerBits) - 1) * Double(Int64(1) << (31 - integerBits))
                           / Double(Int64(1) << multiplier.shift))
        quantized = Quantized(multiplier: multiplier, diffMin: -Int(radius))
    }
}

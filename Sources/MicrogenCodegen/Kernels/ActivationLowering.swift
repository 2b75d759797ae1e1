import MicrogenIR
import MicrogenCompiler

/// LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU and HARD_SWISH on int8 or float32 tensors
/// (`mg_activation.h`). The kernels see a flat element count, so any shape works, and each
/// reads an element before writing the same element, so input and output may share memory.
///
/// For int8, every multiplier, shift and bound is computed here exactly as TensorFlow Lite
/// Micro's Prepare step computes it (see `ActivationInt8Parameters`).
public struct ActivationLowering: KernelLowering {
    public init() {}

    public var kinds: [OpKind] { [.logistic, .tanh, .relu, .relu6, .leakyRelu, .hardSwish] }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try ActivationPlan(op, graph: graph, operatorIndex: graph.index(of: op))
    }

    /// One multiply (or fixed-point curve evaluation) per element; RELU6 and float RELU only clamp.
    public func macs(_ op: Operator, in graph: Graph) -> Int {
        guard let plan = try? ActivationPlan(op, graph: graph, operatorIndex: nil) else { return 0 }
        switch (op.kind, plan.parameters) {
        case (.relu6, _), (.relu, .float32): return 0
        default: return plan.count
        }
    }

    /// Every kernel here reads element i before it writes element i, and input and output have
    /// the same type and element count, so the output may overwrite a dying input.
    public func inPlaceInput(_ op: Operator, in graph: Graph) -> Int? {
        (try? ActivationPlan(op, graph: graph, operatorIndex: nil)) != nil ? 0 : nil
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let plan = try ActivationPlan(op, graph: context.graph, operatorIndex: context.operatorIndex)
        let input = context.pointer(op.inputs[0])
        let output = context.pointer(op.outputs[0])
        let (function, params) = try emitParameters(op, plan: plan, context: context)
        let elementType = plan.isInt8 ? "int8_t" : "float"
        let statement = "\(function)(&\(params), (const \(elementType) *)(\(input)), (\(elementType) *)(\(output)));"
        return LoweredOperator(kernelHeaders: ["mg_activation.h"], statements: statement)
    }

    /// The kernel function and the name of its `static const` parameter struct.
    private func emitParameters(_ op: Operator, plan: ActivationPlan, context: EmitContext) throws -> (String, String) {
        let count = "\(plan.count)"
        func int32(_ v: Int32) -> String { CWriter.integerLiteral(v, cType: "int32_t") }
        switch plan.parameters {
        case .float32(let alpha):
            if op.kind == .leakyRelu {
                let params = context.constantStruct("params", type: "mg_leaky_relu_f32_params", fields: [
                    "count": count, "alpha": CWriter.floatLiteral(alpha),
                ])
                return ("mg_leaky_relu_f32", params)
            }
            let params = context.constantStruct("params", type: "mg_activation_f32_params", fields: ["count": count])
            let function: String
            switch op.kind {
            case .logistic: function = "mg_logistic_f32"
            case .tanh: function = "mg_tanh_f32"
            case .relu: function = "mg_relu_f32"
            case .relu6: function = "mg_relu6_f32"
            default: function = "mg_hard_swish_f32"
            }
            return (function, params)

        case .sigmoid(let s):
            let params = context.constantStruct("params", type: "mg_sigmoid_s8_params", fields: [
                "count": count,
                "input_zero_point": "\(s.inputZeroPoint)",
                "input_range_radius": "\(s.inputRangeRadius)",
                "input_multiplier": int32(s.inputMultiplier),
                "input_left_shift": "\(s.inputLeftShift)",
            ])
            return (op.kind == .logistic ? "mg_logistic_s8" : "mg_tanh_s8", params)

        case .relu(let r):
            let params = context.constantStruct("params", type: "mg_relu_s8_params", fields: [
                "count": count,
                "input_zero_point": "\(r.inputZeroPoint)",
                "output_zero_point": "\(r.outputZeroPoint)",
                "output_multiplier": int32(r.output.multiplier),
                "output_shift": "\(r.output.shift)",
                "activation_min": "\(r.activationMin)",
                "activation_max": "\(r.activationMax)",
            ])
            return ("mg_relu_s8", params)

        case .relu6(let lower, let upper):
            let params = context.constantStruct("params", type: "mg_relu6_s8_params", fields: [
                "count": count, "lower": "\(lower)", "upper": "\(upper)",
            ])
            return ("mg_relu6_s8", params)

        case .leakyRelu(let l):
            let params = context.constantStruct("params", type: "mg_leaky_relu_s8_params", fields: [
                "count": count,
                "input_zero_point": "\(l.inputZeroPoint)",
                "output_zero_point": "\(l.outputZeroPoint)",
                "identity_multiplier": int32(l.identity.multiplier),
                "identity_shift": "\(l.identity.shift)",
                "alpha_multiplier": int32(l.alphaMagnitude.multiplier),
                "alpha_shift": "\(l.alphaMagnitude.shift)",
                "alpha_is_negative": l.alphaIsNegative ? "1" : "0",
            ])
            return ("mg_leaky_relu_s8", params)

        case .hardSwish(let h):
            let params = context.constantStruct("params", type: "mg_hard_swish_s8_params", fields: [
                "count": count,
                "input_zero_point": "\(h.inputZeroPoint)",
                "output_zero_point": "\(h.outputZeroPoint)",
                "output_multiplier": "\(h.outputMultiplier)",
                "output_exponent": "\(h.outputExponent)",
                "reluish_multiplier": "\(h.reluishMultiplier)",
                "reluish_exponent": "\(h.reluishExponent)",
            ])
            return ("mg_hard_swish_s8", params)
        }
    }
}

/// One activation operator, validated: what `check` reports and `lower` emits.
struct ActivationPlan {
    enum Parameters {
        /// Float kernels need nothing but LEAKY_RELU's alpha (0 for the others).
        case float32(alpha: Float)
        case sigmoid(ActivationInt8Parameters.Sigmoid)
        case relu(ActivationInt8Parameters.Relu)
        /// RELU6: a clamp in the input's quantization.
        case relu6(lower: Int, upper: Int)
        case leakyRelu(ActivationInt8Parameters.LeakyRelu)
        case hardSwish(ActivationInt8Parameters.HardSwish)
    }

    var count: Int
    var parameters: Parameters
    var isInt8: Bool {
        if case .float32 = parameters { return false }
        return true
    }

    init(_ op: Operator, graph: Graph, operatorIndex: Int?) throws {
        let name = "\(op.kind.rawValue) (operator \(operatorIndex.map(String.init) ?? "?"))"
        guard op.inputs.count == 1, op.outputs.count == 1 else {
            throw MicrogenError(.malformedModel, "\(name): expected 1 input and 1 output, found \(op.inputs.count) and \(op.outputs.count)")
        }
        for t in op.inputs + op.outputs where !graph.tensors.indices.contains(t) {
            throw MicrogenError(.malformedModel, "\(name): tensor index \(t) is out of range")
        }
        let input = graph.tensors[op.inputs[0]], output = graph.tensors[op.outputs[0]]
        guard input.elementCount == output.elementCount else {
            throw MicrogenError(.malformedModel, "\(name): input '\(input.name)' (\(input.shape.shapeString)) and output "
                + "'\(output.name)' (\(output.shape.shapeString)) have different element counts")
        }
        guard input.elementCount <= Int(Int32.max) else {
            throw MicrogenError(.unsupported, "\(name): tensor '\(input.name)' has too many elements (\(input.elementCount))")
        }
        count = input.elementCount

        var alpha: Float = 0
        if op.kind == .leakyRelu {
            guard case .leakyRelu(let a) = op.options else {
                throw MicrogenError(.malformedModel, "\(name): LEAKY_RELU without its options (alpha)")
            }
            alpha = a
        }

        switch (input.dataType, output.dataType) {
        case (.float32, .float32):
            parameters = .float32(alpha: alpha)
        case (.int8, .int8):
            let inQ = try ActivationInt8Parameters.perTensor(input, name)
            let outQ = try ActivationInt8Parameters.perTensor(output, name)
            let make = ActivationInt8Parameters(name: name, input: inQ, output: outQ, outputTensor: output.name)
            switch op.kind {
            case .logistic, .tanh: parameters = .sigmoid(try make.sigmoid(isLogistic: op.kind == .logistic))
            case .relu: parameters = .relu(try make.relu())
            case .relu6:
                let bounds = make.relu6()
                parameters = .relu6(lower: bounds.lower, upper: bounds.upper)
            case .leakyRelu: parameters = .leakyRelu(try make.leakyRelu(alpha: alpha))
            case .hardSwish: parameters = .hardSwish(try make.hardSwish())
            default:
                throw MicrogenError(.unsupported, "\(name): not an activation operator")
            }
        case (.float32, .int8), (.int8, .float32):
            throw MicrogenError(.unsupported, "\(name): input '\(input.name)' is \(input.dataType) but output '\(output.name)' "
                + "is \(output.dataType); mixed float/int8 (hybrid) activations are not supported")
        default:
            throw MicrogenError(.unsupported, "\(name): tensor types \(input.dataType) -> \(output.dataType) are not supported "
                + "(int8 or float32 only)")
        }
    }
}

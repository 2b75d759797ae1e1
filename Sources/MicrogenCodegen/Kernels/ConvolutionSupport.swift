import MicrogenIR
import MicrogenCompiler

/// The tensors of one CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED operator, checked:
/// input and output are both int8 or both float32, the weights match them, the bias (if any)
/// is int32 for int8 and float32 for float, and int8 tensors carry their quantization.
struct ConvolutionOperands {
    /// "CONV_2D (operator 3)": how messages name the operator.
    var label: String
    var inputIndex: Int
    var filterIndex: Int
    /// nil when the operator has no bias (input index -1 or absent).
    var biasIndex: Int?
    var outputIndex: Int
    var input: Tensor
    var filter: Tensor
    var bias: Tensor?
    var output: Tensor
    /// true for int8 activations, false for float32.
    var isQuantized: Bool
}

/// Compile-time work shared by the convolution-like lowerings: operand checks, requantization
/// multipliers, the bias with the input zero point folded in, and activation clamps.
enum ConvolutionSupport {
    static func label(_ op: Operator, index: Int?) -> String {
        index.map { "\(op.kind.rawValue) (operator \($0))" } ?? op.kind.rawValue
    }

    /// Output tensors are unique to their producer, so this finds the operator's own index.
    static func index(of op: Operator, in graph: Graph) -> Int? {
        graph.operators.firstIndex(of: op)
    }

    static func operands(_ op: Operator, in graph: Graph, index: Int?) throws -> ConvolutionOperands {
        let label = label(op, index: index)
        guard op.inputs.count == 2 || op.inputs.count == 3, op.outputs.count == 1 else {
            throw MicrogenError(.malformedModel, "\(label): expected 2 or 3 inputs and 1 output, found \(op.inputs.count) inputs and \(op.outputs.count) outputs")
        }
        func tensorIndex(_ i: Int, _ role: String) throws -> Int {
            let t = i < op.inputs.count ? op.inputs[i] : op.outputs[0]
            guard t >= 0, t < graph.tensors.count else {
                throw MicrogenError(.malformedModel, "\(label): \(role) tensor index \(t) is out of range")
            }
            return t
        }
        let inputIndex = try tensorIndex(0, "input")
        let filterIndex = try tensorIndex(1, "weights")
        let outputIndex = op.outputs[0]
        guard outputIndex >= 0, outputIndex < graph.tensors.count else {
            throw MicrogenError(.malformedModel, "\(label): output tensor index \(outputIndex) is out of range")
        }
        var biasIndex: Int? = nil
        if op.inputs.count == 3, op.inputs[2] >= 0 { biasIndex = try tensorIndex(2, "bias") }

        let input = graph.tensors[inputIndex], filter = graph.tensors[filterIndex], output = graph.tensors[outputIndex]
        let bias = biasIndex.map { graph.tensors[$0] }

        if input.dataType == .float32 && filter.dataType != .float32 {
            throw MicrogenError(.unsupported, "\(label): hybrid quantization (float32 activations with \(filter.dataType) weights '\(filter.name)') is not supported; use the int8 or float32 model")
        }
        guard input.dataType == .int8 || input.dataType == .float32 else {
            throw MicrogenError(.unsupported, "\(label): input '\(input.name)' is \(input.dataType); only int8 and float32 activations are supported")
        }
        guard output.dataType == input.dataType else {
            throw MicrogenError(.unsupported, "\(label): output '\(output.name)' is \(output.dataType) but input '\(input.name)' is \(input.dataType); they must match")
        }
        guard filter.dataType == input.dataType else {
            throw MicrogenError(.unsupported, "\(label): weights '\(filter.name)' are \(filter.dataType) with \(input.dataType) activations; only int8 weights with int8 activations and float32 with float32 are supported")
        }
        let isQuantized = input.dataType == .int8
        if let bias {
            let expected: DataType = isQuantized ? .int32 : .float32
            guard bias.dataType == expected else {
                throw MicrogenError(.unsupported, "\(label): bias '\(bias.name)' is \(bias.dataType); \(input.dataType) operators need a bias of type \(expected)")
            }
        }
        if isQuantized {
            for t in [input, output] {
                guard let q = t.quantization, q.scales.count == 1, q.zeroPoints.count <= 1 else {
                    throw MicrogenError(.unsupported, "\(label): int8 tensor '\(t.name)' needs one scale and zero point (per-tensor quantization)")
                }
                guard q.scale > 0, q.scale.isFinite else {
                    throw MicrogenError(.malformedModel, "\(label): tensor '\(t.name)' has scale \(q.scale); it must be positive and finite")
                }
                guard (-128...127).contains(q.zeroPoint) else {
                    throw MicrogenError(.malformedModel, "\(label): tensor '\(t.name)' has zero point \(q.zeroPoint), outside the int8 range")
                }
            }
            guard let fq = filter.quantization, !fq.scales.isEmpty else {
                throw MicrogenError(.unsupported, "\(label): int8 weights '\(filter.name)' have no quantization parameters")
            }
            guard fq.scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw MicrogenError(.malformedModel, "\(label): weights '\(filter.name)' have a scale that is not positive and finite")
            }
            guard filter.isConstant else {
                throw MicrogenError(.unsupported, "\(label): int8 weights '\(filter.name)' must be a constant tensor")
            }
            if let bias, !bias.isConstant {
                throw MicrogenError(.unsupported, "\(label): int8 bias '\(bias.name)' must be a constant tensor")
            }
        }
        try checkActivation(op.fusedActivation, label: label)
        for t in [input, filter, output] + (bias.map { [$0] } ?? []) where t.shape.contains(where: { $0 <= 0 }) {
            throw MicrogenError(.unsupported, "\(label): tensor '\(t.name)' has shape \(t.shape.shapeString); every dimension must be at least 1")
        }
        if let bias, let data = bias.data, data.count != bias.byteCount {
            throw MicrogenError(.malformedModel, "\(label): bias '\(bias.name)' holds \(data.count) bytes, expected \(bias.byteCount)")
        }
        if let data = filter.data, data.count != filter.byteCount {
            throw MicrogenError(.malformedModel, "\(label): weights '\(filter.name)' hold \(data.count) bytes, expected \(filter.byteCount)")
        }
        return ConvolutionOperands(label: label, inputIndex: inputIndex, filterIndex: filterIndex, biasIndex: biasIndex,
                                   outputIndex: outputIndex, input: input, filter: filter, bias: bias, output: output,
                                   isQuantized: isQuantized)
    }

    static func checkActivation(_ activation: FusedActivation, label: String) throws {
        switch activation {
        case .none, .relu, .relu6, .reluN1To1: return
        case .tanh, .signBit:
            throw MicrogenError(.unsupported, "\(label): fused activation \(activation.rawValue) is not supported (only NONE, RELU, RELU6, RELU_N1_TO_1)")
        }
    }

    /// Checks the bias length and the per-channel layout of int8 weights: one scale for the
    /// whole tensor, or one per output channel along `axis` (TFLM's quantized dimension).
    /// `symmetric` refuses non-zero weight zero points (TFLM's conv kernels ignore them).
    static func checkChannels(_ operands: ConvolutionOperands, channels: Int, axis: Int, symmetric: Bool) throws {
        let label = operands.label
        if let bias = operands.bias, bias.elementCount != channels {
            throw MicrogenError(.malformedModel, "\(label): bias '\(bias.name)' has \(bias.elementCount) elements for \(channels) output channels")
        }
        guard operands.isQuantized, let fq = operands.filter.quantization else { return }
        if fq.scales.count > 1 {
            guard fq.scales.count == channels, fq.axis == axis else {
                throw MicrogenError(.unsupported, "\(label): weights '\(operands.filter.name)' have \(fq.scales.count) scales along axis \(fq.axis); expected one, or \(channels) along axis \(axis)")
            }
            guard fq.zeroPoints.allSatisfy({ $0 == 0 }) else {
                throw MicrogenError(.unsupported, "\(label): per-channel weights '\(operands.filter.name)' must be symmetric (zero point 0)")
            }
        } else if symmetric && fq.zeroPoint != 0 {
            throw MicrogenError(.unsupported, "\(label): weights '\(operands.filter.name)' have zero point \(fq.zeroPoint); only symmetric int8 weights (zero point 0) are supported")
        }
    }

    /// Per-channel requantization, as TFLM's PopulateConvolutionQuantizationParams computes it:
    /// input_scale * filter_scale / output_scale in double precision.
    static func perChannelMultipliers(inputScale: Float, filterScales: [Float], outputScale: Float) -> [QuantizedMultiplier] {
        filterScales.map { QuantizedMultiplier(Double(inputScale) * Double($0) / Double(outputScale)) }
    }

    /// Per-tensor requantization for FULLY_CONNECTED, as TFLM's GetQuantizedConvolutionMultipler:
    /// the scale product is rounded to float32 before the division in double.
    static func perTensorFloatProductMultiplier(inputScale: Float, filterScale: Float, outputScale: Float) -> QuantizedMultiplier {
        let product: Float = inputScale * filterScale
        return QuantizedMultiplier(Double(product) / Double(outputScale))
    }

    /// Sum of the int8 weights feeding each output channel. `channelStride` 1 with `tapStride`
    /// = channel count walks an innermost channel axis (depthwise); otherwise each channel's
    /// weights are one contiguous block (conv, fully connected).
    static func weightSums(_ weights: [Int8], channels: Int, channelIsInnermost: Bool) -> [Int] {
        var sums = [Int](repeating: 0, count: channels)
        if channelIsInnermost {
            for (i, w) in weights.enumerated() { sums[i % channels] += Int(w) }
        } else {
            let block = weights.count / channels
            for c in 0..<channels {
                for w in weights[(c * block)..<((c + 1) * block)] { sums[c] += Int(w) }
            }
        }
        return sums
    }

    /// bias[c] + constant[c], wrapped to int32 the way the int32 accumulator would wrap, so the
    /// kernel's sum equals TFLM's even in the corner cases.
    static func foldedBias(bias: Tensor?, channels: Int, adding constant: (Int) -> Int) -> [Int32] {
        let values = bias?.int32Values() ?? []
        return (0..<channels).map { c in
            let b = c < values.count ? Int(values[c]) : 0
            return Int32(truncatingIfNeeded: b + constant(c))
        }
    }

    /// Emits the multiplier and shift arrays (one entry when every channel shares them) and
    /// returns their names and whether they are per channel.
    static func emitRequantization(_ multipliers: [QuantizedMultiplier], context: EmitContext) -> (multiplier: String, shift: String, perChannel: Bool) {
        let shared = Set(multipliers).count == 1
        let used = shared ? [multipliers[0]] : multipliers
        let multiplier = context.constantArray("multiplier", cType: "int32_t", integers: used.map(\.multiplier))
        let shift = context.constantArray("shift", cType: "int32_t", integers: used.map { Int32($0.shift) })
        return (multiplier, shift, !shared)
    }

    static func int8ActivationRange(_ activation: FusedActivation, output: Tensor, label: String) throws -> (min: Int, max: Int) {
        guard let q = output.quantization else {
            throw MicrogenError(.unsupported, "\(label): int8 output '\(output.name)' has no quantization parameters")
        }
        do {
            return try quantizedActivationRange(activation, scale: q.scale, zeroPoint: q.zeroPoint)
        } catch let error as MicrogenError {
            throw MicrogenError(error.kind, "\(label): \(error.message)")
        }
    }

    static func floatActivationLiterals(_ activation: FusedActivation, label: String) throws -> (min: String, max: String) {
        do {
            let range = try floatActivationRange(activation)
            return (CWriter.floatLiteral(range.min), CWriter.floatLiteral(range.max))
        } catch let error as MicrogenError {
            throw MicrogenError(error.kind, "\(label): \(error.message)")
        }
    }

    /// Output size and leading padding of one spatial dimension, checked against the size the
    /// model's output tensor declares.
    static func spatial(_ padding: Padding, input: Int, filter: Int, stride: Int, dilation: Int, declaredOutput: Int,
                        dimension: String, label: String) throws -> SpatialPadding {
        guard stride >= 1, dilation >= 1 else {
            throw MicrogenError(.malformedModel, "\(label): \(dimension) stride \(stride) and dilation \(dilation) must be at least 1")
        }
        let p = spatialPadding(padding, inputSize: input, filterSize: filter, stride: stride, dilation: dilation)
        guard p.outputSize == declaredOutput, p.outputSize >= 1 else {
            throw MicrogenError(.malformedModel, "\(label): output \(dimension) is \(declaredOutput) but \(padding.rawValue) padding of input \(dimension) \(input) with filter \(filter), stride \(stride), dilation \(dilation) gives \(p.outputSize)")
        }
        return p
    }

    /// `(const T *)expr`, or NULL for a missing optional tensor.
    static func constPointer(_ index: Int?, cType: String, context: EmitContext) -> String {
        guard let index else { return "NULL" }
        return "(const \(cType) *)\(context.pointer(index))"
    }
}

import MicrogenIR
import MicrogenCompiler

/// DEPTHWISE_CONV_2D, int8 (per-channel along axis 3 or per-tensor weights) and float32,
/// any depth multiplier. int8 3x3 filters with stride 1 or 2 and no dilation go to the fast kernel
/// of `mg_depthwise_3x3.h` (which needs a scratch plane); everything else to `mg_depthwise_conv.h`.
public struct DepthwiseConvLowering: KernelLowering {
    public init() {}
    public var kinds: [OpKind] { [.depthwiseConv2D] }

    private struct Geometry {
        var operands: ConvolutionOperands
        var options: DepthwiseConv2DOptions
        var batches: Int, inputH: Int, inputW: Int, inputC: Int
        var filterH: Int, filterW: Int, depthMultiplier: Int
        var outputH: Int, outputW: Int, outputC: Int
        var rows: SpatialPadding, columns: SpatialPadding
    }

    private func geometry(_ op: Operator, in graph: Graph, index: Int?) throws -> Geometry {
        let operands = try ConvolutionSupport.operands(op, in: graph, index: index)
        let label = operands.label
        guard case .depthwiseConv2D(let options) = op.options else {
            throw MicrogenError(.malformedModel, "\(label): missing DepthwiseConv2D options")
        }
        let (input, filter, output) = (operands.input, operands.filter, operands.output)
        for t in [input, filter, output] where t.shape.count != 4 {
            throw MicrogenError(.unsupported, "\(label): tensor '\(t.name)' has shape \(t.shape.shapeString); DEPTHWISE_CONV_2D needs 4-D input, weights and output")
        }
        guard filter.shape[0] == 1 else {
            throw MicrogenError(.malformedModel, "\(label): weights '\(filter.name)' have shape \(filter.shape.shapeString); the first dimension must be 1")
        }
        let inputC = input.shape[3], outputC = filter.shape[3]
        guard output.shape[3] == outputC else {
            throw MicrogenError(.malformedModel, "\(label): output '\(output.name)' has \(output.shape[3]) channels but weights '\(filter.name)' have \(outputC)")
        }
        // The channel counts define the multiplier; TFLM assumes the option agrees with them.
        guard outputC % inputC == 0 else {
            throw MicrogenError(.unsupported, "\(label): \(outputC) output channels are not a multiple of the \(inputC) input channels of '\(input.name)'")
        }
        guard output.shape[0] == input.shape[0] else {
            throw MicrogenError(.malformedModel, "\(label): output '\(output.name)' batch \(output.shape[0]) differs from input '\(input.name)' batch \(input.shape[0])")
        }
        let rows = try ConvolutionSupport.spatial(options.padding, input: input.shape[1], filter: filter.shape[1], stride: options.strideH,
                                                  dilation: options.dilationH, declaredOutput: output.shape[1], dimension: "height", label: label)
        let columns = try ConvolutionSupport.spatial(options.padding, input: input.shape[2], filter: filter.shape[2], stride: options.strideW,
                                                     dilation: options.dilationW, declaredOutput: output.shape[2], dimension: "width", label: label)
        try ConvolutionSupport.checkChannels(operands, channels: outputC, axis: 3, symmetric: true)
        return Geometry(operands: operands, options: options, batches: input.shape[0], inputH: input.shape[1], inputW: input.shape[2],
                        inputC: inputC, filterH: filter.shape[1], filterW: filter.shape[2], depthMultiplier: outputC / inputC,
                        outputH: output.shape[1], outputW: output.shape[2], outputC: outputC, rows: rows, columns: columns)
    }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try geometry(op, in: graph, index: ConvolutionSupport.index(of: op, in: graph))
    }

    /// The plane of the 3x3 kernel, or nil when this operator takes the general kernel.
    private func plane3x3(_ g: Geometry) -> DepthwiseSupport.Plane? {
        guard g.operands.isQuantized, !KernelVariant.isForced(.depthwiseS8Reference),
              DepthwiseSupport.fits3x3(filterH: g.filterH, filterW: g.filterW, strideH: g.options.strideH, strideW: g.options.strideW,
                          dilationH: g.options.dilationH, dilationW: g.options.dilationW) else { return nil }
        return DepthwiseSupport.plane(inputH: g.inputH, inputW: g.inputW, outputH: g.outputH, outputW: g.outputW,
                                      strideH: g.options.strideH, strideW: g.options.strideW,
                                      padTop: g.rows.before, padLeft: g.columns.before)
    }

    public func scratchBytes(_ op: Operator, in graph: Graph) -> Int {
        guard let g = try? geometry(op, in: graph, index: nil) else { return 0 }
        return plane3x3(g)?.bytes ?? 0
    }

    /// In place over the input with the 3x3 kernel: it copies input channel c into its plane
    /// before writing output channel c, and with one output channel per input channel output
    /// channel c lands only on bytes of input channel c. The plane is the "line buffer" of
    /// TinyEngine's in-place depthwise convolution. (A strided one would be exact too, but its
    /// smaller output would keep the whole input's buffer alive, which costs more than it saves.)
    public func inPlaceInput(_ op: Operator, in graph: Graph) -> Int? {
        guard let g = try? geometry(op, in: graph, index: nil), plane3x3(g) != nil, g.depthMultiplier == 1,
              g.outputH == g.inputH, g.outputW == g.inputW else { return nil }
        return 0
    }

    public func macs(_ op: Operator, in graph: Graph) -> Int {
        guard let g = try? geometry(op, in: graph, index: nil) else { return 0 }
        return g.batches * g.outputH * g.outputW * g.outputC * g.filterH * g.filterW
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let g = try geometry(op, in: context.graph, index: context.operatorIndex)
        let operands = g.operands
        let input = context.pointer(operands.inputIndex)
        let output = context.pointer(operands.outputIndex)

        if operands.isQuantized {
            let inputQ = operands.input.quantization!, outputQ = operands.output.quantization!, filterQ = operands.filter.quantization!
            let scales = filterQ.isPerChannel ? filterQ.scales : [Float](repeating: filterQ.scale, count: g.outputC)
            let multipliers = try ConvolutionSupport.perChannelMultipliers(inputScale: inputQ.scale, filterScales: scales, outputScale: outputQ.scale)
            let sums = ConvolutionSupport.weightSums(operands.filter.int8Values(), channels: g.outputC, channelIsInnermost: true)
            let folded = ConvolutionSupport.foldedBias(bias: operands.bias, channels: g.outputC) { -inputQ.zeroPoint * sums[$0] }
            let range = try ConvolutionSupport.int8ActivationRange(g.options.activation, output: operands.output, label: operands.label)
            if let plane = plane3x3(g) {
                return try lower3x3(g, plane: plane, foldedBias: folded, multipliers: multipliers, range: range, context: context)
            }
            let bias = context.constantArray("folded_bias", cType: "int32_t", integers: folded)
            let requant = ConvolutionSupport.emitRequantization(multipliers, context: context)
            let params = context.constantStruct("params", type: "mg_depthwise_conv_s8_params", fields: window(g).fields + [("depth_multiplier", "\(g.depthMultiplier)")]
                + ConvolutionWindow.int8Fields(inputZeroPoint: inputQ.zeroPoint, outputZeroPoint: outputQ.zeroPoint, range: range,
                                               foldedBias: bias, requant: requant))
            let filter = ConvolutionSupport.constPointer(operands.filterIndex, cType: "int8_t", context: context)
            try KernelVariant.honour([.depthwiseS8Reference], family: .depthwise, label: operands.label)
            return LoweredOperator(kernelHeaders: ["mg_depthwise_conv.h"],
                                   statements: "mg_depthwise_conv_s8(&\(params), \(input), \(filter), \(output));",
                                   variants: [.depthwiseS8Reference])
        }

        let range = try ConvolutionSupport.floatActivationLiterals(g.options.activation, label: operands.label)
        let params = context.constantStruct("params", type: "mg_depthwise_conv_f32_params", fields: window(g).fields
            + [("depth_multiplier", "\(g.depthMultiplier)"), ("activation_min", range.min), ("activation_max", range.max)])
        let filter = ConvolutionSupport.constPointer(operands.filterIndex, cType: "float", context: context)
        let bias = ConvolutionSupport.constPointer(operands.biasIndex, cType: "float", context: context)
        try KernelVariant.honour([.depthwiseF32], family: .depthwise, label: operands.label)
        return LoweredOperator(kernelHeaders: ["mg_depthwise_conv.h"],
                               statements: "mg_depthwise_conv_f32(&\(params), \(input), \(filter), \(bias), \(output));",
                               variants: [.depthwiseF32])
    }

    /// The 3x3 kernel: one table of packed weights and requantization constants per channel.
    private func lower3x3(_ g: Geometry, plane: DepthwiseSupport.Plane, foldedBias: [Int32], multipliers: [QuantizedMultiplier],
                          range: (min: Int, max: Int), context: EmitContext) throws -> LoweredOperator {
        let operands = g.operands
        let inputQ = operands.input.quantization!, outputQ = operands.output.quantization!
        let weights = operands.filter.int8Values()
        let bounds = DepthwiseSupport.maxAccumulator(weights: weights, channels: g.outputC, foldedBias: foldedBias)
        // TFLM's requantization is exact everywhere; a test may force it where the fast one is too.
        let fast = !KernelVariant.isForced(.depthwiseS8x3x3Exact)
            && DepthwiseSupport.fastRequantization(multipliers, maxAccumulator: bounds, outputZeroPoint: outputQ.zeroPoint)
        let variant: KernelVariant = fast ? .depthwiseS8x3x3Fast : .depthwiseS8x3x3Exact
        try KernelVariant.honour([variant], family: .depthwise, label: operands.label)
        let words = DepthwiseSupport.channelTable(weights: weights, channels: g.outputC, foldedBias: foldedBias,
                                                  multipliers: multipliers, outputZeroPoint: outputQ.zeroPoint, fast: fast)
        let table = context.constantArray("channels", cType: "int32_t", integers: words)
        let params = context.constantStruct("params", type: "mg_dw3x3_s8_params", fields: [
            "batches": "\(g.batches)", "input_h": "\(g.inputH)", "input_w": "\(g.inputW)", "input_c": "\(g.inputC)",
            "depth_multiplier": "\(g.depthMultiplier)", "output_h": "\(g.outputH)", "output_w": "\(g.outputW)",
            "stride_h": "\(g.options.strideH)", "stride_w": "\(g.options.strideW)",
            "pad_top": "\(g.rows.before)", "pad_left": "\(g.columns.before)",
            "plane_h": "\(plane.height)", "plane_w": "\(plane.width)",
            "copy_h": "\(plane.copyHeight)", "copy_w": "\(plane.copyWidth)",
            "input_zero_point": "\(inputQ.zeroPoint)", "output_zero_point": "\(outputQ.zeroPoint)",
            "activation_min": "\(range.min)", "activation_max": "\(range.max)",
            "fast_requantize": fast ? "1" : "0", "channel": table,
        ])
        let input = context.pointer(operands.inputIndex), output = context.pointer(operands.outputIndex)
        let scratch = "(int16_t *)\(context.scratchPointer())"
        return LoweredOperator(kernelHeaders: ["mg_depthwise_3x3.h"],
                               statements: "mg_depthwise_conv_3x3_s8(&\(params), \(input), \(scratch), \(output));", variants: [variant])
    }

    private func window(_ g: Geometry) -> ConvolutionWindow {
        ConvolutionWindow(batches: g.batches, inputH: g.inputH, inputW: g.inputW, inputC: g.inputC,
                          filterH: g.filterH, filterW: g.filterW, outputH: g.outputH, outputW: g.outputW, outputC: g.outputC,
                          strideH: g.options.strideH, strideW: g.options.strideW,
                          dilationH: g.options.dilationH, dilationW: g.options.dilationW, rows: g.rows, columns: g.columns)
    }
}

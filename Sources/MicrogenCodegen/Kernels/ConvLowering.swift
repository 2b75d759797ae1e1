import MicrogenIR
import MicrogenCompiler

/// CONV_2D, int8 (per-channel or per-tensor weights) and float32, onto `mg_conv.h`.
public struct ConvLowering: KernelLowering {
    public init() {}
    public var kinds: [OpKind] { [.conv2D] }

    /// Everything the kernel needs, derived from the operator and checked.
    private struct Geometry {
        var operands: ConvolutionOperands
        var options: Conv2DOptions
        var batches: Int, inputH: Int, inputW: Int, inputC: Int
        var filterH: Int, filterW: Int, filterInC: Int
        var outputH: Int, outputW: Int, outputC: Int
        var rows: SpatialPadding, columns: SpatialPadding
    }

    private func geometry(_ op: Operator, in graph: Graph, index: Int?) throws -> Geometry {
        let operands = try ConvolutionSupport.operands(op, in: graph, index: index)
        let label = operands.label
        guard case .conv2D(let options) = op.options else {
            throw MicrogenError(.malformedModel, "\(label): missing Conv2D options")
        }
        let (input, filter, output) = (operands.input, operands.filter, operands.output)
        for t in [input, filter, output] where t.shape.count != 4 {
            throw MicrogenError(.unsupported, "\(label): tensor '\(t.name)' has shape \(t.shape.shapeString); CONV_2D needs 4-D input, weights and output (NHWC, OHWI)")
        }
        let outputC = filter.shape[0], filterInC = filter.shape[3], inputC = input.shape[3]
        guard output.shape[3] == outputC else {
            throw MicrogenError(.malformedModel, "\(label): output '\(output.name)' has \(output.shape[3]) channels but weights '\(filter.name)' have \(outputC) filters")
        }
        guard inputC % filterInC == 0, outputC % (inputC / filterInC) == 0 else {
            throw MicrogenError(.unsupported, "\(label): input '\(input.name)' has \(inputC) channels and weights '\(filter.name)' take \(filterInC); the groups do not divide the \(outputC) filters evenly")
        }
        guard output.shape[0] == input.shape[0] else {
            throw MicrogenError(.malformedModel, "\(label): output '\(output.name)' batch \(output.shape[0]) differs from input '\(input.name)' batch \(input.shape[0])")
        }
        let rows = try ConvolutionSupport.spatial(options.padding, input: input.shape[1], filter: filter.shape[1], stride: options.strideH,
                                                  dilation: options.dilationH, declaredOutput: output.shape[1], dimension: "height", label: label)
        let columns = try ConvolutionSupport.spatial(options.padding, input: input.shape[2], filter: filter.shape[2], stride: options.strideW,
                                                     dilation: options.dilationW, declaredOutput: output.shape[2], dimension: "width", label: label)
        try ConvolutionSupport.checkChannels(operands, channels: outputC, axis: 0, symmetric: true)
        return Geometry(operands: operands, options: options, batches: input.shape[0], inputH: input.shape[1], inputW: input.shape[2],
                        inputC: inputC, filterH: filter.shape[1], filterW: filter.shape[2], filterInC: filterInC,
                        outputH: output.shape[1], outputW: output.shape[2], outputC: outputC, rows: rows, columns: columns)
    }

    /// A fused operator's convolution alone (its own inputs, its result as the tensor it is
    /// quantized as) and the residual ADD; an unfused operator as it is.
    private func convolutionPart(_ op: Operator) -> (op: Operator, residual: ResidualAdd?) {
        guard case .conv2D(var options) = op.options, let residual = options.residual else { return (op, nil) }
        options.residual = nil
        return (Operator(kind: .conv2D, inputs: Array(op.inputs.dropLast()), outputs: [residual.convolutionOutput], options: .conv2D(options)),
                residual)
    }

    /// The fused residual ADD as the standalone operator it replaced.
    static func residualAdd(_ residual: ResidualAdd, output: Int) -> Operator {
        let inputs = residual.residualFirst ? [residual.residual, residual.convolutionOutput] : [residual.convolutionOutput, residual.residual]
        return Operator(kind: .add, inputs: inputs, outputs: [output], options: .elementwise(activation: residual.activation))
    }

    /// True when the fast kernel computes this convolution, so an ADD can be fused into it.
    func canFuseResidual(_ op: Operator, in graph: Graph) -> Bool {
        guard let g = try? geometry(op, in: graph, index: nil) else { return false }
        return gather(g) != nil
    }

    public func check(_ op: Operator, in graph: Graph) throws {
        let index = ConvolutionSupport.index(of: op, in: graph)
        let (conv, residual) = convolutionPart(op)
        let g = try geometry(conv, in: graph, index: index)
        if let residual {
            guard gather(g) != nil else {
                throw MicrogenError(.unsupported, "CONV_2D (operator \(index.map(String.init) ?? "?")): a residual ADD is fused into a convolution the fast kernel does not compute")
            }
            try ElementwiseLowering().check(Self.residualAdd(residual, output: op.outputs[0]), in: graph)
        }
    }

    public func macs(_ op: Operator, in graph: Graph) -> Int {
        guard let g = try? geometry(convolutionPart(op).op, in: graph, index: nil) else { return 0 }
        return g.batches * g.outputH * g.outputW * g.outputC * g.filterH * g.filterW * g.filterInC
    }

    /// How `mg_conv_fast.h` gathers an int8 convolution's patches.
    private struct Gather {
        var groups: Int
        var mode: String
        /// The byte buffer (a row or a whole patch assembled with padding), 0 if unused.
        var rowBytes: Int
        var rowBytesAligned: Int { (rowBytes + 3) / 4 * 4 }
        var variant: KernelVariant {
            switch mode {
            case "MG_CONV_GATHER_POINT": return .convS8GatherPoint
            case "MG_CONV_GATHER_ROWS": return .convS8GatherRows
            default: return .convS8GatherPatch
            }
        }
    }

    /// nil for the configurations the fast kernel does not cover (grouped convolution, float).
    private func gather(_ g: Geometry) -> Gather? {
        guard g.operands.isQuantized, g.filterInC == g.inputC, !KernelVariant.isForced(.convS8Reference) else { return nil }
        let groups = (g.filterH * g.filterW * g.inputC + 3) / 4
        let rowLength = g.filterW * g.inputC
        if g.filterH == 1, g.filterW == 1, g.rows.total == 0, g.columns.total == 0, g.inputC % 4 == 0 {
            return Gather(groups: groups, mode: "MG_CONV_GATHER_POINT", rowBytes: 0)
        }
        if rowLength % 4 == 0 {
            return Gather(groups: groups, mode: "MG_CONV_GATHER_ROWS", rowBytes: rowLength)
        }
        return Gather(groups: groups, mode: "MG_CONV_GATHER_PATCH", rowBytes: 4 * groups)
    }

    /// Everything the fast kernel is given, chosen once for scratchBytes and lower alike.
    private struct FastDesign {
        var gather: Gather
        var requant: PackedRequantization
        /// Flash order: per channel pair, per group, 4 bytes of each channel.
        var weights: [Int8]
        /// One per channel, padded to an even count.
        var bias: [Int32]
        var blockPixels: Int
        var scratchBytes: Int
    }

    /// The block scheme (weights widened once per block of pixels, 10 instructions per group of
    /// 16 multiply-adds) when the arena has room for a block of at least this many pixels beside
    /// the operator's tensors; otherwise the "times 256" form (12, two patches of scratch).
    private static let minimumBlock = 8
    /// At most this many bytes of patches per block.
    private static let patchBudget = 8192

    private func design(_ g: Geometry, op: Operator, graph: Graph) throws -> FastDesign? {
        guard let gather = gather(g) else { return nil }
        let operands = g.operands
        let inputQ = operands.input.quantization!, outputQ = operands.output.quantization!, filterQ = operands.filter.quantization!
        let scales = filterQ.isPerChannel ? filterQ.scales : [Float](repeating: filterQ.scale, count: g.outputC)
        let multipliers = try ConvolutionSupport.perChannelMultipliers(inputScale: inputQ.scale, filterScales: scales, outputScale: outputQ.scale)
        let weights = operands.filter.int8Values()
        let sums = ConvolutionSupport.weightSums(weights, channels: g.outputC, channelIsInnermost: false)
        let folded = ConvolutionSupport.foldedBias(bias: operands.bias, channels: g.outputC) { -inputQ.zeroPoint * sums[$0] }
        let bound = ConvolutionSupport.accumulatorBound(weights: weights, bias: folded, channels: g.outputC)
        let depth = g.filterH * g.filterW * g.inputC
        let packed = ConvolutionSupport.packGroupedWeights(weights, rows: g.outputC, depth: depth, block: 2)
        let padding: [Int32] = g.outputC % 2 == 1 ? [0] : []
        let groups = gather.groups

        // The largest block (even, at most the image and the patch budget) that fits beside the
        // tensors live at this operator without raising the arena's peak.
        func blockScratch(_ pixels: Int) -> Int { 8 * pixels * groups + 16 * groups + 8 * pixels + gather.rowBytesAligned }
        let free = ConvolutionSupport.freeArenaBytes(at: op, in: graph)
        let largest = min((g.outputH * g.outputW + 1) / 2 * 2, max(2, Self.patchBudget / (8 * groups) / 2 * 2))
        let roomy = stride(from: largest, through: 2, by: -2).first { blockScratch($0) <= free }

        let preferred = KernelVariant.forcedRequantization(.convolution)
        if preferred.map({ $0 == .x256 }) ?? (roomy ?? 0 < Self.minimumBlock),
           let x256 = ConvolutionSupport.x256Requantization(multipliers, outputZeroPoint: outputQ.zeroPoint, accumulatorBound: bound),
           let encoded = ConvolutionSupport.x256Weights(packed) {
            let pairs = (g.outputC + 1) / 2
            let bias = ConvolutionSupport.x256Bias(weights: weights, folded: folded, depth: depth) + padding
            return FastDesign(gather: gather, requant: x256, weights: encoded, bias: bias, blockPixels: 2,
                              scratchBytes: 16 * groups + 16 * pairs + gather.rowBytesAligned)
        }
        let requant = ConvolutionSupport.packedRequantization(multipliers, outputZeroPoint: outputQ.zeroPoint, accumulatorBound: bound,
                                                              preferring: preferred)
        let block = roomy ?? 2
        return FastDesign(gather: gather, requant: requant, weights: packed,
                          bias: folded.map { Int32(Int($0) * requant.accumulatorScale) } + padding,
                          blockPixels: block, scratchBytes: blockScratch(block))
    }

    /// A pointwise (1x1, stride 1, unpadded) convolution with as many output as input channels
    /// runs in place with the fast kernel: it gathers a block's pixels into scratch before writing
    /// their outputs, and output pixel p ends at byte (p + 1) * output_c, where input pixel p + 1
    /// begins. (Fewer output channels would be exact too, but the planner merges equal sizes
    /// only; the general kernel reads a pixel while writing it: never in place.)
    public func inPlaceInput(_ op: Operator, in graph: Graph) -> Int? {
        // A fused residual ADD writes over its residual: output value i is the last to read it;
        // unless the convolution reads the residual too (an identity shortcut from its own input),
        // at other positions than it writes.
        if let residual = convolutionPart(op).residual {
            return op.inputs.dropLast().contains(residual.residual) ? nil : op.inputs.count - 1
        }
        guard let g = try? geometry(op, in: graph, index: nil), gather(g) != nil,
              g.filterH == 1, g.filterW == 1, g.options.strideH == 1, g.options.strideW == 1,
              g.rows.total == 0, g.columns.total == 0, g.outputC == g.inputC else { return nil }
        return 0
    }

    public func scratchBytes(_ op: Operator, in graph: Graph) -> Int {
        guard let g = try? geometry(convolutionPart(op).op, in: graph, index: nil), let d = try? design(g, op: op, graph: graph) else { return 0 }
        return d.scratchBytes
    }

    /// The int8 kernel of mg_conv_fast.h; with the fused residual ADD's parameters, and its
    /// output (the ADD's) where the operator's output is.
    private func lowerFast(_ g: Geometry, design d: FastDesign, op: Operator, residual: ResidualAdd?, context: EmitContext) throws -> LoweredOperator {
        let residualParams = try residual.map {
            try ElementwiseLowering.addTableParams(Self.residualAdd($0, output: op.outputs[0]), context: context, name: "residual_add")
        }
        let operands = g.operands
        let inputQ = operands.input.quantization!, outputQ = operands.output.quantization!
        let range = try ConvolutionSupport.int8ActivationRange(g.options.activation, output: operands.output, label: operands.label)
        let params = context.constantStruct("params", type: "mg_conv_s8_fast_params", fields: [
            ("batches", "\(g.batches)"), ("input_h", "\(g.inputH)"), ("input_w", "\(g.inputW)"), ("input_c", "\(g.inputC)"),
            ("filter_h", "\(g.filterH)"), ("filter_w", "\(g.filterW)"),
            ("output_h", "\(g.outputH)"), ("output_w", "\(g.outputW)"), ("output_c", "\(g.outputC)"),
            ("stride_h", "\(g.options.strideH)"), ("stride_w", "\(g.options.strideW)"),
            ("dilation_h", "\(g.options.dilationH)"), ("dilation_w", "\(g.options.dilationW)"),
            ("pad_top", "\(g.rows.before)"), ("pad_left", "\(g.columns.before)"),
            ("input_zero_point", "\(inputQ.zeroPoint)"),
            ("groups", "\(d.gather.groups)"), ("gather", d.gather.mode), ("row_bytes", "\(d.gather.rowBytes)"),
            ("block_pixels", "\(d.blockPixels)"),
            ("weights", context.constantArray("weights", cType: "int8_t", integers: d.weights)),
            ("bias", context.constantArray("bias", cType: "int32_t", integers: d.bias)),
            // An odd last channel reads a zero channel's constants beside its own.
            ("requant", context.constantArray("requant", cType: "int32_t",
                                              integers: d.requant.words + [Int32](repeating: 0, count: g.outputC % 2 * 4))),
            ("requant_params", ConvolutionSupport.requantParams(d.requant, outputZeroPoint: outputQ.zeroPoint, range: range)),
            ("residual_add", residualParams.map { "&\($0)" } ?? "0"),
            ("residual_first", residual?.residualFirst == true ? "1" : "0"),
        ])
        let input = context.pointer(operands.inputIndex)
        let output = context.pointer(op.outputs[0])
        let residualPointer = residual.map { "(const int8_t *)\(context.pointer($0.residual))" } ?? "0"
        let variants = [KernelVariant.fastConvolution(d.requant.mode), d.gather.variant]
        try KernelVariant.honour(variants, family: .convolution, label: operands.label)
        return LoweredOperator(kernelHeaders: ["mg_conv_fast.h"],
                               statements: "mg_conv_s8_fast(&\(params), \(input), \(output), \(residualPointer), \(context.scratchPointer()));",
                               variants: variants)
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let (conv, residual) = convolutionPart(op)
        let g = try geometry(conv, in: context.graph, index: context.operatorIndex)
        if let d = try design(g, op: op, graph: context.graph) {
            return try lowerFast(g, design: d, op: op, residual: residual, context: context)
        }
        let operands = g.operands
        guard residual == nil else {
            throw MicrogenError(.unsupported, "\(operands.label): a residual ADD is fused into a convolution the fast kernel does not compute")
        }
        let input = context.pointer(operands.inputIndex)
        let output = context.pointer(operands.outputIndex)

        if operands.isQuantized {
            let inputQ = operands.input.quantization!, outputQ = operands.output.quantization!, filterQ = operands.filter.quantization!
            let scales = filterQ.isPerChannel ? filterQ.scales : [Float](repeating: filterQ.scale, count: g.outputC)
            let multipliers = try ConvolutionSupport.perChannelMultipliers(inputScale: inputQ.scale, filterScales: scales, outputScale: outputQ.scale)
            let sums = ConvolutionSupport.weightSums(operands.filter.int8Values(), channels: g.outputC, channelIsInnermost: false)
            let folded = ConvolutionSupport.foldedBias(bias: operands.bias, channels: g.outputC) { -inputQ.zeroPoint * sums[$0] }
            let range = try ConvolutionSupport.int8ActivationRange(g.options.activation, output: operands.output, label: operands.label)
            let bias = context.constantArray("folded_bias", cType: "int32_t", integers: folded)
            let requant = ConvolutionSupport.emitRequantization(multipliers, context: context)
            let params = context.constantStruct("params", type: "mg_conv_s8_params", fields: window(g).fields + [("filter_in_c", "\(g.filterInC)")]
                + ConvolutionWindow.int8Fields(inputZeroPoint: inputQ.zeroPoint, outputZeroPoint: outputQ.zeroPoint, range: range,
                                               foldedBias: bias, requant: requant))
            let filter = ConvolutionSupport.constPointer(operands.filterIndex, cType: "int8_t", context: context)
            let variant: KernelVariant = g.filterInC == g.inputC ? .convS8Reference : .convS8Grouped
            try KernelVariant.honour([variant], family: .convolution, label: operands.label)
            return LoweredOperator(kernelHeaders: ["mg_conv.h"],
                                   statements: "mg_conv_s8(&\(params), \(input), \(filter), \(output));", variants: [variant])
        }

        let range = try ConvolutionSupport.floatActivationLiterals(g.options.activation, label: operands.label)
        let params = context.constantStruct("params", type: "mg_conv_f32_params", fields: window(g).fields
            + [("filter_in_c", "\(g.filterInC)"), ("activation_min", range.min), ("activation_max", range.max)])
        let filter = ConvolutionSupport.constPointer(operands.filterIndex, cType: "float", context: context)
        let bias = ConvolutionSupport.constPointer(operands.biasIndex, cType: "float", context: context)
        try KernelVariant.honour([.convF32], family: .convolution, label: operands.label)
        return LoweredOperator(kernelHeaders: ["mg_conv.h"],
                               statements: "mg_conv_f32(&\(params), \(input), \(filter), \(bias), \(output));", variants: [.convF32])
    }

    private func window(_ g: Geometry) -> ConvolutionWindow {
        ConvolutionWindow(batches: g.batches, inputH: g.inputH, inputW: g.inputW, inputC: g.inputC,
                          filterH: g.filterH, filterW: g.filterW, outputH: g.outputH, outputW: g.outputW, outputC: g.outputC,
                          strideH: g.options.strideH, strideW: g.options.strideW,
                          dilationH: g.options.dilationH, dilationW: g.options.dilationW, rows: g.rows, columns: g.columns)
    }
}

import MicrogenIR
import MicrogenCompiler

/// FULLY_CONNECTED, int8 (per-tensor or per-channel weights) and float32, onto
/// `mg_fully_connected.h`. Any input shape is read as [batches, depth] with depth the weights'
/// second dimension; keep_num_dims only changes the output's shape, not its bytes.
public struct FullyConnectedLowering: KernelLowering {
    public init() {}
    public var kinds: [OpKind] { [.fullyConnected] }

    private struct Geometry {
        var operands: ConvolutionOperands
        var options: FullyConnectedOptions
        var batches: Int, depth: Int, outputDepth: Int
    }

    private func geometry(_ op: Operator, in graph: Graph, index: Int?) throws -> Geometry {
        let operands = try ConvolutionSupport.operands(op, in: graph, index: index)
        let label = operands.label
        guard case .fullyConnected(let options) = op.options else {
            throw MicrogenError(.malformedModel, "\(label): missing FullyConnected options")
        }
        let (input, filter, output) = (operands.input, operands.filter, operands.output)
        guard filter.shape.count == 2 else {
            throw MicrogenError(.unsupported, "\(label): weights '\(filter.name)' have shape \(filter.shape.shapeString); expected [output depth, input depth]")
        }
        guard (1...4).contains(input.shape.count), (1...4).contains(output.shape.count) else {
            throw MicrogenError(.unsupported, "\(label): input '\(input.name)' (\(input.shape.shapeString)) and output '\(output.name)' (\(output.shape.shapeString)) must have 1 to 4 dimensions")
        }
        let outputDepth = filter.shape[0], depth = filter.shape[1]
        guard output.shape.last == outputDepth else {
            throw MicrogenError(.malformedModel, "\(label): output '\(output.name)' has shape \(output.shape.shapeString) but weights '\(filter.name)' have \(outputDepth) rows")
        }
        let batches = output.elementCount / outputDepth
        guard input.elementCount == batches * depth else {
            throw MicrogenError(.malformedModel, "\(label): input '\(input.name)' has \(input.elementCount) elements (\(input.shape.shapeString)); \(batches) batch(es) of depth \(depth) need \(batches * depth)")
        }
        try ConvolutionSupport.checkChannels(operands, channels: outputDepth, axis: 0, symmetric: false)
        return Geometry(operands: operands, options: options, batches: batches, depth: depth, outputDepth: outputDepth)
    }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try geometry(op, in: graph, index: ConvolutionSupport.index(of: op, in: graph))
    }

    public func macs(_ op: Operator, in graph: Graph) -> Int {
        guard let g = try? geometry(op, in: graph, index: nil) else { return 0 }
        return g.batches * g.outputDepth * g.depth
    }

    /// The fast int8 kernel (mg_fc_fast.h) takes symmetric weights; the reference kernel the rest.
    private func usesFastKernel(_ g: Geometry) -> Bool {
        guard g.operands.isQuantized, let q = g.operands.filter.quantization,
              !KernelVariant.isForced(.fullyConnectedS8Reference) else { return false }
        return q.zeroPoints.allSatisfy { $0 == 0 }
    }

    private func groups(_ g: Geometry) -> Int { (g.depth + 3) / 4 }

    /// How mg_fc_fast.h walks the row and the outputs: `groups` groups of 4 inputs widened at a
    /// time (8 bytes each), `blocks` blocks of 4 outputs summed at a time (16 bytes each).
    private struct Chunking: Equatable {
        var groups: Int
        var blocks: Int
        var scratchBytes: Int { 8 * groups + 16 * blocks }
    }

    /// The scratch fits what the arena has to spare beside the live tensors; where this operator
    /// sets the arena's peak (nothing to spare) it may take half its own tensors' bytes. Within
    /// that: the whole row widened once if it fits, with as many output blocks as fit; otherwise
    /// the row in chunks, widened again for every output chunk, with the split that widens least.
    private func chunking(_ g: Geometry, op: Operator, graph: Graph) -> Chunking {
        let groups = groups(g), blocks = (g.outputDepth + 3) / 4
        let own = g.operands.input.byteCount + g.operands.output.byteCount
        let budget = max(ConvolutionSupport.freeArenaBytes(at: op, in: graph), own / 2, 8 + 16)
        // Forced (tests): the smallest chunks, which widen the row once per output block.
        if KernelVariant.isForced(.fullyConnectedS8FastChunked) { return Chunking(groups: 1, blocks: 1) }
        if 8 * groups + 16 <= budget {
            return Chunking(groups: groups, blocks: min(blocks, (budget - 8 * groups) / 16))
        }
        // Cost in instructions, roughly: 5 per group widened, 20 per call of the dot kernel.
        var best = Chunking(groups: 1, blocks: 1), bestCost = Int.max
        for chunkBlocks in 1...blocks {
            let chunkGroups = (budget - 16 * chunkBlocks) / 8
            guard chunkGroups >= 1 else { break }
            let outputChunks = (blocks + chunkBlocks - 1) / chunkBlocks
            let cost = outputChunks * (5 * groups + 20 * ((groups + chunkGroups - 1) / chunkGroups))
            if cost < bestCost { (best, bestCost) = (Chunking(groups: chunkGroups, blocks: chunkBlocks), cost) }
        }
        return best
    }

    public func scratchBytes(_ op: Operator, in graph: Graph) -> Int {
        guard let g = try? geometry(op, in: graph, index: nil), usesFastKernel(g) else { return 0 }
        return chunking(g, op: op, graph: graph).scratchBytes
    }

    private func lowerFast(_ g: Geometry, op: Operator, context: EmitContext) throws -> LoweredOperator {
        let chunks = chunking(g, op: op, graph: context.graph)
        let operands = g.operands
        let inputQ = operands.input.quantization!, outputQ = operands.output.quantization!, filterQ = operands.filter.quantization!
        let multipliers: [QuantizedMultiplier]
        if filterQ.isPerChannel {
            multipliers = try ConvolutionSupport.perChannelMultipliers(inputScale: inputQ.scale, filterScales: filterQ.scales, outputScale: outputQ.scale)
        } else {
            multipliers = [try ConvolutionSupport.perTensorFloatProductMultiplier(inputScale: inputQ.scale, filterScale: filterQ.scale, outputScale: outputQ.scale)]
        }
        let weights = operands.filter.int8Values()
        let sums = ConvolutionSupport.weightSums(weights, channels: g.outputDepth, channelIsInnermost: false)
        let zx = inputQ.zeroPoint
        let folded = ConvolutionSupport.foldedBias(bias: operands.bias, channels: g.outputDepth) { -zx * sums[$0] }
        let range = try ConvolutionSupport.int8ActivationRange(g.options.activation, output: operands.output, label: operands.label)
        let shared = Set(multipliers).count == 1
        let bound = ConvolutionSupport.accumulatorBound(weights: weights, bias: folded, channels: g.outputDepth)
        let used = shared ? [multipliers[0]] : multipliers
        var packed = ConvolutionSupport.packGroupedWeights(weights, rows: g.outputDepth, depth: g.depth, block: 4,
                                                           groupsPerChunk: chunks.groups)
        let preferred = KernelVariant.forcedRequantization(.fullyConnected)
        var requant = ConvolutionSupport.packedRequantization(used, outputZeroPoint: outputQ.zeroPoint, accumulatorBound: bound,
                                                              preferring: preferred)
        var bias = folded.map { Int32(Int($0) * requant.accumulatorScale) }
        if preferred ?? .x256 == .x256, let x256 = ConvolutionSupport.x256Requantization(used, outputZeroPoint: outputQ.zeroPoint, accumulatorBound: bound),
           let encoded = ConvolutionSupport.x256Weights(packed) {
            // The kernel's sums are 256 * acc + 127 * (the weights at even positions of each group).
            requant = x256
            packed = encoded
            bias = ConvolutionSupport.x256Bias(weights: weights, folded: folded, depth: g.depth)
        }
        let params = context.constantStruct("params", type: "mg_fc_s8_fast_params", fields: [
            ("batches", "\(g.batches)"), ("depth", "\(g.depth)"), ("output_depth", "\(g.outputDepth)"),
            ("groups", "\(groups(g))"), ("chunk_groups", "\(chunks.groups)"), ("chunk_blocks", "\(chunks.blocks)"),
            ("weights", context.constantArray("weights", cType: "int8_t", integers: packed)),
            ("bias", context.constantArray("bias", cType: "int32_t",
                                           integers: bias + [Int32](repeating: 0, count: (4 - g.outputDepth % 4) % 4))),
            ("requant", context.constantArray("requant", cType: "int32_t", integers: requant.words)),
            ("per_channel", shared ? "0" : "1"),
            ("requant_params", ConvolutionSupport.requantParams(requant, outputZeroPoint: outputQ.zeroPoint, range: range)),
        ])
        let input = context.pointer(operands.inputIndex)
        let output = context.pointer(operands.outputIndex)
        let variants = [KernelVariant.fastFullyConnected(requant.mode)] + (chunks.groups < groups(g) ? [.fullyConnectedS8FastChunked] : [])
        try KernelVariant.honour(variants, family: .fullyConnected, label: operands.label)
        return LoweredOperator(kernelHeaders: ["mg_fc_fast.h"],
                               statements: "mg_fc_s8_fast(&\(params), \(input), \(output), \(context.scratchPointer()));", variants: variants)
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let g = try geometry(op, in: context.graph, index: context.operatorIndex)
        if usesFastKernel(g) { return try lowerFast(g, op: op, context: context) }
        let operands = g.operands
        let input = context.pointer(operands.inputIndex)
        let output = context.pointer(operands.outputIndex)

        if operands.isQuantized {
            let inputQ = operands.input.quantization!, outputQ = operands.output.quantization!, filterQ = operands.filter.quantization!
            let multipliers: [QuantizedMultiplier]
            let weightsZeroPoint: Int
            if filterQ.isPerChannel {
                multipliers = try ConvolutionSupport.perChannelMultipliers(inputScale: inputQ.scale, filterScales: filterQ.scales, outputScale: outputQ.scale)
                weightsZeroPoint = 0
            } else {
                multipliers = [try ConvolutionSupport.perTensorFloatProductMultiplier(inputScale: inputQ.scale, filterScale: filterQ.scale, outputScale: outputQ.scale)]
                weightsZeroPoint = filterQ.zeroPoint
            }
            // sum((w - zw)(x - zx)) = sum(w x) - zw sum(x) - zx sum(w) + depth zx zw; all but the
            // first two terms are constants.
            let sums = ConvolutionSupport.weightSums(operands.filter.int8Values(), channels: g.outputDepth, channelIsInnermost: false)
            let zx = inputQ.zeroPoint, depth = g.depth
            let folded = ConvolutionSupport.foldedBias(bias: operands.bias, channels: g.outputDepth) { -zx * sums[$0] + depth * zx * weightsZeroPoint }
            let range = try ConvolutionSupport.int8ActivationRange(g.options.activation, output: operands.output, label: operands.label)
            let bias = context.constantArray("folded_bias", cType: "int32_t", integers: folded)
            let requant = ConvolutionSupport.emitRequantization(multipliers, context: context)
            let params = context.constantStruct("params", type: "mg_fully_connected_s8_params", fields: [
                "batches": "\(g.batches)", "depth": "\(g.depth)", "output_depth": "\(g.outputDepth)",
                "weights_zero_point": "\(weightsZeroPoint)", "output_zero_point": "\(outputQ.zeroPoint)",
                "activation_min": "\(range.min)", "activation_max": "\(range.max)",
                "folded_bias": bias, "multiplier": requant.multiplier, "shift": requant.shift,
                "per_channel": requant.perChannel ? "1" : "0",
            ])
            let weights = ConvolutionSupport.constPointer(operands.filterIndex, cType: "int8_t", context: context)
            try KernelVariant.honour([.fullyConnectedS8Reference], family: .fullyConnected, label: operands.label)
            return LoweredOperator(kernelHeaders: ["mg_fully_connected.h"],
                                   statements: "mg_fully_connected_s8(&\(params), \(input), \(weights), \(output));",
                                   variants: [.fullyConnectedS8Reference])
        }

        let range = try ConvolutionSupport.floatActivationLiterals(g.options.activation, label: operands.label)
        let params = context.constantStruct("params", type: "mg_fully_connected_f32_params", fields: [
            "batches": "\(g.batches)", "depth": "\(g.depth)", "output_depth": "\(g.outputDepth)",
            "activation_min": range.min, "activation_max": range.max,
        ])
        let weights = ConvolutionSupport.constPointer(operands.filterIndex, cType: "float", context: context)
        let bias = ConvolutionSupport.constPointer(operands.biasIndex, cType: "float", context: context)
        try KernelVariant.honour([.fullyConnectedF32], family: .fullyConnected, label: operands.label)
        return LoweredOperator(kernelHeaders: ["mg_fully_connected.h"],
                               statements: "mg_fully_connected_f32(&\(params), \(input), \(weights), \(bias), \(output));",
                               variants: [.fullyConnectedF32])
    }
}

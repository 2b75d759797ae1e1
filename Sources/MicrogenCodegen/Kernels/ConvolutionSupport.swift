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
        graph.index(of: op)
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
    static func perChannelMultipliers(inputScale: Float, filterScales: [Float], outputScale: Float) throws -> [QuantizedMultiplier] {
        try filterScales.map { try QuantizedMultiplier(Double(inputScale) * Double($0) / Double(outputScale)) }
    }

    /// Per-tensor requantization for FULLY_CONNECTED, as TFLM's GetQuantizedConvolutionMultipler:
    /// the scale product is rounded to float32 before the division in double.
    static func perTensorFloatProductMultiplier(inputScale: Float, filterScale: Float, outputScale: Float) throws -> QuantizedMultiplier {
        let product: Float = inputScale * filterScale
        return try QuantizedMultiplier(Double(product) / Double(outputScale))
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

/// The per-channel constants of `mg_conv_requant.h` (MG_REQUANT_WORDS = 4 int32 per channel).
struct PackedRequantization {
    enum Mode: String {
        case general = "MG_REQUANT_GENERAL", doubled = "MG_REQUANT_DOUBLED", wide = "MG_REQUANT_WIDE", x256 = "MG_REQUANT_X256"
    }
    var mode: Mode
    /// Four words per channel, as mg_requant_channel lists them for `mode`.
    var words: [Int32]
    /// The output zero point is inside the constants (only while that cannot overflow).
    var zeroPointFolded: Bool
    /// MG_REQUANT_DOUBLED accumulates 2 * acc: the weights and the bias the kernel reads are doubled.
    var accumulatorScale: Int { mode == .doubled ? 2 : 1 }
}

extension ConvolutionSupport {
    /// Largest |accumulator| a channel can reach: |bias| + 128 * sum |w| (activations and the
    /// zero point padding are int8).
    static func accumulatorBound(weights: [Int8], bias: [Int32], channels: Int) -> Int {
        let block = weights.count / max(channels, 1)
        var bound = 0
        for c in 0..<channels {
            var sum = 0
            for w in weights[(c * block)..<((c + 1) * block)] { sum += abs(Int(w)) }
            bound = max(bound, abs(Int(bias[c])) + 128 * sum)
        }
        return bound
    }

    /// Requantization constants for the fast kernels. Both fast forms need a right shift e >= 1
    /// and a multiplier in [2^30, 2^31) or 0 (a channel whose scale underflowed gives the zero
    /// point whatever e, so it takes e = 1); the doubled form also needs accumulators below 2^30,
    /// so that doubling them cannot overflow. `preferring` a form (a test's forced variant) takes
    /// it where it is exact: general always, wide wherever doubled is.
    static func packedRequantization(_ multipliers: [QuantizedMultiplier], outputZeroPoint zp: Int,
                                     accumulatorBound: Int, preferring preferred: PackedRequantization.Mode? = nil) -> PackedRequantization {
        let fits = multipliers.allSatisfy { q in
            q.multiplier == 0 || (q.multiplier >= Int32(1) << 30 && (1...31).contains(-q.shift))
        }
        guard fits, preferred != .general else {
            return PackedRequantization(mode: .general, words: multipliers.flatMap { [$0.multiplier, 0, Int32($0.shift), 0] },
                                        zeroPointFolded: false)
        }
        let exponents = multipliers.map { $0.multiplier == 0 ? 1 : -$0.shift }
        // zp * 2^(31+e) (wide) and zp * 2^e (doubled) stay inside int64 and int32 for e <= 23.
        let folded = exponents.allSatisfy { $0 <= 23 }
        var words: [Int32] = []
        if accumulatorBound < 1 << 30, preferred != .wide {
            for (q, e) in zip(multipliers, exponents) {
                let c = (1 << (e - 1)) + (folded ? zp * (1 << e) : 0)
                words += [q.multiplier, Int32(c), Int32(e), 0]
            }
            return PackedRequantization(mode: .doubled, words: words, zeroPointFolded: folded)
        }
        for (q, e) in zip(multipliers, exponents) {
            let k = (1 << 30) + (1 << (30 + e)) + (folded ? zp * (1 << (31 + e)) : 0)
            words += [q.multiplier, Int32(k >> 32), Int32(e - 1), Int32(truncatingIfNeeded: k)]
        }
        return PackedRequantization(mode: .wide, words: words, zeroPointFolded: folded)
    }

    /// MG_REQUANT_X256 constants for the fully connected "times 256" form, or nil when a channel
    /// does not fit it: e must be in 1...24 (the kernel shifts by 7 + e), the multiplier in
    /// [2^30, 2^31) or 0, and 256 * acc must fit in int32 (with a margin: the running sums also
    /// carry the 127 * weights term).
    static func x256Requantization(_ multipliers: [QuantizedMultiplier], outputZeroPoint zp: Int,
                                   accumulatorBound: Int) -> PackedRequantization? {
        // 256 * |acc| plus the 127 * (even weights) term stays below 2^31 with room to spare.
        guard accumulatorBound < 1 << 22, multipliers.allSatisfy({ q in
            q.multiplier == 0 || (q.multiplier >= Int32(1) << 30 && (1...24).contains(-q.shift))
        }) else { return nil }
        let exponents = multipliers.map { $0.multiplier == 0 ? 1 : -$0.shift }
        // c = 2^6 + 2^(6+e) + zp * 2^(7+e) fits in int32 for e <= 16.
        let folded = exponents.allSatisfy { $0 <= 16 }
        var words: [Int32] = []
        for (q, e) in zip(multipliers, exponents) {
            let c = (1 << 6) + (1 << (6 + e)) + (folded ? zp * (1 << (7 + e)) : 0)
            words += [q.multiplier, Int32(c), Int32(7 + e), 0]
        }
        return PackedRequantization(mode: .x256, words: words, zeroPointFolded: folded)
    }

    /// The bias of the "times 256" form: its sums are 256 * acc plus 127 times the weights at even
    /// positions of each group (k even), so the bias is 256 * folded - 127 * that sum.
    static func x256Bias(weights: [Int8], folded: [Int32], depth: Int) -> [Int32] {
        (0..<folded.count).map { o in
            var even = 0
            for k in stride(from: 0, to: depth, by: 2) { even += Int(weights[o * depth + k]) }
            return Int32(256 * Int(folded[o]) - 127 * even)
        }
    }

    /// Bytes the arena has beside the activation tensors live while `op` runs, up to the most
    /// that are live at any operator: scratch that fits there does not raise the arena's lower
    /// bound. (An estimate from first and last use in the operator order; constants excluded. An
    /// operator whose kernel can run in place over an input dying there is counted once, as the
    /// planner usually merges them; where it does not (an alias in the way, in-place execution
    /// switched off) the estimate is high and a scratch buffer may raise the arena a little.)
    static func freeArenaBytes(at op: Operator, in graph: Graph) -> Int {
        guard let index = graph.index(of: op) else { return 0 }
        let live = graph.memoized("ConvolutionSupport.liveBytes") { liveBytes(in: graph) }
        return (live.max() ?? 0) - live[index]
    }

    /// The estimate's bytes live at every operator, computed once per graph.
    private static func liveBytes(in graph: Graph) -> [Int] {
        let count = graph.operators.count
        var first: [Int: Int] = [:], last: [Int: Int] = [:]
        for t in graph.inputs { first[t] = 0 }
        for t in graph.outputs { last[t] = count - 1 }
        for (i, o) in graph.operators.enumerated() {
            for t in o.outputs where first[t] == nil { first[t] = i }
            for t in o.inputs + o.outputs where t >= 0 { last[t] = max(last[t] ?? i, i) }
        }
        // Each tensor adds its bytes from its first to its last use: a difference array, summed.
        var change = [Int](repeating: 0, count: count + 1)
        for (t, start) in first where !graph.tensors[t].isConstant {
            change[start] += graph.tensors[t].byteCount
            change[max(start, last[t] ?? start) + 1] -= graph.tensors[t].byteCount
        }
        var live = [Int](repeating: 0, count: count)
        var running = 0
        for i in 0..<count {
            running += change[i]
            live[i] = running
        }
        // An operator that runs in place over an input dying there adds no bytes of its own.
        let pinned = Set(graph.inputs + graph.outputs)
        for (i, o) in graph.operators.enumerated() {
            guard let position = LoweringRegistry.lowering(for: o.kind)?.inPlaceInput(o, in: graph),
                  o.inputs.indices.contains(position), let output = o.outputs.first else { continue }
            let input = o.inputs[position]
            guard input >= 0, last[input] == i, !pinned.contains(input) else { continue }
            live[i] -= min(graph.tensors[input].byteCount, graph.tensors[output].byteCount)
        }
        return live
    }

    /// Packed int8 weights (groups of 4 bytes w0 w1 w2 w3) re-encoded for the "times 256" form:
    /// w0, w1 - [w0 < 0], w2, w3 - [w2 < 0], so that each 16-bit lane reads 256 * w1 + w0 (and
    /// 256 * w3 + w2) while SXTB16 still reads w0 and w2. nil when a byte would leave int8 (an odd
    /// weight of -128 after a negative one).
    static func x256Weights(_ packed: [Int8]) -> [Int8]? {
        var encoded = packed
        for i in stride(from: 0, to: packed.count, by: 2) {
            let high = Int(packed[i + 1]) - (packed[i] < 0 ? 1 : 0)
            guard high >= -128 else { return nil }
            encoded[i + 1] = Int8(high)
        }
        return encoded
    }

    /// The `mg_requant_params` initializer (a braced C99 designated initializer).
    static func requantParams(_ packed: PackedRequantization, outputZeroPoint: Int, range: (min: Int, max: Int)) -> String {
        "{ .mode = \(packed.mode.rawValue), .zero_point_folded = \(packed.zeroPointFolded ? 1 : 0), "
            + ".output_zero_point = \(outputZeroPoint), .activation_min = \(range.min), .activation_max = \(range.max) }"
    }

    /// int8 weights [rows, depth] in the order `mg_conv_gemm.h` reads them: rows in blocks of
    /// `block`; within a block, group by group (4 consecutive k), each row's 4 values. Rows past
    /// `rows` and values past `depth` are zero.
    /// With `groupsPerChunk`, the groups come in chunks of that many, each chunk holding every
    /// block (the order mg_fc_fast.h reads when it widens the row a chunk at a time).
    static func packGroupedWeights(_ weights: [Int8], rows: Int, depth: Int, block: Int, groupsPerChunk: Int = .max) -> [Int8] {
        let groups = (depth + 3) / 4
        let blocks = (rows + block - 1) / block
        var packed: [Int8] = []
        packed.reserveCapacity(blocks * block * groups * 4)
        for chunk in stride(from: 0, to: groups, by: max(1, min(groupsPerChunk, groups))) {
            let end = min(groups, chunk + max(1, groupsPerChunk))
            for b in 0..<blocks {
                for g in chunk..<end {
                    for r in 0..<block {
                        let row = b * block + r
                        for j in 0..<4 {
                            let k = 4 * g + j
                            packed.append(row < rows && k < depth ? weights[row * depth + k] : 0)
                        }
                    }
                }
            }
        }
        return packed
    }
}

/// The fields every reference convolution kernel's params struct shares (mg_conv_* and
/// mg_depthwise_conv_*): the sliding window's geometry, and for int8 the requantization.
struct ConvolutionWindow {
    var batches: Int, inputH: Int, inputW: Int, inputC: Int
    var filterH: Int, filterW: Int
    var outputH: Int, outputW: Int, outputC: Int
    var strideH: Int, strideW: Int, dilationH: Int, dilationW: Int
    var rows: SpatialPadding, columns: SpatialPadding

    var fields: [(String, String)] {
        [("batches", "\(batches)"), ("input_h", "\(inputH)"), ("input_w", "\(inputW)"), ("input_c", "\(inputC)"),
         ("filter_h", "\(filterH)"), ("filter_w", "\(filterW)"),
         ("output_h", "\(outputH)"), ("output_w", "\(outputW)"), ("output_c", "\(outputC)"),
         ("stride_h", "\(strideH)"), ("stride_w", "\(strideW)"), ("dilation_h", "\(dilationH)"), ("dilation_w", "\(dilationW)"),
         ("pad_top", "\(rows.before)"), ("pad_left", "\(columns.before)")]
    }

    /// The int8 requantization fields: zero points, clamp, folded bias and multipliers.
    static func int8Fields(inputZeroPoint: Int, outputZeroPoint: Int, range: (min: Int, max: Int), foldedBias: String,
                           requant: (multiplier: String, shift: String, perChannel: Bool)) -> [(String, String)] {
        [("input_zero_point", "\(inputZeroPoint)"), ("output_zero_point", "\(outputZeroPoint)"),
         ("activation_min", "\(range.min)"), ("activation_max", "\(range.max)"),
         ("folded_bias", foldedBias), ("multiplier", requant.multiplier), ("shift", requant.shift),
         ("per_channel", requant.perChannel ? "1" : "0")]
    }
}

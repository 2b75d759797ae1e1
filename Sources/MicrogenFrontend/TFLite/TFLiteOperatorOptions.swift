import MicrogenIR

/// Turns an operator's BuiltinOptions table into typed `OperatorOptions`. An absent table reads
/// as the schema defaults (every field absent), exactly as TFLite reads it.
struct TFLiteOptionsDecoder {
    let fileName: String
    /// "operator 3 (CONV_2D)", for messages.
    let operatorLabel: String
    let kind: OpKind
    let optionsType: UInt8
    let table: FlatBufferTable?
    /// Shapes of the operator's inputs (nil for an omitted optional input), for options the
    /// schema lets writers leave out (depthwise depth_multiplier).
    let inputShapes: [[Int]?]

    private typealias Tag = TFLiteSchema.OptionsType

    func decode() throws -> OperatorOptions {
        switch kind {
        case .conv2D: return .conv2D(try conv2D(try expect(Tag.conv2D, "Conv2DOptions")))
        case .depthwiseConv2D: return .depthwiseConv2D(try depthwise(try expect(Tag.depthwiseConv2D, "DepthwiseConv2DOptions")))
        case .fullyConnected: return .fullyConnected(try fullyConnected(try expect(Tag.fullyConnected, "FullyConnectedOptions")))
        case .averagePool2D, .maxPool2D: return .pool2D(try pool2D(try expect(Tag.pool2D, "Pool2DOptions")))
        case .softmax:
            let t = try expect(Tag.softmax, "SoftmaxOptions")
            return .softmax(beta: try checkedFloatOption(t?.float32(TFLiteSchema.SoftmaxOptions.beta, "beta") ?? 0, "beta"))
        case .add: return .elementwise(activation: try elementwiseActivation(try expect(Tag.add, "AddOptions")))
        case .sub: return .elementwise(activation: try elementwiseActivation(try expect(Tag.sub, "SubOptions")))
        case .mul: return .elementwise(activation: try elementwiseActivation(try expect(Tag.mul, "MulOptions")))
        case .concatenation:
            typealias C = TFLiteSchema.ConcatenationOptions
            let t = try expect(Tag.concatenation, "ConcatenationOptions")
            return .concatenation(axis: Int(try t?.int32(C.axis, "axis") ?? 0),
                                  activation: try activation(t?.int8(C.activation, "fused_activation_function") ?? 0))
        case .mean:
            let t = try expect(Tag.reducer, "ReducerOptions")
            return .reducer(keepDims: try t?.bool(TFLiteSchema.ReducerOptions.keepDims, "keep_dims") ?? false)
        case .leakyRelu:
            let t = try expect(Tag.leakyRelu, "LeakyReluOptions")
            return .leakyRelu(alpha: try checkedFloatOption(t?.float32(TFLiteSchema.LeakyReluOptions.alpha, "alpha") ?? 0, "alpha"))
        case .stridedSlice: return .stridedSlice(try stridedSlice(try expect(Tag.stridedSlice, "StridedSliceOptions")))
        case .reshape:
            let t = try expect(Tag.reshape, "ReshapeOptions")
            let newShape = try t?.int32Vector(TFLiteSchema.ReshapeOptions.newShape, "new_shape") ?? []
            return .reshape(newShape: newShape.map(Int.init))
        case .squeeze:
            let t = try expect(Tag.squeeze, "SqueezeOptions")
            let dims = try t?.int32Vector(TFLiteSchema.SqueezeOptions.squeezeDims, "squeeze_dims") ?? []
            return .squeeze(dims: dims.map(Int.init))
        case .logistic, .tanh, .relu, .relu6, .hardSwish, .quantize, .dequantize, .pad, .transpose:
            // Their options tables are empty (or absent): nothing to read.
            return .none
        }
    }

    // MARK: per-family tables

    private func conv2D(_ t: FlatBufferTable?) throws -> Conv2DOptions {
        typealias C = TFLiteSchema.Conv2DOptions
        return Conv2DOptions(
            padding: try padding(t?.int8(C.padding, "padding") ?? 0),
            strideW: try positive(t?.int32(C.strideW, "stride_w") ?? 0, "stride_w"),
            strideH: try positive(t?.int32(C.strideH, "stride_h") ?? 0, "stride_h"),
            dilationW: try positive(t?.int32(C.dilationW, "dilation_w_factor", default: 1) ?? 1, "dilation_w_factor"),
            dilationH: try positive(t?.int32(C.dilationH, "dilation_h_factor", default: 1) ?? 1, "dilation_h_factor"),
            activation: try activation(t?.int8(C.activation, "fused_activation_function") ?? 0))
    }

    private func depthwise(_ t: FlatBufferTable?) throws -> DepthwiseConv2DOptions {
        typealias D = TFLiteSchema.DepthwiseConv2DOptions
        return DepthwiseConv2DOptions(
            padding: try padding(t?.int8(D.padding, "padding") ?? 0),
            strideW: try positive(t?.int32(D.strideW, "stride_w") ?? 0, "stride_w"),
            strideH: try positive(t?.int32(D.strideH, "stride_h") ?? 0, "stride_h"),
            dilationW: try positive(t?.int32(D.dilationW, "dilation_w_factor", default: 1) ?? 1, "dilation_w_factor"),
            dilationH: try positive(t?.int32(D.dilationH, "dilation_h_factor", default: 1) ?? 1, "dilation_h_factor"),
            depthMultiplier: try depthMultiplier(Int(t?.int32(D.depthMultiplier, "depth_multiplier") ?? 0)),
            activation: try activation(t?.int8(D.activation, "fused_activation_function") ?? 0))
    }

    /// The schema calls depth_multiplier redundant and its default is 0: the filter's channels
    /// over the input's channels is the truth, and TFLite refuses a file where they disagree.
    private func depthMultiplier(_ fromFile: Int) throws -> Int {
        guard inputShapes.count >= 2, let input = inputShapes[0], let filter = inputShapes[1],
              let inputChannels = input.last, let filterChannels = filter.last,
              inputChannels > 0, filterChannels % inputChannels == 0 else {
            if fromFile > 0 { return fromFile }
            throw MicrogenError(.malformedModel, "\(fileName): \(operatorLabel) has no depth_multiplier and its input and filter shapes do not determine one (the filter's channels must be a multiple of the input's)")
        }
        let fromShapes = filterChannels / inputChannels
        if fromFile != 0, fromFile != fromShapes {
            throw MicrogenError(.malformedModel, "\(fileName): \(operatorLabel) has depth_multiplier \(fromFile) but its filter has \(filterChannels) channels for \(inputChannels) input channels (multiplier \(fromShapes))")
        }
        return fromShapes
    }

    private func fullyConnected(_ t: FlatBufferTable?) throws -> FullyConnectedOptions {
        typealias F = TFLiteSchema.FullyConnectedOptions
        let format = try t?.int8(F.weightsFormat, "weights_format") ?? 0
        guard format == 0 else {
            let name = format == 1 ? "SHUFFLED4x16INT8" : "\(format)"
            throw MicrogenError(.unsupported, "\(fileName): \(operatorLabel) uses weights_format \(name); microgen supports only DEFAULT")
        }
        return FullyConnectedOptions(activation: try activation(t?.int8(F.activation, "fused_activation_function") ?? 0),
                                     keepNumDims: try t?.bool(F.keepNumDims, "keep_num_dims") ?? false)
    }

    private func pool2D(_ t: FlatBufferTable?) throws -> Pool2DOptions {
        typealias P = TFLiteSchema.Pool2DOptions
        return Pool2DOptions(
            padding: try padding(t?.int8(P.padding, "padding") ?? 0),
            strideW: try positive(t?.int32(P.strideW, "stride_w") ?? 0, "stride_w"),
            strideH: try positive(t?.int32(P.strideH, "stride_h") ?? 0, "stride_h"),
            filterW: try positive(t?.int32(P.filterWidth, "filter_width") ?? 0, "filter_width"),
            filterH: try positive(t?.int32(P.filterHeight, "filter_height") ?? 0, "filter_height"),
            activation: try activation(t?.int8(P.activation, "fused_activation_function") ?? 0))
    }

    private func elementwiseActivation(_ t: FlatBufferTable?) throws -> FusedActivation {
        try activation(t?.int8(TFLiteSchema.ElementwiseOptions.activation, "fused_activation_function") ?? 0)
    }

    private func stridedSlice(_ t: FlatBufferTable?) throws -> StridedSliceOptions {
        typealias S = TFLiteSchema.StridedSliceOptions
        return StridedSliceOptions(
            beginMask: Int(try t?.int32(S.beginMask, "begin_mask") ?? 0),
            endMask: Int(try t?.int32(S.endMask, "end_mask") ?? 0),
            ellipsisMask: Int(try t?.int32(S.ellipsisMask, "ellipsis_mask") ?? 0),
            newAxisMask: Int(try t?.int32(S.newAxisMask, "new_axis_mask") ?? 0),
            shrinkAxisMask: Int(try t?.int32(S.shrinkAxisMask, "shrink_axis_mask") ?? 0),
            offset: try t?.bool(S.offset, "offset") ?? false)
    }

    // MARK: checks shared by the tables

    /// The options table, or nil when absent. A table of another options type is corrupt.
    private func expect(_ tag: UInt8, _ typeName: String) throws -> FlatBufferTable? {
        guard optionsType != Tag.none, let table else { return nil }
        guard optionsType == tag else {
            throw MicrogenError(.malformedModel, "\(fileName): \(operatorLabel) carries builtin options of union type \(optionsType) instead of \(typeName) (type \(tag))")
        }
        return table
    }

    private func padding(_ code: Int8) throws -> Padding {
        switch code {
        case 0: return .same
        case 1: return .valid
        default: throw MicrogenError(.malformedModel, "\(fileName): \(operatorLabel) has unknown padding code \(code) (expected 0 SAME or 1 VALID)")
        }
    }

    private func activation(_ code: Int8) throws -> FusedActivation {
        switch code {
        case 0: return .none
        case 1: return .relu
        case 2: return .reluN1To1
        case 3: return .relu6
        case 4: return .tanh
        case 5: return .signBit
        default: throw MicrogenError(.malformedModel, "\(fileName): \(operatorLabel) has unknown fused activation code \(code)")
        }
    }

    /// Strides, dilations and filter sizes divide or multiply shapes: 0 or less cannot be run.
    /// (An absent stride reads as the schema default 0, which lands here too.)
    private func positive(_ value: Int32, _ field: String) throws -> Int {
        guard value >= 1 else {
            throw MicrogenError(.malformedModel, "\(fileName): \(operatorLabel) has \(field) = \(value); it must be at least 1")
        }
        return Int(value)
    }
}

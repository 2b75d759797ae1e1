/// Operator kinds microgen knows by name. The raw value is the TFLite builtin operator name,
/// so messages and reports use the names model authors already know.
public enum OpKind: String, Sendable, Hashable, CaseIterable {
    case conv2D = "CONV_2D"
    case depthwiseConv2D = "DEPTHWISE_CONV_2D"
    case fullyConnected = "FULLY_CONNECTED"
    case averagePool2D = "AVERAGE_POOL_2D"
    case maxPool2D = "MAX_POOL_2D"
    case reshape = "RESHAPE"
    case squeeze = "SQUEEZE"
    case softmax = "SOFTMAX"
    case add = "ADD"
    case sub = "SUB"
    case mul = "MUL"
    case logistic = "LOGISTIC"
    case tanh = "TANH"
    case relu = "RELU"
    case relu6 = "RELU6"
    case leakyRelu = "LEAKY_RELU"
    case hardSwish = "HARD_SWISH"
    case quantize = "QUANTIZE"
    case dequantize = "DEQUANTIZE"
    case pad = "PAD"
    case concatenation = "CONCATENATION"
    case mean = "MEAN"
    case transpose = "TRANSPOSE"
    case stridedSlice = "STRIDED_SLICE"
}

/// The activation TFLite fuses into an operator's output.
public enum FusedActivation: String, Sendable, Hashable {
    case none = "NONE"
    case relu = "RELU"
    case reluN1To1 = "RELU_N1_TO_1"
    case relu6 = "RELU6"
    case tanh = "TANH"
    case signBit = "SIGN_BIT"
}

public enum Padding: String, Sendable, Hashable {
    case same = "SAME"
    case valid = "VALID"
}

/// An int8 ADD fused into the convolution that feeds it (microgen's own fusion, not a TFLite
/// option): the operator's output is ADD(convolution, residual), where the convolution's result
/// is first quantized as tensor `convolutionOutput` (no longer stored anywhere), and `residual`
/// is the operator's last input.
public struct ResidualAdd: Sendable, Hashable {
    public var convolutionOutput: Int
    public var residual: Int
    /// The residual was the ADD's first input (its rescaling uses input 1's constants).
    public var residualFirst: Bool
    public var activation: FusedActivation

    public init(convolutionOutput: Int, residual: Int, residualFirst: Bool, activation: FusedActivation) {
        self.convolutionOutput = convolutionOutput
        self.residual = residual
        self.residualFirst = residualFirst
        self.activation = activation
    }
}

public struct Conv2DOptions: Sendable, Hashable {
    public var padding: Padding
    public var strideW: Int, strideH: Int
    public var dilationW: Int, dilationH: Int
    public var activation: FusedActivation
    /// Set by the residual fusion pass only.
    public var residual: ResidualAdd? = nil
    public init(padding: Padding, strideW: Int, strideH: Int, dilationW: Int = 1, dilationH: Int = 1, activation: FusedActivation) {
        self.padding = padding; self.strideW = strideW; self.strideH = strideH
        self.dilationW = dilationW; self.dilationH = dilationH; self.activation = activation
    }
}

public struct DepthwiseConv2DOptions: Sendable, Hashable {
    public var padding: Padding
    public var strideW: Int, strideH: Int
    public var dilationW: Int, dilationH: Int
    public var depthMultiplier: Int
    public var activation: FusedActivation
    public init(padding: Padding, strideW: Int, strideH: Int, dilationW: Int = 1, dilationH: Int = 1, depthMultiplier: Int, activation: FusedActivation) {
        self.padding = padding; self.strideW = strideW; self.strideH = strideH
        self.dilationW = dilationW; self.dilationH = dilationH
        self.depthMultiplier = depthMultiplier; self.activation = activation
    }
}

public struct FullyConnectedOptions: Sendable, Hashable {
    public var activation: FusedActivation
    public var keepNumDims: Bool
    public init(activation: FusedActivation, keepNumDims: Bool = false) {
        self.activation = activation; self.keepNumDims = keepNumDims
    }
}

public struct Pool2DOptions: Sendable, Hashable {
    public var padding: Padding
    public var strideW: Int, strideH: Int
    public var filterW: Int, filterH: Int
    public var activation: FusedActivation
    public init(padding: Padding, strideW: Int, strideH: Int, filterW: Int, filterH: Int, activation: FusedActivation) {
        self.padding = padding; self.strideW = strideW; self.strideH = strideH
        self.filterW = filterW; self.filterH = filterH; self.activation = activation
    }
}

public struct StridedSliceOptions: Sendable, Hashable {
    public var beginMask: Int, endMask: Int, ellipsisMask: Int, newAxisMask: Int, shrinkAxisMask: Int
    public var offset: Bool
    public init(beginMask: Int = 0, endMask: Int = 0, ellipsisMask: Int = 0, newAxisMask: Int = 0, shrinkAxisMask: Int = 0, offset: Bool = false) {
        self.beginMask = beginMask; self.endMask = endMask; self.ellipsisMask = ellipsisMask
        self.newAxisMask = newAxisMask; self.shrinkAxisMask = shrinkAxisMask; self.offset = offset
    }
}

/// Per-operator options, typed. Operators without options (or whose options live in input
/// tensors, like PAD's paddings) carry `.none`.
public enum OperatorOptions: Sendable, Hashable {
    case none
    case conv2D(Conv2DOptions)
    case depthwiseConv2D(DepthwiseConv2DOptions)
    case fullyConnected(FullyConnectedOptions)
    case pool2D(Pool2DOptions)
    case softmax(beta: Float)
    /// ADD, SUB, MUL.
    case elementwise(activation: FusedActivation)
    case concatenation(axis: Int, activation: FusedActivation)
    /// MEAN (the axes are the operator's second input).
    case reducer(keepDims: Bool)
    case leakyRelu(alpha: Float)
    case stridedSlice(StridedSliceOptions)
    /// RESHAPE's new_shape option, when present (the shape input tensor takes precedence).
    case reshape(newShape: [Int])
    case squeeze(dims: [Int])
}

/// One operator: its kind, its tensors (indices into `Graph.tensors`, -1 for an omitted optional
/// input such as a missing bias) and its options.
public struct Operator: Sendable, Hashable {
    public var kind: OpKind
    public var inputs: [Int]
    public var outputs: [Int]
    public var options: OperatorOptions

    public init(kind: OpKind, inputs: [Int], outputs: [Int], options: OperatorOptions = .none) {
        self.kind = kind
        self.inputs = inputs
        self.outputs = outputs
        self.options = options
    }

    /// The fused activation, for operators that have one.
    public var fusedActivation: FusedActivation {
        switch options {
        case .conv2D(let o): return o.activation
        case .depthwiseConv2D(let o): return o.activation
        case .fullyConnected(let o): return o.activation
        case .pool2D(let o): return o.activation
        case .elementwise(let a): return a
        case .concatenation(_, let a): return a
        default: return .none
        }
    }
}

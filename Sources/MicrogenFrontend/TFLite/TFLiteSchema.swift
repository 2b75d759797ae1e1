/// Field indices of the TFLite schema (tensorflow/lite/schema/schema.fbs, version 3) that the
/// importer reads. A union occupies two indices: its type tag, then its value.
enum TFLiteSchema {
    static let fileIdentifier: [UInt8] = Array("TFL3".utf8)
    static let version: UInt32 = 3

    enum Model {
        static let version = 0, operatorCodes = 1, subgraphs = 2, description = 3, buffers = 4
    }

    enum OperatorCode {
        static let deprecatedBuiltinCode = 0, customCode = 1, version = 2, builtinCode = 3
    }

    enum SubGraph {
        static let tensors = 0, inputs = 1, outputs = 2, operators = 3, name = 4
    }

    enum Tensor {
        static let shape = 0, type = 1, buffer = 2, name = 3, quantization = 4
        static let isVariable = 5, sparsity = 6, shapeSignature = 7
    }

    enum QuantizationParameters {
        static let min = 0, max = 1, scale = 2, zeroPoint = 3, detailsType = 4, details = 5, quantizedDimension = 6
    }

    enum Buffer {
        static let data = 0, offset = 1, size = 2
    }

    enum Operator {
        static let opcodeIndex = 0, inputs = 1, outputs = 2, builtinOptionsType = 3, builtinOptions = 4
    }

    /// Tags of the BuiltinOptions union for the options tables the importer reads.
    enum OptionsType {
        static let none: UInt8 = 0
        static let conv2D: UInt8 = 1
        static let depthwiseConv2D: UInt8 = 2
        static let pool2D: UInt8 = 5
        static let fullyConnected: UInt8 = 8
        static let softmax: UInt8 = 9
        static let concatenation: UInt8 = 10
        static let add: UInt8 = 11
        static let reshape: UInt8 = 17
        static let mul: UInt8 = 21
        static let reducer: UInt8 = 27
        static let sub: UInt8 = 28
        static let squeeze: UInt8 = 30
        static let stridedSlice: UInt8 = 32
        static let leakyRelu: UInt8 = 75
    }

    enum Conv2DOptions {
        static let padding = 0, strideW = 1, strideH = 2, activation = 3, dilationW = 4, dilationH = 5
    }

    enum DepthwiseConv2DOptions {
        static let padding = 0, strideW = 1, strideH = 2, depthMultiplier = 3, activation = 4, dilationW = 5, dilationH = 6
    }

    enum Pool2DOptions {
        static let padding = 0, strideW = 1, strideH = 2, filterWidth = 3, filterHeight = 4, activation = 5
    }

    enum FullyConnectedOptions {
        static let activation = 0, weightsFormat = 1, keepNumDims = 2
    }

    enum SoftmaxOptions { static let beta = 0 }
    enum ConcatenationOptions { static let axis = 0, activation = 1 }
    /// AddOptions, SubOptions and MulOptions all start with the fused activation.
    enum ElementwiseOptions { static let activation = 0 }
    enum ReducerOptions { static let keepDims = 0 }
    enum LeakyReluOptions { static let alpha = 0 }
    enum ReshapeOptions { static let newShape = 0 }
    enum SqueezeOptions { static let squeezeDims = 0 }

    enum StridedSliceOptions {
        static let beginMask = 0, endMask = 1, ellipsisMask = 2, newAxisMask = 3, shrinkAxisMask = 4, offset = 5
    }
}

import MicrogenIR
import MicrogenCompiler

/// AVERAGE_POOL_2D and MAX_POOL_2D, int8 and float32, NHWC (kernels in `mg_pool.h`).
///
/// int8 pooling in TFLite Micro works on raw values: it requires the input and output to share
/// scale and zero point, and so does this lowering.
public struct PoolLowering: KernelLowering {
    public init() {}
    public var kinds: [OpKind] { [.averagePool2D, .maxPool2D] }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try PoolGeometry(op, in: graph)
    }

    /// One addition or comparison per window element of every output.
    public func macs(_ op: Operator, in graph: Graph) -> Int {
        guard let geometry = try? PoolGeometry(op, in: graph) else { return 0 }
        return graph.tensors[op.outputs[0]].elementCount * geometry.options.filterH * geometry.options.filterW
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let g = try PoolGeometry(op, in: context.graph)
        let output = context.tensor(op.outputs[0])
        var intRange = (min: -128, max: 127)
        var floatRange = (min: -Float.greatestFiniteMagnitude, max: Float.greatestFiniteMagnitude)
        if g.isInt8, let q = output.quantization {
            intRange = try quantizedActivationRange(g.options.activation, scale: q.scale, zeroPoint: q.zeroPoint)
        } else {
            floatRange = try floatActivationRange(g.options.activation)
        }
        let params = context.constantStruct("params", type: "mg_pool_params", fields: [
            "batches": "\(g.batches)",
            "input_height": "\(g.inputHeight)", "input_width": "\(g.inputWidth)",
            "channels": "\(g.channels)",
            "output_height": "\(g.vertical.outputSize)", "output_width": "\(g.horizontal.outputSize)",
            "stride_height": "\(g.options.strideH)", "stride_width": "\(g.options.strideW)",
            "filter_height": "\(g.options.filterH)", "filter_width": "\(g.options.filterW)",
            "pad_top": "\(g.vertical.before)", "pad_left": "\(g.horizontal.before)",
            "activation_min": "\(intRange.min)", "activation_max": "\(intRange.max)",
            "activation_min_f32": CWriter.floatLiteral(floatRange.min),
            "activation_max_f32": CWriter.floatLiteral(floatRange.max),
        ])
        var kernel = (op.kind == .averagePool2D ? "mg_average_pool" : "mg_max_pool") + (g.isInt8 ? "_s8" : "_f32")
        // One window over the whole image (global average pooling, the end of most classifiers):
        // four channels per step in mg_global_average_pool_s8.
        let wholeImage = g.vertical.outputSize == 1 && g.horizontal.outputSize == 1 && g.vertical.before == 0 && g.horizontal.before == 0
            && g.options.filterH >= g.inputHeight && g.options.filterW >= g.inputWidth
        if op.kind == .averagePool2D, g.isInt8, wholeImage, g.channels % 4 == 0, g.inputHeight * g.inputWidth <= 255 {
            kernel = "mg_global_average_pool_s8"
        }
        return LoweredOperator(
            kernelHeaders: ["mg_pool.h"],
            statements: "\(kernel)(&\(params), \(context.pointer(op.inputs[0])), \(context.pointer(op.outputs[0])));")
    }
}

/// The validated shapes and options of one pooling operator.
private struct PoolGeometry {
    var options: Pool2DOptions
    var isInt8: Bool
    var batches: Int, inputHeight: Int, inputWidth: Int, channels: Int
    var vertical: SpatialPadding
    var horizontal: SpatialPadding

    init(_ op: Operator, in graph: Graph) throws {
        let label = "\(op.kind.rawValue) (operator \(graph.index(of: op).map(String.init) ?? "?"))"
        guard case .pool2D(let options) = op.options else {
            throw MicrogenError(.malformedModel, "\(label): missing pooling options")
        }
        guard op.inputs.count >= 1, op.outputs.count == 1, op.inputs[0] >= 0, op.outputs[0] >= 0 else {
            throw MicrogenError(.malformedModel, "\(label): expected one input and one output")
        }
        let input = graph.tensors[op.inputs[0]]
        let output = graph.tensors[op.outputs[0]]
        guard input.dataType == output.dataType, input.dataType == .int8 || input.dataType == .float32 else {
            throw MicrogenError(.unsupported, "\(label): input \"\(input.name)\" is \(input.dataType) and output \"\(output.name)\" is \(output.dataType); only int8 -> int8 and float32 -> float32 are supported")
        }
        guard input.shape.count == 4, output.shape.count == 4 else {
            throw MicrogenError(.unsupported, "\(label): input \"\(input.name)\" (\(input.shape.shapeString)) and output \"\(output.name)\" (\(output.shape.shapeString)) must both be 4-D NHWC")
        }
        guard options.strideH > 0, options.strideW > 0, options.filterH > 0, options.filterW > 0 else {
            throw MicrogenError(.malformedModel, "\(label): strides (\(options.strideH), \(options.strideW)) and filter size (\(options.filterH), \(options.filterW)) must be positive")
        }
        if input.dataType == .int8 {
            guard let qi = input.quantization, let qo = output.quantization else {
                throw MicrogenError(.malformedModel, "\(label): int8 tensors \"\(input.name)\" and \"\(output.name)\" need quantization parameters")
            }
            // TFLite Micro's own tolerance for "the same scale".
            guard abs(Double(qi.scale) - Double(qo.scale)) <= 1e-6, qi.zeroPoint == qo.zeroPoint else {
                throw MicrogenError(.unsupported, "\(label): int8 pooling needs the same scale and zero point in and out; input \"\(input.name)\" has \(qi.scale), \(qi.zeroPoint) and output \"\(output.name)\" has \(qo.scale), \(qo.zeroPoint)")
            }
            _ = try quantizedActivationRange(options.activation, scale: qo.scale, zeroPoint: qo.zeroPoint)
        } else {
            _ = try floatActivationRange(options.activation)
        }
        let vertical = spatialPadding(options.padding, inputSize: input.shape[1], filterSize: options.filterH, stride: options.strideH)
        let horizontal = spatialPadding(options.padding, inputSize: input.shape[2], filterSize: options.filterW, stride: options.strideW)
        let expected = [input.shape[0], vertical.outputSize, horizontal.outputSize, input.shape[3]]
        guard output.shape == expected, expected.allSatisfy({ $0 > 0 }) else {
            throw MicrogenError(.malformedModel, "\(label): output \"\(output.name)\" is \(output.shape.shapeString) but \(options.padding.rawValue) pooling of \(input.shape.shapeString) with filter \(options.filterH)x\(options.filterW) and stride \(options.strideH)x\(options.strideW) gives \(expected.shapeString)")
        }
        self.options = options
        self.isInt8 = input.dataType == .int8
        self.batches = input.shape[0]
        self.inputHeight = input.shape[1]
        self.inputWidth = input.shape[2]
        self.channels = input.shape[3]
        self.vertical = vertical
        self.horizontal = horizontal
    }
}

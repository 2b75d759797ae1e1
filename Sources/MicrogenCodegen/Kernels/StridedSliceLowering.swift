import MicrogenIR
import MicrogenCompiler

/// STRIDED_SLICE, int8 and float32, rank ≤ 5 (`mg_strided_slice.h`), with what TensorFlow Lite
/// Micro implements: constant begin/end/strides with one entry per input dimension, negative
/// indices, negative strides, begin_mask, end_mask and shrink_axis_mask. Every index is resolved
/// at build time, exactly as TFLM's kernel resolves it at run time, into a strided copy.
///
/// TFLM silently ignores ellipsis_mask, new_axis_mask and `offset` (it treats them as unset),
/// so a model that sets them means something TFLM does not compute: such models are refused.
public struct StridedSliceLowering: KernelLowering {
    public init() {}

    public var kinds: [OpKind] { [.stridedSlice] }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try StridedSlicePlan(op, graph: graph, operatorIndex: graph.index(of: op))
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let plan = try StridedSlicePlan(op, graph: context.graph, operatorIndex: context.operatorIndex)
        let params = plan.copy.emit(context: context)
        let suffix = plan.isQuantized ? "s8" : "f32"
        let cType = plan.isQuantized ? "int8_t" : "float"
        let input = context.pointer(op.inputs[0]), output = context.pointer(op.outputs[0])
        return LoweredOperator(kernelHeaders: ["mg_strided_slice.h"],
                               statements: "mg_strided_slice_\(suffix)(&\(params), (const \(cType) *)\(input), (\(cType) *)\(output));")
    }
}

/// A validated STRIDED_SLICE: per input axis, the first index, the step and the element count.
struct StridedSlicePlan {
    var isQuantized: Bool
    var copy: StridedCopyPlan

    init(_ op: Operator, graph: Graph, operatorIndex: Int?) throws {
        let label = DataMovementSupport.label(op, index: operatorIndex)
        let (input, output) = try DataMovementSupport.activationOperands(op, graph: graph, label: label, inputCount: 4, maxRank: 5)
        guard case .stridedSlice(let options) = op.options else {
            throw MicrogenError(.malformedModel, "\(label): missing strided slice options")
        }
        guard options.ellipsisMask == 0 else {
            throw MicrogenError(.unsupported, "\(label): ellipsis_mask \(options.ellipsisMask) is not supported (TFLite Micro ignores it); "
                + "write begin/end/strides for every dimension instead")
        }
        guard options.newAxisMask == 0 else {
            throw MicrogenError(.unsupported, "\(label): new_axis_mask \(options.newAxisMask) is not supported (TFLite Micro ignores it); "
                + "add the axis with a RESHAPE instead")
        }
        guard !options.offset else {
            throw MicrogenError(.unsupported, "\(label): the offset option is not supported (TFLite Micro ignores it)")
        }

        let rank = input.shape.count
        var vectors: [[Int]] = []
        for (slot, role) in [(1, "begin"), (2, "end"), (3, "strides")] {
            let (tensor, values) = try DataMovementSupport.constantIntegers(op, slot: slot, graph: graph, label: label, role: role)
            guard tensor.shape.count == 1, values.count == rank else {
                throw MicrogenError(.unsupported, "\(label): the \(role) tensor '\(tensor.name)' has shape \(tensor.shape.shapeString); "
                    + "one entry per input dimension (\(rank)) is required")
            }
            vectors.append(values)
        }
        let (begin, end, strides) = (vectors[0], vectors[1], vectors[2])

        let inputStrides = DataMovementSupport.rowMajorStrides(input.shape)
        var counts: [Int] = [], steps: [Int] = [], keptCounts: [Int] = []
        var offset = 0
        for axis in 0..<rank {
            let size = input.shape[axis], stride = strides[axis]
            guard stride != 0 else {
                throw MicrogenError(.malformedModel, "\(label): stride of axis \(axis) is 0")
            }
            let isSet = { (mask: Int) in mask & (1 << axis) != 0 }
            let first = Self.start(begin[axis], size: size, stride: stride, masked: isSet(options.beginMask))
            let stop = isSet(options.shrinkAxisMask)
                ? (first >= size ? first : first + 1)
                : Self.stop(end[axis], size: size, stride: stride, masked: isSet(options.endMask))
            let count = Self.iterations(from: first, to: stop, stride: stride)
            if isSet(options.shrinkAxisMask) {
                guard count == 1 else {
                    throw MicrogenError(.unsupported, "\(label): axis \(axis) is shrunk but begin \(begin[axis]) with stride \(stride) "
                        + "selects \(count) elements of \(size) in TFLite Micro's kernel; exactly one is required")
                }
            } else {
                keptCounts.append(count)
            }
            counts.append(count)
            steps.append(stride * inputStrides[axis])
            // An empty axis leaves `first` possibly out of range; nothing is read then anyway.
            offset += (count > 0 ? first : 0) * inputStrides[axis]
        }
        guard keptCounts == output.shape else {
            throw MicrogenError(.malformedModel, "\(label): output '\(output.name)' has shape \(output.shape.shapeString), "
                + "but slicing \(input.shape.shapeString) with begin \(begin), end \(end), strides \(strides) gives \(keptCounts.shapeString)")
        }
        guard counts.allSatisfy({ $0 >= 1 }) else {
            throw MicrogenError(.unsupported, "\(label): the slice is empty (output '\(output.name)' has no elements)")
        }
        isQuantized = input.dataType == .int8
        copy = try StridedCopyPlan(dims: counts, steps: steps, offset: offset, label: label)
    }

    /// TFLM's first index along an axis: negative indices count from the end, then clamp to
    /// [0, size] going forward or [-1, size - 1] going backward; begin_mask overrides both.
    static func start(_ index: Int, size: Int, stride: Int, masked: Bool) -> Int {
        if masked { return stride > 0 ? 0 : size - 1 }
        let wrapped = index < 0 ? index + size : index
        return stride > 0 ? min(max(wrapped, 0), size) : min(max(wrapped, -1), size - 1)
    }

    /// TFLM's (exclusive) end index along an axis, with the same wrapping and clamping as `start`;
    /// end_mask overrides them.
    static func stop(_ index: Int, size: Int, stride: Int, masked: Bool) -> Int {
        if masked { return stride > 0 ? size : -1 }
        let wrapped = index < 0 ? index + size : index
        return stride > 0 ? min(max(wrapped, 0), size) : min(max(wrapped, -1), size - 1)
    }

    /// How many times `for (i = first; stride > 0 ? i < stop : i > stop; i += stride)` runs.
    static func iterations(from first: Int, to stop: Int, stride: Int) -> Int {
        let distance = stride > 0 ? stop - first : first - stop
        let magnitude = abs(stride)
        return distance <= 0 ? 0 : (distance + magnitude - 1) / magnitude
    }
}

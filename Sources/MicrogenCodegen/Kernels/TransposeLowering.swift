import MicrogenIR
import MicrogenCompiler

/// TRANSPOSE, int8 and float32, rank ≤ 5 (`mg_transpose.h`). The permutation must be a constant
/// tensor (TensorFlow Lite Micro requires that too); it is resolved at build time into a strided
/// copy whose loops walk the output in order.
public struct TransposeLowering: KernelLowering {
    public init() {}

    public var kinds: [OpKind] { [.transpose] }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try TransposePlan(op, graph: graph, operatorIndex: graph.index(of: op))
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let plan = try TransposePlan(op, graph: context.graph, operatorIndex: context.operatorIndex)
        let params = plan.copy.emit(context: context)
        let suffix = plan.isQuantized ? "s8" : "f32"
        let cType = plan.isQuantized ? "int8_t" : "float"
        let input = context.pointer(op.inputs[0]), output = context.pointer(op.outputs[0])
        return LoweredOperator(kernelHeaders: ["mg_transpose.h"],
                               statements: "mg_transpose_\(suffix)(&\(params), (const \(cType) *)\(input), (\(cType) *)\(output));")
    }
}

/// A validated TRANSPOSE: output dimension i walks input dimension perm[i].
struct TransposePlan {
    var isQuantized: Bool
    var copy: StridedCopyPlan

    init(_ op: Operator, graph: Graph, operatorIndex: Int?) throws {
        let label = DataMovementSupport.label(op, index: operatorIndex)
        let (input, output) = try DataMovementSupport.activationOperands(op, graph: graph, label: label, inputCount: 2, maxRank: 5)
        let (permTensor, perm) = try DataMovementSupport.constantIntegers(op, slot: 1, graph: graph, label: label, role: "permutation")
        let rank = input.shape.count
        guard permTensor.shape.count == 1, perm.count == rank else {
            throw MicrogenError(.malformedModel, "\(label): permutation '\(permTensor.name)' has shape \(permTensor.shape.shapeString); "
                + "expected one entry per input dimension (\(rank))")
        }
        guard Set(perm) == Set(0..<rank) else {
            throw MicrogenError(.malformedModel, "\(label): permutation \(perm) of '\(permTensor.name)' is not a permutation of 0..<\(rank)")
        }
        let expected = perm.map { input.shape[$0] }
        guard output.shape == expected else {
            throw MicrogenError(.malformedModel, "\(label): output '\(output.name)' has shape \(output.shape.shapeString), "
                + "but transposing \(input.shape.shapeString) by \(perm) gives \(expected.shapeString)")
        }
        let strides = DataMovementSupport.rowMajorStrides(input.shape)
        isQuantized = input.dataType == .int8
        copy = try StridedCopyPlan(dims: expected, steps: perm.map { strides[$0] }, offset: 0, label: label)
    }
}

/// A copy that writes the output in order while the input pointer moves by a constant, signed
/// step per loop: the shape of TRANSPOSE and STRIDED_SLICE once their indices are resolved.
/// Loops of extent 1 are dropped and neighbours that stay contiguous in the input are merged, so
/// the C kernel runs as few, as long, loops as possible (`mg_strided_copy_params`).
struct StridedCopyPlan: Equatable {
    static let loopCount = 5
    /// Extent of each loop, outermost first, padded with leading 1s to `loopCount`.
    var dims: [Int]
    /// Input elements moved per step of each loop.
    var steps: [Int]
    /// Input element read first.
    var offset: Int

    init(dims: [Int], steps: [Int], offset: Int, label: String) throws {
        var loops: [(extent: Int, step: Int)] = []
        for (extent, step) in zip(dims, steps) where extent != 1 {
            if let last = loops.last, last.step == step * extent {
                loops[loops.count - 1] = (last.extent * extent, step)
            } else {
                loops.append((extent, step))
            }
        }
        guard loops.count <= Self.loopCount else {
            throw MicrogenError(.unsupported, "\(label): the copy needs \(loops.count) nested loops; at most \(Self.loopCount) are supported")
        }
        let padding = Self.loopCount - loops.count
        self.dims = Array(repeating: 1, count: padding) + loops.map(\.extent)
        self.steps = Array(repeating: 0, count: padding) + loops.map(\.step)
        self.offset = offset
        let values = self.dims + self.steps + [offset]
        guard values.allSatisfy({ $0 >= Int(Int32.min) && $0 <= Int(Int32.max) }) else {
            throw MicrogenError(.unsupported, "\(label): tensor too large for 32-bit indexing")
        }
    }

    /// Declares the `mg_strided_copy_params` constant and returns its name.
    func emit(context: EmitContext) -> String {
        context.constantStruct("params", type: "mg_strided_copy_params", fields: [
            "dims": DataMovementSupport.cList(dims),
            "steps": DataMovementSupport.cList(steps),
            "offset": "\(offset)",
        ])
    }
}

/// Checks and small helpers shared by the data-movement lowerings (PAD, TRANSPOSE, STRIDED_SLICE)
/// and QUANTIZE.
enum DataMovementSupport {
    /// "TRANSPOSE (operator 3)": how messages name the operator.
    static func label(_ op: Operator, index: Int?) -> String {
        "\(op.kind.rawValue) (operator \(index.map(String.init) ?? "?"))"
    }

    /// Checks the operand count and indices, and that the first input and the output are int8 or
    /// float32 activations of the same type, of rank ≤ `maxRank`, with no empty dimension.
    static func activationOperands(_ op: Operator, graph: Graph, label: String, inputCount: Int,
                                   maxRank: Int) throws -> (input: Tensor, output: Tensor) {
        guard op.inputs.count == inputCount, op.outputs.count == 1 else {
            throw MicrogenError(.malformedModel, "\(label): expected \(inputCount) inputs and 1 output, found \(op.inputs.count) inputs and \(op.outputs.count) outputs")
        }
        for t in op.inputs + op.outputs where !graph.tensors.indices.contains(t) {
            throw MicrogenError(.malformedModel, "\(label): tensor index \(t) is out of range")
        }
        let input = graph.tensors[op.inputs[0]], output = graph.tensors[op.outputs[0]]
        guard input.dataType == .int8 || input.dataType == .float32 else {
            throw MicrogenError(.unsupported, "\(label): input '\(input.name)' is \(input.dataType); only int8 and float32 are supported")
        }
        guard output.dataType == input.dataType else {
            throw MicrogenError(.unsupported, "\(label): output '\(output.name)' is \(output.dataType) but input '\(input.name)' is \(input.dataType); they must match")
        }
        for t in [input, output] {
            guard t.shape.count <= maxRank else {
                throw MicrogenError(.unsupported, "\(label): tensor '\(t.name)' has rank \(t.shape.count) (\(t.shape.shapeString)); at most \(maxRank) is supported")
            }
            guard t.shape.allSatisfy({ $0 >= 1 }) else {
                throw MicrogenError(.unsupported, "\(label): tensor '\(t.name)' has shape \(t.shape.shapeString); every dimension must be at least 1")
            }
        }
        return (input, output)
    }

    /// The values of a constant integer operand (paddings, permutation, begin/end/strides).
    static func constantIntegers(_ op: Operator, slot: Int, graph: Graph, label: String, role: String) throws -> (tensor: Tensor, values: [Int]) {
        let tensor = graph.tensors[op.inputs[slot]]
        guard tensor.isConstant else {
            throw MicrogenError(.unsupported, "\(label): the \(role) tensor '\(tensor.name)' is computed at run time; only constant \(role) tensors are supported")
        }
        guard tensor.dataType == .int32 || tensor.dataType == .int64 else {
            throw MicrogenError(.unsupported, "\(label): the \(role) tensor '\(tensor.name)' is \(tensor.dataType); int32 or int64 is expected")
        }
        guard tensor.data?.count == tensor.byteCount else {
            throw MicrogenError(.malformedModel, "\(label): the \(role) tensor '\(tensor.name)' holds \(tensor.data?.count ?? 0) bytes, expected \(tensor.byteCount)")
        }
        return (tensor, tensor.integerValues())
    }

    /// Elements to skip per step along each dimension of a row-major shape.
    static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var stride = 1
        for axis in shape.indices.reversed() {
            strides[axis] = stride
            stride *= shape[axis]
        }
        return strides
    }

    /// A C brace initializer: `{1, 2, 3}`.
    static func cList(_ values: [Int]) -> String {
        "{" + values.map(String.init).joined(separator: ", ") + "}"
    }
}

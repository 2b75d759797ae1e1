import MicrogenIR
import MicrogenCompiler

/// ADD, SUB and MUL on int8 or float32 tensors, with NumPy-style broadcasting (`mg_elementwise.h`).
///
/// Everything that can be known at build time is: the broadcast is folded into at most four
/// dimensions with per-input strides, and the int8 requantization multipliers are computed
/// exactly as TensorFlow Lite Micro computes them in its Prepare step.
public struct ElementwiseLowering: KernelLowering {
    public init() {}

    public var kinds: [OpKind] { [.add, .sub, .mul] }

    public func check(_ op: Operator, in graph: Graph) throws {
        _ = try ElementwisePlan(op, graph: graph, operatorIndex: graph.index(of: op))
    }

    /// One multiply per output element for MUL; additions are not multiply-accumulates.
    public func macs(_ op: Operator, in graph: Graph) -> Int {
        guard op.kind == .mul, let output = op.outputs.first, graph.tensors.indices.contains(output) else { return 0 }
        return graph.tensors[output].elementCount
    }

    /// The broadcast loops read a[i] and b[i] before writing out[i], and an input with as many
    /// elements as the output is not broadcast: its element i is the output's element i. Such an
    /// input may be overwritten when it dies here. When both qualify, the one this operator reads
    /// last (no later operator reads it) is preferred, since only a dying input can be used.
    public func inPlaceInput(_ op: Operator, in graph: Graph) -> Int? {
        guard (try? ElementwisePlan(op, graph: graph, operatorIndex: nil)) != nil else { return nil }
        let output = graph.tensors[op.outputs[0]]
        let candidates = op.inputs.indices.filter { position in
            let t = op.inputs[position]
            return !graph.tensors[t].isConstant && !graph.inputs.contains(t) && graph.tensors[t].elementCount == output.elementCount
        }
        guard let here = graph.index(of: op) else { return candidates.first }
        let readLater = { (t: Int) in (graph.lastReader(of: t) ?? here) > here }
        return candidates.first { !readLater(op.inputs[$0]) } ?? candidates.first
    }

    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        let plan = try ElementwisePlan(op, graph: context.graph, operatorIndex: context.operatorIndex)
        let input1 = context.pointer(op.inputs[0])
        let input2 = context.pointer(op.inputs[1])
        let output = context.pointer(op.outputs[0])
        let function = "mg_\(op.kind.rawValue.lowercased())_\(plan.isInt8 ? "s8" : "f32")"
        let elementType = plan.isInt8 ? "int8_t" : "float"

        if plan.isInt8, case .addSub(let r) = plan.requantization {
            return try lowerAddSubTables(op, plan: plan, requantization: r, input1: input1, input2: input2, output: output, context: context)
        }
        let params: String
        if plan.isInt8 {
            params = try mulParams(op, plan: plan, context: context)
        } else {
            let range = try floatActivationRange(plan.activation)
            params = context.constantStruct("params", type: "mg_binary_f32_params", fields: [
                "shape": plan.broadcast.cInitializer,
                "activation_min": CWriter.floatLiteral(range.min),
                "activation_max": CWriter.floatLiteral(range.max),
            ])
        }
        let statement = "\(function)(&\(params), (const \(elementType) *)(\(input1)), "
            + "(const \(elementType) *)(\(input2)), (\(elementType) *)(\(output)));"
        let variant: KernelVariant = plan.isInt8 ? .mulS8 : .elementwiseF32
        try KernelVariant.honour([variant], family: .elementwise, label: "\(op.kind.rawValue) (operator \(context.operatorIndex))")
        return LoweredOperator(kernelHeaders: ["mg_elementwise.h"], statements: statement, variants: [variant])
    }

    /// int8 ADD and SUB through `mg_addsub_lut_s8`: each input's rescaling tabulated over its 256
    /// values (SUB negates the second table), then one requantization per element.
    private func lowerAddSubTables(_ op: Operator, plan: ElementwisePlan, requantization r: AddSubRequantization,
                                   input1: String, input2: String, output: String, context: EmitContext) throws -> LoweredOperator {
        let (params, fast) = try Self.tableParams(op, plan: plan, requantization: r, context: context, name: "params")
        let statement = "mg_addsub_lut_s8(&\(params), (const int8_t *)(\(input1)), (const int8_t *)(\(input2)), (int8_t *)(\(output)));"
        let variant: KernelVariant = fast ? .addSubS8TableFast : .addSubS8TableExact
        try KernelVariant.honour([variant], family: .elementwise, label: "\(op.kind.rawValue) (operator \(context.operatorIndex))")
        return LoweredOperator(kernelHeaders: ["mg_elementwise.h"], statements: statement, variants: [variant])
    }

    /// The `mg_addsub_lut_s8_params` (with its two tables) of an int8 ADD fused elsewhere (a
    /// residual ADD in a convolution's epilogue), named `<operator>_<name>`.
    static func addTableParams(_ op: Operator, context: EmitContext, name: String) throws -> String {
        let plan = try ElementwisePlan(op, graph: context.graph, operatorIndex: context.operatorIndex)
        guard plan.isInt8, case .addSub(let r) = plan.requantization else {
            throw MicrogenError(.unsupported, "\(op.kind.rawValue): only an int8 ADD can be fused")
        }
        return try tableParams(op, plan: plan, requantization: r, context: context, name: name).name
    }

    /// The params' name, and whether they take the fast output requantization.
    private static func tableParams(_ op: Operator, plan: ElementwisePlan, requantization r: AddSubRequantization,
                                    context: EmitContext, name: String) throws -> (name: String, fast: Bool) {
        let range = try quantizedActivationRange(plan.activation, scale: plan.outputScale, zeroPoint: plan.outputZeroPoint)
        let tables = AddSubTables(r, input1ZeroPoint: plan.input1ZeroPoint, input2ZeroPoint: plan.input2ZeroPoint,
                                  outputZeroPoint: plan.outputZeroPoint, subtract: op.kind == .sub,
                                  allowFast: !KernelVariant.isForced(.addSubS8TableExact))
        let table1 = context.constantArray("\(name)_input1_table", cType: "int32_t", integers: tables.input1)
        let table2 = context.constantArray("\(name)_input2_table", cType: "int32_t", integers: tables.input2)
        let params = context.constantStruct(name, type: "mg_addsub_lut_s8_params", fields: [
            "shape": plan.broadcast.cInitializer,
            "input1_table": table1,
            "input2_table": table2,
            "output_multiplier": CWriter.integerLiteral(r.output.multiplier, cType: "int32_t"),
            "output_rounding": "\(tables.outputRounding)",
            "output_shift": "\(tables.fast ? -r.output.shift : r.output.shift)",
            "output_offset": "\(plan.outputZeroPoint)",
            "fast": tables.fast ? "1" : "0",
            "activation_min": "\(range.min)",
            "activation_max": "\(range.max)",
        ])
        return (params, tables.fast)
    }

    /// The `mg_mul_s8_params` of an int8 MUL.
    private func mulParams(_ op: Operator, plan: ElementwisePlan, context: EmitContext) throws -> String {
        let range = try quantizedActivationRange(plan.activation, scale: plan.outputScale, zeroPoint: plan.outputZeroPoint)
        switch plan.requantization {
        case .mul(let m):
            return context.constantStruct("params", type: "mg_mul_s8_params", fields: [
                "shape": plan.broadcast.cInitializer,
                "input1_offset": "\(-plan.input1ZeroPoint)",
                "input2_offset": "\(-plan.input2ZeroPoint)",
                "output_multiplier": CWriter.integerLiteral(m.multiplier, cType: "int32_t"),
                "output_shift": "\(m.shift)",
                "output_offset": "\(plan.outputZeroPoint)",
                "activation_min": "\(range.min)",
                "activation_max": "\(range.max)",
            ])
        case .none, .addSub:
            // ADD and SUB go through lowerAddSubTables.
            throw MicrogenError(.unsupported, "\(op.kind.rawValue): internal error, int8 operator without MUL requantization")
        }
    }
}

/// The fixed-point parameters of an int8 ADD or SUB, as TFLM's Prepare computes them.
struct AddSubRequantization {
    /// Bits of headroom the inputs are shifted left by before rescaling (TFLM: 20 for int8).
    static let leftShift = 20

    var input1: QuantizedMultiplier
    var input2: QuantizedMultiplier
    var output: QuantizedMultiplier

    /// TFLM's Prepare (add_common.cc): the larger input scale, doubled, is the common scale; in
    /// double precision. Some TFLM sources compute SUB's multipliers in single precision instead,
    /// but the TFLM build behind our reference data (PyPI tflite-micro) matched double precision
    /// on every random SUB where the two differ (12 of 12, none for single), so both use double.
    init(input1Scale s1: Float, input2Scale s2: Float, outputScale so: Float, name: String) throws {
        let twiceMax = 2 * Double(max(s1, s2))
        let real1 = Double(s1) / twiceMax
        let real2 = Double(s2) / twiceMax
        let realOut = twiceMax / (Double(1 << Self.leftShift) * Double(so))
        input1 = try Self.smallerThanOne(real1, what: "input 1 multiplier", name: name)
        input2 = try Self.smallerThanOne(real2, what: "input 2 multiplier", name: name)
        output = try Self.smallerThanOne(realOut, what: "output multiplier", name: name)
    }

    /// TFLM's QuantizeMultiplierSmallerThanOneExp, including the checks with which it aborts.
    private static func smallerThanOne(_ real: Double, what: String, name: String) throws -> QuantizedMultiplier {
        let q = try QuantizedMultiplier(real)
        guard real > 0, real < 1, q.shift <= 0 else {
            throw MicrogenError(.unsupported, "\(name): the \(what) \(real) is not in (0, 1): the output scale is too small "
                + "relative to the input scales (TFLite Micro refuses this too)")
        }
        return q
    }
}

/// The tables of `mg_addsub_lut_s8`: entry (uint8)x is input x rescaled to the common scale
/// exactly as TFLM does it, MultiplyByQuantizedMultiplierSmallerThanOneExp((x - zp) << 20, m, s),
/// negated for SUB's second input. `fast` when the three-instruction output requantization is
/// exact for every pair of table entries; the tables then hold doubled values.
struct AddSubTables {
    var input1: [Int32]
    var input2: [Int32]
    var fast: Bool
    /// 2^(e-1) + zp_out * 2^e for the output right shift e (fast only, else 0).
    var outputRounding: Int

    /// `allowFast` false (a test's forced variant) keeps TFLM's requantization where the fast one is exact too.
    init(_ r: AddSubRequantization, input1ZeroPoint: Int, input2ZeroPoint: Int, outputZeroPoint: Int, subtract: Bool, allowFast: Bool = true) {
        func table(_ zeroPoint: Int, _ q: QuantizedMultiplier, negate: Bool) -> [Int] {
            (0..<256).map { index in
                let x = Int(Int8(truncatingIfNeeded: index))
                let shifted = Int32((x - zeroPoint) << AddSubRequantization.leftShift)
                let v = Int(FixedPoint.multiplyByQuantizedMultiplierSmallerThanOne(shifted, q.multiplier, q.shift))
                return negate ? -v : v
            }
        }
        let t1 = table(input1ZeroPoint, r.input1, negate: false), t2 = table(input2ZeroPoint, r.input2, negate: subtract)
        let maxRaw = t1.map(abs).max()! + t2.map(abs).max()!
        let e = -r.output.shift
        var rounding = 0
        var fast = allowFast && r.output.multiplier > 0 && (1...30).contains(e) && 2 * maxRaw <= Int(Int32.max)
        if fast {
            rounding = (1 << (e - 1)) + outputZeroPoint * (1 << e)
            // |SMMLAR result| <= |raw| + |rounding|, and the [raw < 0] correction, in 32 bits.
            fast = maxRaw + abs(rounding) + 1 < 1 << 31
        }
        self.fast = fast
        outputRounding = fast ? rounding : 0
        input1 = t1.map { Int32(fast ? 2 * $0 : $0) }
        input2 = t2.map { Int32(fast ? 2 * $0 : $0) }
    }
}

/// TFLM's fixed-point primitives (gemmlowp double rounding), for tables computed at build time.
enum FixedPoint {
    static func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
        if a == b && a == Int32.min { return Int32.max }
        let ab = Int64(a) * Int64(b)
        let nudge: Int64 = ab >= 0 ? 1 << 30 : 1 - (1 << 30)
        return Int32(truncatingIfNeeded: (ab + nudge) / (1 << 31))  // truncates toward zero, as C does
    }

    static func roundingDivideByPOT(_ x: Int32, _ exponent: Int) -> Int32 {
        let mask = Int32(truncatingIfNeeded: (Int64(1) << exponent) - 1)
        let remainder = x & mask
        let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
        return (x >> Int32(exponent)) + (remainder > threshold ? 1 : 0)
    }

    static func multiplyByQuantizedMultiplierSmallerThanOne(_ x: Int32, _ multiplier: Int32, _ shift: Int) -> Int32 {
        roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplier), -shift)
    }
}

/// Everything about one ADD/SUB/MUL that check and lower both need, validated once.
struct ElementwisePlan {
    enum Requantization {
        case none
        case addSub(AddSubRequantization)
        case mul(QuantizedMultiplier)
    }

    var isInt8: Bool
    var activation: FusedActivation
    var broadcast: ElementwiseBroadcast
    var input1ZeroPoint = 0, input2ZeroPoint = 0, outputZeroPoint = 0
    var outputScale: Float = 1
    var requantization = Requantization.none

    init(_ op: Operator, graph: Graph, operatorIndex: Int?) throws {
        let name = "\(op.kind.rawValue) (operator \(operatorIndex.map(String.init) ?? "?"))"
        guard op.inputs.count == 2, op.outputs.count == 1 else {
            throw MicrogenError(.malformedModel, "\(name): expected 2 inputs and 1 output, found \(op.inputs.count) and \(op.outputs.count)")
        }
        for t in op.inputs + op.outputs where !graph.tensors.indices.contains(t) {
            throw MicrogenError(.malformedModel, "\(name): tensor index \(t) is out of range")
        }
        let a = graph.tensors[op.inputs[0]], b = graph.tensors[op.inputs[1]], out = graph.tensors[op.outputs[0]]

        let types = [a.dataType, b.dataType, out.dataType]
        if types.allSatisfy({ $0 == .int8 }) {
            isInt8 = true
        } else if types.allSatisfy({ $0 == .float32 }) {
            isInt8 = false
        } else if types.contains(.float32) && types.contains(.int8) {
            throw MicrogenError(.unsupported, "\(name): mixes float32 and int8 tensors ('\(a.name)' \(a.dataType), "
                + "'\(b.name)' \(b.dataType), output '\(out.name)' \(out.dataType)); hybrid models are not supported")
        } else {
            throw MicrogenError(.unsupported, "\(name): tensor types \(a.dataType), \(b.dataType) -> \(out.dataType) "
                + "are not supported (int8 or float32 only)")
        }

        activation = op.fusedActivation
        switch activation {
        case .none, .relu, .relu6, .reluN1To1: break
        case .tanh, .signBit:
            throw MicrogenError(.unsupported, "\(name): fused activation \(activation.rawValue) is not supported")
        }

        broadcast = try ElementwiseBroadcast(a.shape, b.shape, output: out.shape, names: (a.name, b.name, out.name), operatorName: name)

        guard isInt8 else { return }
        let q1 = try Self.perTensor(a, name), q2 = try Self.perTensor(b, name), qo = try Self.perTensor(out, name)
        input1ZeroPoint = q1.zeroPoint
        input2ZeroPoint = q2.zeroPoint
        outputZeroPoint = qo.zeroPoint
        outputScale = qo.scale
        switch op.kind {
        case .add, .sub:
            requantization = .addSub(try AddSubRequantization(input1Scale: q1.scale, input2Scale: q2.scale,
                                                              outputScale: qo.scale, name: name))
        default:
            // TFLM (mul_common.cc): the product of the input scales over the output scale, in double.
            let real = Double(q1.scale) * Double(q2.scale) / Double(qo.scale)
            // 2^30 is where QuantizedMultiplier would saturate the shift: refuse instead.
            guard real < 0x1p30 else {
                throw MicrogenError(.unsupported, "\(name): the requantization multiplier \(real) is too large")
            }
            requantization = .mul(try QuantizedMultiplier(real))
        }
        // Validates the clamp now so that check() reports it.
        _ = try quantizedActivationRange(activation, scale: qo.scale, zeroPoint: qo.zeroPoint)
    }

    /// The per-tensor int8 quantization of a tensor, or a clear refusal.
    static func perTensor(_ t: Tensor, _ name: String) throws -> (scale: Float, zeroPoint: Int) {
        guard let q = t.quantization, !q.scales.isEmpty else {
            throw MicrogenError(.unsupported, "\(name): int8 tensor '\(t.name)' has no quantization parameters")
        }
        guard !q.isPerChannel else {
            throw MicrogenError(.unsupported, "\(name): tensor '\(t.name)' is quantized per channel; only per-tensor quantization is supported here")
        }
        guard q.scale > 0, q.scale.isFinite else {
            throw MicrogenError(.malformedModel, "\(name): tensor '\(t.name)' has an invalid scale \(q.scale)")
        }
        guard (-128...127).contains(q.zeroPoint) else {
            throw MicrogenError(.malformedModel, "\(name): tensor '\(t.name)' has zero point \(q.zeroPoint), outside the int8 range")
        }
        return (q.scale, q.zeroPoint)
    }
}

/// A broadcast folded for the kernel: up to 4 output dimensions (outermost first) and each input's
/// element stride along them (0 where it is broadcast).
///
/// Shapes are aligned at their last dimension (missing leading dimensions are 1); each dimension
/// of an input is the output's or 1. Dimensions of size 1 are dropped and neighbours that
/// broadcast the same way are merged, so equal shapes become one flat row and, e.g., a per-channel
/// constant added to an NHWC tensor becomes [H*W, C] with strides (C, 1) and (0, 1).
struct ElementwiseBroadcast: Equatable {
    var dims: [Int]
    var input1Strides: [Int]
    var input2Strides: [Int]

    init(_ a: [Int], _ b: [Int], output: [Int], names: (String, String, String), operatorName: String) throws {
        let rank = max(a.count, b.count, output.count)
        func extended(_ s: [Int]) -> [Int] { Array(repeating: 1, count: rank - s.count) + s }
        let ea = extended(a), eb = extended(b), eo = extended(output)
        for (shape, tensorName) in [(a, names.0), (b, names.1), (output, names.2)] where shape.contains(where: { $0 <= 0 }) {
            throw MicrogenError(.unsupported, "\(operatorName): tensor '\(tensorName)' has shape \(shape.shapeString); "
                + "empty or unknown dimensions are not supported")
        }
        guard eo.reduce(1, *) < Int(Int32.max) else {
            throw MicrogenError(.unsupported, "\(operatorName): output '\(names.2)' is too large")
        }

        // Walk from the innermost dimension out, so each input's stride is the product of the
        // dimensions already passed.
        var groups: [(size: Int, stride1: Int, stride2: Int, broadcast1: Bool, broadcast2: Bool)] = []
        var stride1 = 1, stride2 = 1
        for d in (0..<rank).reversed() {
            let n = max(ea[d], eb[d])
            guard (ea[d] == n || ea[d] == 1) && (eb[d] == n || eb[d] == 1) else {
                throw MicrogenError(.malformedModel, "\(operatorName): shapes \(a.shapeString) ('\(names.0)') and "
                    + "\(b.shapeString) ('\(names.1)') cannot be broadcast together")
            }
            guard eo[d] == n else {
                throw MicrogenError(.malformedModel, "\(operatorName): output '\(names.2)' has shape \(output.shapeString), "
                    + "but broadcasting \(a.shapeString) with \(b.shapeString) gives a different shape")
            }
            if n == 1 { continue }
            let broadcast1 = ea[d] == 1, broadcast2 = eb[d] == 1
            if let last = groups.last, last.broadcast1 == broadcast1, last.broadcast2 == broadcast2 {
                groups[groups.count - 1].size *= n
            } else {
                groups.append((n, broadcast1 ? 0 : stride1, broadcast2 ? 0 : stride2, broadcast1, broadcast2))
            }
            stride1 *= ea[d]
            stride2 *= eb[d]
        }
        guard groups.count <= 4 else {
            throw MicrogenError(.unsupported, "\(operatorName): broadcasting \(a.shapeString) with \(b.shapeString) "
                + "needs \(groups.count) loop levels; at most 4 are supported")
        }
        groups.reverse()
        let padding = 4 - groups.count
        dims = Array(repeating: 1, count: padding) + groups.map(\.size)
        input1Strides = Array(repeating: 0, count: padding) + groups.map(\.stride1)
        input2Strides = Array(repeating: 0, count: padding) + groups.map(\.stride2)
    }

    /// The C initializer of an `mg_broadcast_shape`.
    var cInitializer: String {
        func list(_ v: [Int]) -> String { "{" + v.map(String.init).joined(separator: ", ") + "}" }
        return "{ .dims = \(list(dims)), .input1_strides = \(list(input1Strides)), .input2_strides = \(list(input2Strides)) }"
    }
}

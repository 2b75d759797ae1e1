import MicrogenIR
import MicrogenCompiler

public struct CompileOptions: Sendable {
    /// The model's C name; generated symbols are `mg_<name>_...`.
    public var name: String
    /// Where the kernel headers live (`templates/runtime/kernels`).
    public var kernelsDirectory: String
    /// Fold standalone RELU/RELU6 into their producers (on by default; off to compare).
    public var foldActivations: Bool
    /// Let operators overwrite an input that dies there (on by default; off to compare).
    public var inPlace: Bool
    /// Keep the model's inputs intact for the whole run, so one upload can be run many times
    /// (faster repeated runs over a slow line, at the cost of the inputs' RAM).
    public var keepInputs: Bool
    /// Fuse a residual ADD into the convolution that feeds it (on by default; off to compare).
    public var fuseResidualAdds: Bool

    public init(name: String, kernelsDirectory: String, foldActivations: Bool = true, inPlace: Bool = true, keepInputs: Bool = false,
                fuseResidualAdds: Bool = true) {
        self.name = name
        self.kernelsDirectory = kernelsDirectory
        self.foldActivations = foldActivations
        self.inPlace = inPlace
        self.keepInputs = keepInputs
        self.fuseResidualAdds = fuseResidualAdds
    }

    /// Tests only (internal, so the CLI cannot set it): kernel variants every operator of their
    /// family must take; one that does not apply to an operator makes `compile` throw. They
    /// choose among bit-exact implementations, so results never change.
    var forcedVariants: Set<KernelVariant> = []
}

/// One operator of the compiled model, as the report and `inspect` show it.
public struct CompiledOperator: Sendable {
    public var index: Int
    public var kind: OpKind
    public var inputs: [Int]
    public var outputs: [Int]
    public var macs: Int
    public var scratchBytes: Int
    public var scratchOffset: Int?
    /// The implementation its lowering chose, where it has several (KernelVariant).
    public var variants: [KernelVariant] = []
}

/// A model turned into C: the graph as compiled, its memory plan and the generated files.
public struct CompiledModel: Sendable {
    public var name: String
    public var prefix: String
    public var graph: Graph
    public var aliases: AliasedGraph
    public var plan: MemoryPlan
    /// Arena offset of every activation tensor (aliases included).
    public var tensorOffsets: [Int: Int]
    public var operators: [CompiledOperator]
    /// Bytes of constant data emitted into the C sources.
    public var weightsBytes: Int
    /// File name → contents, in a fixed order.
    public var files: [(name: String, contents: String)]
    /// FNV-1a of the generated sources (`MG_<NAME>_BUILD_ID`): the device reports it in INFO.
    public var buildID: UInt32
    /// Every arena buffer with its offset and lifetime, by id (for the memory report and chart).
    public var buffers: [PlannedBuffer] = []
    /// Tensors of the model that are never stored: convolution results a fused residual ADD
    /// consumes inside the convolution (`ResidualFusion`).
    public var fusedTensors: Set<Int> = []

    /// Saturates rather than overflow: a crafted model can ask for more MACs than an Int holds.
    public var macs: Int {
        operators.reduce(0) { total, op in
            let (sum, overflow) = total.addingReportingOverflow(op.macs)
            return overflow ? Int.max : sum
        }
    }
}

public enum ModelCompiler {
    /// Checks every operator, plans memory and emits C. Throws one error listing every
    /// unsupported operator configuration.
    public static func compile(_ original: Graph, options: CompileOptions) throws -> CompiledModel {
        try KernelVariant.$forced.withValue(options.forcedVariants) { try compileChoosingVariants(original, options: options) }
    }

    private static func compileChoosingVariants(_ original: Graph, options: CompileOptions) throws -> CompiledModel {
        let folded = options.foldActivations ? foldStandaloneActivations(original) : original
        let (fused, fusedTensors) = options.fuseResidualAdds ? ResidualFusion.fuse(folded) : (folded, [])
        let aliased = chooseOperatorOrder(removeAliasingOperators(fused), scratchBytes: scratchBytes, inPlaceInput: options.inPlace ? inPlaceInput : { _, _ in nil })
        let graph = aliased.graph
        let lowerings = try checkOperators(graph)

        let scratch = zip(graph.operators, lowerings).map { op, lowering in lowering.scratchBytes(op, in: graph) }
        let inPlace = options.inPlace ? zip(graph.operators, lowerings).map { op, lowering in lowering.inPlaceInput(op, in: graph) } : []
        let buffers = BufferAssignment(aliased, scratch: scratch, inPlaceInputs: inPlace, keepInputs: options.keepInputs)
        let plan = buffers.plan()
        guard plan.arenaSize <= GraphLimits.bytes else {
            throw MicrogenError(.unsupported, "\(original.name): the memory plan needs an arena of \(plan.arenaSize) bytes; microgen supports at most \(GraphLimits.bytes) (sizes and offsets are 32-bit on the device)")
        }
        let plannedBuffers = PlannedBuffer.list(buffers, plan: plan, graph: graph)

        var tensorOffsets: [Int: Int] = [:]
        for (index, tensor) in graph.tensors.enumerated() where !tensor.isConstant {
            if let buffer = buffers.buffer(of: index), let offset = plan.offsets[buffer] { tensorOffsets[index] = offset }
        }
        var operators: [CompiledOperator] = []
        for (i, op) in graph.operators.enumerated() {
            operators.append(CompiledOperator(
                index: i, kind: op.kind, inputs: op.inputs, outputs: op.outputs,
                macs: lowerings[i].macs(op, in: graph), scratchBytes: scratch[i],
                scratchOffset: scratch[i] > 0 ? plan.offsets[buffers.scratchBufferID(forOperator: i)] : nil))
        }
        let emitter = CEmitter(name: options.name, aliases: aliased, tensorOffsets: tensorOffsets,
                               arenaSize: plan.arenaSize, inputsPreserved: buffers.preservesInputs(plan, of: graph),
                               operators: operators, lowerings: lowerings)
        let emitted = try emitter.emit(kernelsDirectory: options.kernelsDirectory)
        for i in operators.indices { operators[i].variants = emitted.variants[i] }
        return CompiledModel(name: emitter.name, prefix: emitter.prefix, graph: graph, aliases: aliased, plan: plan,
                             tensorOffsets: tensorOffsets, operators: operators, weightsBytes: emitted.weightsBytes,
                             files: emitted.files, buildID: emitted.buildID, buffers: plannedBuffers, fusedTensors: fusedTensors)
    }

    /// The lowering of every operator, or one error naming every operator that cannot be lowered.
    static func checkOperators(_ graph: Graph) throws -> [any KernelLowering] {
        var problems: [String] = []
        var lowerings: [any KernelLowering] = []
        for (i, op) in graph.operators.enumerated() {
            guard let lowering = LoweringRegistry.lowering(for: op.kind) else {
                problems.append("\(op.kind.rawValue) (operator \(i)): no kernel")
                continue
            }
            do {
                try lowering.check(op, in: graph)
            } catch let error as MicrogenError {
                // Lowerings usually name the operator themselves ("CONV_2D (operator 3): ...").
                let named = error.message.hasPrefix(op.kind.rawValue)
                problems.append(named ? error.message : "\(op.kind.rawValue) (operator \(i)): \(error.message)")
            }
            lowerings.append(lowering)
        }
        if !problems.isEmpty {
            // The first few, and how many more: a model of thousands of operators gets a short refusal.
            let plural = problems.count == 1 ? "operator" : "operators"
            let shown = problems.prefix(5).joined(separator: "\n  ")
            let more = problems.count > 5 ? "\n  and \(problems.count - 5) more" : ""
            throw MicrogenError(.unsupported, "\(problems.count) \(plural) cannot be compiled:\n  " + shown + more)
        }
        return lowerings
    }

    /// The input an operator may overwrite and the scratch it needs, as its kernel lowering says,
    /// for the operator order search (which runs before the operators are checked; both answer 0
    /// or nil for an operator they cannot lower).
    static func inPlaceInput(_ op: Operator, in graph: Graph) -> Int? {
        LoweringRegistry.lowering(for: op.kind)?.inPlaceInput(op, in: graph)
    }

    static func scratchBytes(_ op: Operator, in graph: Graph) -> Int {
        LoweringRegistry.lowering(for: op.kind)?.scratchBytes(op, in: graph) ?? 0
    }
}

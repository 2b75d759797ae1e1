import MicrogenIR

/// How one family of operators becomes C.
///
/// A lowering is asked three things, in this order: `check` every operator before anything is
/// emitted (so all unsupported configurations are reported at once), `scratchBytes` before memory
/// planning (scratch buffers live in the arena too), and `lower` after planning, when every tensor
/// has an address.
public protocol KernelLowering: Sendable {
    /// The operator kinds this lowering handles.
    var kinds: [OpKind] { get }

    /// Throws `MicrogenError(.unsupported, ...)` naming the operator and what is unsupported
    /// (dtype, option, shape) when this operator cannot be lowered.
    func check(_ op: Operator, in graph: Graph) throws

    /// Multiply-accumulates of one inference of this operator (0 where it does not apply).
    func macs(_ op: Operator, in graph: Graph) -> Int

    /// Scratch bytes the kernel needs while it runs (0 for most).
    func scratchBytes(_ op: Operator, in graph: Graph) -> Int

    /// The input position whose buffer the output may overwrite when that input dies at this
    /// operator, or nil (the default). Only where the output fits in that input's bytes and the
    /// kernel never overwrites an input byte it has still to read: elementwise kernels read
    /// element i before writing it; the depthwise 3x3 kernel copies a whole channel to its plane
    /// before writing that channel; the 1x1 convolution gathers a block of pixels before writing
    /// their outputs, which end before the next block's inputs begin.
    func inPlaceInput(_ op: Operator, in graph: Graph) -> Int?

    /// The C for this operator. Constants go through `context` so names stay unique and
    /// deterministic; `context.pointer(_:)` gives every tensor's C expression.
    func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator
}

extension KernelLowering {
    public func macs(_ op: Operator, in graph: Graph) -> Int { 0 }
    public func scratchBytes(_ op: Operator, in graph: Graph) -> Int { 0 }
    public func inPlaceInput(_ op: Operator, in graph: Graph) -> Int? { nil }
}

/// The C an operator lowers to.
public struct LoweredOperator: Sendable {
    /// Kernel headers from `templates/runtime/kernels/` this operator needs, e.g. "mg_conv.h".
    public var kernelHeaders: [String]
    /// C statements for the run function: usually one call to a kernel.
    public var statements: String
    /// The implementation chosen where the lowering has several (empty where it has one).
    public var variants: [KernelVariant]

    public init(kernelHeaders: [String], statements: String, variants: [KernelVariant] = []) {
        self.kernelHeaders = kernelHeaders
        self.statements = statements
        self.variants = variants
    }
}

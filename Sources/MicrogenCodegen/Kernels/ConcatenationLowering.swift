import MicrogenIR
import MicrogenCompiler

// PLACEHOLDER: to be replaced by the real lowering.
public struct ConcatenationLowering: KernelLowering {
    public init() {}
    public var kinds: [OpKind] { [.concatenation] }
    public func check(_ op: Operator, in graph: Graph) throws {
        throw MicrogenError(.unsupported, "\(op.kind.rawValue) is not implemented yet")
    }
    public func lower(_ op: Operator, context: EmitContext) throws -> LoweredOperator {
        throw MicrogenError(.unsupported, "\(op.kind.rawValue) is not implemented yet")
    }
}

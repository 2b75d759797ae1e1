import MicrogenIR

/// What a lowering sees while it emits one operator: the graph, where every tensor lives, and a
/// place to put file-scope constants (weights in the kernel's order, biases, requantization tables).
public final class EmitContext {
    public let graph: Graph
    /// The prefix of every generated symbol, e.g. "mg_kws".
    public let prefix: String
    /// The index of the operator being lowered (in the final, optimized graph).
    public let operatorIndex: Int

    private let tensorExpression: (Int) -> String
    private let scratchOffset: Int?
    /// File-scope C declarations this operator added, in order.
    public private(set) var declarations: [String] = []
    /// Constant tensors whose raw data the operator referenced through `pointer(_:)`.
    public private(set) var referencedConstants: Set<Int> = []
    /// Bytes of the constant arrays this operator declared (for the flash report).
    public private(set) var constantBytes = 0

    public init(graph: Graph, prefix: String, operatorIndex: Int, scratchOffset: Int?, tensorExpression: @escaping (Int) -> String) {
        self.graph = graph
        self.prefix = prefix
        self.operatorIndex = operatorIndex
        self.scratchOffset = scratchOffset
        self.tensorExpression = tensorExpression
    }

    public func tensor(_ index: Int) -> Tensor { graph.tensors[index] }

    /// A C expression for the tensor's first element, typed (`(int8_t *)(arena + 64)`, or the name
    /// of a const array for a constant tensor holding its raw data).
    public func pointer(_ tensorIndex: Int) -> String {
        if graph.tensors[tensorIndex].isConstant { referencedConstants.insert(tensorIndex) }
        return tensorExpression(tensorIndex)
    }

    /// A `(uint8_t *)` expression for this operator's scratch buffer (requested by `scratchBytes`).
    public func scratchPointer() -> String {
        guard let offset = scratchOffset else { return "((uint8_t *)0)" }
        return "(arena + \(offset))"
    }

    /// Declares `static const <cType> <prefix>_op<N>_<suffix>[] = { values }` and returns its name.
    public func constantArray(_ suffix: String, cType: String, values: [String]) -> String {
        let name = "\(prefix)_op\(operatorIndex)_\(suffix)"
        declarations.append(CWriter.constArray(name: name, cType: cType, values: values))
        constantBytes += values.count * CWriter.byteSize(ofCType: cType)
        return name
    }

    public func constantArray<T: BinaryInteger>(_ suffix: String, cType: String, integers: [T]) -> String {
        constantArray(suffix, cType: cType, values: integers.map { CWriter.integerLiteral($0, cType: cType) })
    }

    public func constantArray(_ suffix: String, floats: [Float]) -> String {
        constantArray(suffix, cType: "float", values: floats.map(CWriter.floatLiteral))
    }

    /// Declares `static const <structType> <prefix>_op<N>_<suffix> = { .field = value, ... };`
    /// and returns its name. Fields are written in the order given, so output is deterministic.
    public func constantStruct(_ suffix: String, type structType: String, fields: [(String, String)]) -> String {
        let name = "\(prefix)_op\(operatorIndex)_\(suffix)"
        var text = "static const \(structType) \(name) = {\n"
        for (key, value) in fields { text += "    .\(key) = \(value),\n" }
        text += "};\n"
        declarations.append(text)
        return name
    }

    public func constantStruct(_ suffix: String, type structType: String, fields: KeyValuePairs<String, String>) -> String {
        constantStruct(suffix, type: structType, fields: fields.map { ($0.key, $0.value) })
    }
}

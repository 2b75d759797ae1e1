import MicrogenIR

/// What the importer refuses although the file is well formed: operators, tensor types and
/// control flow microgen cannot compile. Each check reports every offender in one message.
extension TFLiteGraphBuilder {
    /// Builtins whose options name other subgraphs (CALL, IF, WHILE, CALL_ONCE and the StableHLO
    /// ops with bodies or comparators).
    static let subgraphCallingCodes: Set<Int> = [31, 118, 119, 129, 173, 174, 190, 198, 199, 200, 206]

    /// Only subgraph 0 is compiled: other subgraphs may be ignored only when nothing runs them.
    func checkNoSubgraphCalls(_ codes: [TFLiteRawOperatorCode]) throws {
        guard raw.subgraphCount > 1 else { return }
        let callers = codes.enumerated().filter { Self.subgraphCallingCodes.contains($0.element.builtinCode) }
        guard !callers.isEmpty else { return }
        let names = callers.map { label(operator: $0.offset, Self.displayName($0.element)) }
        throw unsupported("the model has \(raw.subgraphCount) subgraphs and \(names.joined(separator: ", ")) run\(names.count == 1 ? "s" : "") another subgraph; microgen compiles only subgraph 0 and supports no control flow")
    }

    /// The `OpKind` of every operator, or one error listing every unsupported operator with its count.
    func supportedKinds(_ codes: [TFLiteRawOperatorCode]) throws -> [OpKind] {
        var kinds: [OpKind] = []
        var missing: [(name: String, count: Int)] = []
        for code in codes {
            let name = Self.displayName(code)
            if code.builtinCode != BuiltinOperatorNames.custom, let kind = OpKind(rawValue: name) {
                kinds.append(kind)
            } else if let i = missing.firstIndex(where: { $0.name == name }) {
                missing[i].count += 1
            } else {
                missing.append((name, 1))
            }
        }
        guard missing.isEmpty else {
            let list = missing.map { "\($0.name) ×\($0.count)" }.joined(separator: ", ")
            let supported = OpKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw unsupported("unsupported operators: \(list) (microgen supports: \(supported))")
        }
        return kinds
    }

    /// Activations must be int8 or float32; constants may be of any type the IR represents
    /// (int32 biases, int32/int64 shapes and axes). A RESHAPE's int32 shape input may be computed.
    /// Tensors the graph uses: model inputs and outputs and operator operands.
    func usedTensors(graphInputs: [Int], graphOutputs: [Int]) -> Set<Int> {
        var used = Set(graphInputs).union(graphOutputs)
        for op in subgraph.operators {
            for t in op.inputs where t >= 0 { used.insert(Int(t)) }
            for t in op.outputs { used.insert(Int(t)) }
        }
        return used
    }

    func checkTensorTypes(_ tensors: [Tensor], unrepresentable: [Int: (typeCode: Int8, isConstant: Bool)],
                          kinds: [OpKind], graphInputs: [Int], graphOutputs: [Int]) throws {
        let used = usedTensors(graphInputs: graphInputs, graphOutputs: graphOutputs)
        var onlyReshapeShape: [Int: Bool] = [:]
        for (index, op) in subgraph.operators.enumerated() {
            for (position, t) in op.inputs.enumerated() where t >= 0 {
                let isShape = kinds[index] == .reshape && position == 1
                onlyReshapeShape[Int(t)] = (onlyReshapeShape[Int(t)] ?? true) && isShape
            }
            for t in op.outputs {
                onlyReshapeShape[Int(t)] = false
            }
        }
        for t in graphOutputs { onlyReshapeShape[t] = false }

        var offenders: [String] = []
        for index in used.sorted() {
            if let raw = unrepresentable[index] {
                let role = raw.isConstant ? "constant" : "activation"
                offenders.append("\(label(tensor: index)) (\(TFLiteTensorType.name(of: raw.typeCode)) \(role))")
                continue
            }
            let tensor = tensors[index]
            if tensor.isConstant || tensor.dataType == .int8 || tensor.dataType == .float32 { continue }
            if tensor.dataType == .int32, onlyReshapeShape[index] == true { continue }
            offenders.append("\(label(tensor: index)) (\(tensor.dataType) activation)")
        }
        guard offenders.isEmpty else {
            throw unsupported("unsupported tensor types (activations must be int8 or float32): \(offenders.joined(separator: ", "))")
        }
    }

    /// int8 activations need one scale (finite, positive) and a zero point in int8's range:
    /// requantization is computed from them at compile time.
    func checkActivationQuantization(_ tensors: [Tensor], used: Set<Int>) throws {
        var problems: [String] = []
        for index in used.sorted() where index < tensors.count {
            let tensor = tensors[index]
            guard !tensor.isConstant, tensor.dataType == .int8 else { continue }
            guard let q = tensor.quantization else {
                problems.append("\(label(tensor: index)) has no quantization parameters")
                continue
            }
            if q.scales.count != 1 {
                problems.append("\(label(tensor: index)) has \(q.scales.count) per-channel scales (activations need one)")
            } else if !(q.scale.isFinite && q.scale > 0) {
                problems.append("\(label(tensor: index)) has scale \(q.scale)")
            }
            if let zp = q.zeroPoints.first(where: { $0 < -128 || $0 > 127 }) {
                problems.append("\(label(tensor: index)) has zero point \(zp), outside -128...127")
            }
        }
        guard problems.isEmpty else {
            throw malformed("bad int8 activation quantization: \(problems.joined(separator: "; "))")
        }
    }

    /// Operators must run in an order where each input already has a value, and each tensor
    /// has one writer: later stages plan memory from this order.
    func checkDataFlow(_ operators: [Operator], tensors: [Tensor], inputs: [Int], outputs: [Int]) throws {
        var written = Set(inputs)
        for (index, tensor) in tensors.enumerated() where tensor.isConstant { written.insert(index) }
        for (index, op) in operators.enumerated() {
            let name = label(operator: index, op.kind.rawValue)
            for t in op.inputs where t >= 0 && !written.contains(t) {
                throw malformed("\(name) reads \(label(tensor: t)) before any operator writes it (it is neither a model input nor a constant)")
            }
            for t in op.outputs {
                if tensors[t].isConstant {
                    throw malformed("\(name) writes \(label(tensor: t)), which is a constant")
                }
                guard written.insert(t).inserted else {
                    throw malformed("\(name) writes \(label(tensor: t)), which already has a value (a model input or an earlier operator's output)")
                }
            }
        }
        for t in outputs where !written.contains(t) {
            throw malformed("model output \(label(tensor: t)) is never written by any operator")
        }
    }
}

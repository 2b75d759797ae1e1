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

    /// The `OpKind` of every operator, nil where microgen has no such operator.
    func operatorKinds(_ codes: [TFLiteRawOperatorCode]) -> [OpKind?] {
        codes.map { code in
            code.builtinCode == BuiltinOperatorNames.custom ? nil : OpKind(rawValue: Self.displayName(code))
        }
    }

    /// One refusal for everything microgen cannot compute: every unsupported operator and every
    /// unsupported tensor type at once, so fixing one does not uncover the other. Each list is
    /// counted and shows only its first few names, so the message stays short however large
    /// the model.
    func checkSupport(_ codes: [TFLiteRawOperatorCode], kinds: [OpKind?], tensors: [Tensor],
                      unrepresentable: [Int: (typeCode: Int8, isConstant: Bool)],
                      graphInputs: [Int], graphOutputs: [Int]) throws -> [OpKind] {
        var problems: [String] = []
        if let operators = unsupportedOperators(codes, kinds: kinds) { problems.append(operators) }
        if let types = unsupportedTypes(tensors, unrepresentable: unrepresentable, kinds: kinds,
                                        graphInputs: graphInputs, graphOutputs: graphOutputs) {
            problems.append(types)
        }
        guard problems.isEmpty else { throw unsupported(problems.joined(separator: "; ")) }
        return kinds.compactMap { $0 }
    }

    /// "unsupported operators: SIN ×2, GATHER ×1 (microgen supports: ...)", or nil.
    private func unsupportedOperators(_ codes: [TFLiteRawOperatorCode], kinds: [OpKind?]) -> String? {
        var missing: [(name: String, count: Int)] = []
        for (code, kind) in zip(codes, kinds) where kind == nil {
            let name = Self.boundedName(Self.displayName(code))
            if let i = missing.firstIndex(where: { $0.name == name }) {
                missing[i].count += 1
            } else {
                missing.append((name, 1))
            }
        }
        guard !missing.isEmpty else { return nil }
        let list = Self.firstFew(missing.map { "\($0.name) ×\($0.count)" }, shown: 6)
        let supported = OpKind.allCases.map(\.rawValue).joined(separator: ", ")
        return "unsupported operators: \(list) (microgen supports: \(supported))"
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

    /// "unsupported tensor types (activations must be int8 or float32): int16 ×12 (tensor 0
    /// 'a', ... and 9 more)", grouped by type, or nil.
    private func unsupportedTypes(_ tensors: [Tensor], unrepresentable: [Int: (typeCode: Int8, isConstant: Bool)],
                                  kinds: [OpKind?], graphInputs: [Int], graphOutputs: [Int]) -> String? {
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

        var offenders: [(type: String, tensor: String)] = []
        for index in used.sorted() {
            if let raw = unrepresentable[index] {
                let role = raw.isConstant ? "constant" : "activation"
                offenders.append(("\(TFLiteTensorType.name(of: raw.typeCode)) \(role)", label(tensor: index)))
                continue
            }
            let tensor = tensors[index]
            if tensor.isConstant || tensor.dataType == .int8 || tensor.dataType == .float32 { continue }
            if tensor.dataType == .int32, onlyReshapeShape[index] == true { continue }
            offenders.append(("\(tensor.dataType) activation", label(tensor: index)))
        }
        guard !offenders.isEmpty else { return nil }
        var groups: [(type: String, tensors: [String])] = []
        for offender in offenders {
            if let i = groups.firstIndex(where: { $0.type == offender.type }) {
                groups[i].tensors.append(offender.tensor)
            } else {
                groups.append((offender.type, [offender.tensor]))
            }
        }
        let list = groups.prefix(4).map { "\($0.type) ×\($0.tensors.count) (\(Self.firstFew($0.tensors)))" }
        let more = groups.count > 4 ? " and \(groups.count - 4) more types" : ""
        return "unsupported tensor types (activations must be int8 or float32): \(list.joined(separator: ", "))\(more)"
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
            throw malformed("bad int8 activation quantization: \(Self.firstFew(problems))")
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

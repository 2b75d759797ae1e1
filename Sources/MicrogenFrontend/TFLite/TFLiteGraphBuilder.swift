import MicrogenIR

/// Checks a decoded model for meaning and builds the IR graph of subgraph 0.
///
/// The checks run in a fixed order so that each failure gets the most useful message: structure
/// (indices) first, then the counts of operators, inputs and outputs (`GraphLimits`), then
/// tensors (shapes, buffers, constant sizes), then support: every unsupported operator and
/// tensor type in one message, then rank and byte limits and constant inputs or outputs, then
/// int8 activation quantization, then options and data flow. Tensor indices are kept as in the file, so reports match other TFLite tools.
struct TFLiteGraphBuilder {
    let raw: TFLiteRawModel
    let fileName: String

    /// Tensors beyond this many elements are refused: no microcontroller model comes close, and
    /// byte sizes stay far from overflowing.
    static let maxElementCount = 1 << 30

    var subgraph: TFLiteRawSubgraph { raw.subgraph }

    func build() throws -> Graph {
        let codes = try resolveOperatorCodes()
        try checkOperatorIndices(codes)
        let inputs = try checkGraphIndices(subgraph.inputs, role: "input")
        let outputs = try checkGraphIndices(subgraph.outputs, role: "output")
        try checkNoSubgraphCalls(codes)
        try checkCounts(operators: subgraph.operators.count, inputs: inputs, outputs: outputs)
        let possibleKinds = operatorKinds(codes)

        var tensors: [Tensor] = []
        var unrepresentable: [Int: (typeCode: Int8, isConstant: Bool)] = [:]
        for index in subgraph.tensors.indices {
            let built = try buildTensor(index)
            if built.tensor == nil { unrepresentable[index] = (built.typeCode, built.isConstant) }
            // The placeholder never reaches a graph: checkSupport refuses unrepresentable tensors.
            tensors.append(built.tensor ?? Tensor(name: subgraph.tensors[index].name, dataType: .int8, shape: []))
        }
        let kinds = try checkSupport(codes, kinds: possibleKinds, tensors: tensors, unrepresentable: unrepresentable,
                                     graphInputs: inputs, graphOutputs: outputs)
        let used = usedTensors(graphInputs: inputs, graphOutputs: outputs)
        try checkTensorLimits(tensors, used: used, inputs: inputs, outputs: outputs)
        try checkActivationQuantization(tensors, used: used)
        try checkQuantizationValues(tensors)

        var operators: [Operator] = []
        for (index, op) in subgraph.operators.enumerated() {
            let inputIndices = op.inputs.map(Int.init)
            let decoder = TFLiteOptionsDecoder(
                fileName: fileName, operatorLabel: label(operator: index, kinds[index].rawValue),
                kind: kinds[index], optionsType: op.optionsType, table: op.options,
                inputShapes: inputIndices.map { $0 >= 0 ? tensors[$0].shape : nil })
            operators.append(Operator(kind: kinds[index], inputs: inputIndices, outputs: op.outputs.map(Int.init),
                                      options: try decoder.decode()))
        }
        try checkDataFlow(operators, tensors: tensors, inputs: inputs, outputs: outputs)
        return Graph(name: fileName, tensors: tensors, operators: operators, inputs: inputs, outputs: outputs)
    }

    // MARK: messages

    func malformed(_ what: String) -> MicrogenError { MicrogenError(.malformedModel, "\(fileName): \(what)") }
    func unsupported(_ what: String) -> MicrogenError { MicrogenError(.unsupported, "\(fileName): \(what)") }

    func label(operator index: Int, _ name: String) -> String { "operator \(index) (\(name))" }

    func label(tensor index: Int) -> String {
        let name = subgraph.tensors[index].name
        return name.isEmpty ? "tensor \(index)" : "tensor \(index) '\(Self.boundedName(name))'"
    }

    /// A name from the model cut to 48 characters: one name cannot make a message long.
    static func boundedName(_ name: String) -> String {
        name.count <= 48 ? name : name.prefix(45) + "..."
    }

    // MARK: structure

    /// The operator name of each operator, checking its opcode index.
    private func resolveOperatorCodes() throws -> [TFLiteRawOperatorCode] {
        try subgraph.operators.enumerated().map { index, op in
            guard op.opcodeIndex < raw.operatorCodes.count else {
                throw malformed("operator \(index) uses operator code index \(op.opcodeIndex), but the model has only \(raw.operatorCodes.count) operator codes")
            }
            return raw.operatorCodes[Int(op.opcodeIndex)]
        }
    }

    static func displayName(_ code: TFLiteRawOperatorCode) -> String {
        if code.builtinCode == BuiltinOperatorNames.custom {
            return "CUSTOM '\(code.customCode ?? "")'"
        }
        return BuiltinOperatorNames.name(of: code.builtinCode)
    }

    private func checkOperatorIndices(_ codes: [TFLiteRawOperatorCode]) throws {
        let count = subgraph.tensors.count
        for (index, op) in subgraph.operators.enumerated() {
            let name = label(operator: index, Self.displayName(codes[index]))
            for (position, t) in op.inputs.enumerated() where t != -1 {
                guard t >= 0, Int(t) < count else {
                    throw malformed("\(name) input \(position) refers to tensor \(t), but subgraph 0 has only \(count) tensors")
                }
            }
            for (position, t) in op.outputs.enumerated() {
                guard t >= 0, Int(t) < count else {
                    throw malformed("\(name) output \(position) refers to tensor \(t), but subgraph 0 has only \(count) tensors")
                }
            }
        }
    }

    private func checkGraphIndices(_ indices: [Int32], role: String) throws -> [Int] {
        let count = subgraph.tensors.count
        for (position, t) in indices.enumerated() {
            guard t >= 0, Int(t) < count else {
                throw malformed("model \(role) \(position) refers to tensor \(t), but subgraph 0 has only \(count) tensors")
            }
        }
        return indices.map(Int.init)
    }

    // MARK: tensors

    /// The IR tensor, or nil when its TFLite type has no `DataType`.
    private func buildTensor(_ index: Int) throws -> (tensor: Tensor?, typeCode: Int8, isConstant: Bool) {
        let rawTensor = subgraph.tensors[index]
        let name = label(tensor: index)
        let typeCode = rawTensor.typeCode
        guard TFLiteTensorType.isKnown(typeCode) else {
            throw malformed("\(name) has unknown tensor type code \(typeCode)")
        }
        let shape = try checkedShape(rawTensor.shape, name: name)
        if rawTensor.isSparse {
            throw unsupported("\(name) is stored sparse (it has sparsity parameters); microgen needs dense tensors")
        }
        let data = try constantData(rawTensor, name: name)
        guard let dataType = TFLiteTensorType.dataType(of: typeCode) else { return (nil, typeCode, data != nil) }
        if let data {
            let expected = shape.reduce(1, *) * dataType.size
            guard data.count == expected else {
                throw malformed("\(name) (\(dataType), shape \(shape.shapeString)) needs \(expected) bytes of constant data, but buffer \(rawTensor.bufferIndex) holds \(data.count)")
            }
        }
        let quantization = try rawTensor.quantization.map { try checkedQuantization($0, shape: shape, name: name) }
        return (Tensor(name: rawTensor.name, dataType: dataType, shape: shape, quantization: quantization, data: data), typeCode, data != nil)
    }

    private func checkedShape(_ raw: [Int32], name: String) throws -> [Int] {
        let shape = raw.map(Int.init)
        if shape.contains(where: { $0 < 0 }) {
            throw malformed("\(name) has a negative dimension in its shape [\(shape.map(String.init).joined(separator: ", "))]")
        }
        var elements = 1
        for dim in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= Self.maxElementCount else {
                throw unsupported("\(name) has shape \(shape.shapeString), more than \(Self.maxElementCount) elements")
            }
            elements = product
        }
        return shape
    }

    /// The tensor's constant bytes, or nil for an activation. Buffer 0 is the schema's empty
    /// sentinel, so a tensor that points at it is never constant.
    private func constantData(_ tensor: TFLiteRawTensor, name: String) throws -> [UInt8]? {
        let index = Int(tensor.bufferIndex)
        if index == 0 { return nil }
        guard index < raw.buffers.count else {
            throw malformed("\(name) refers to buffer \(index), but the model has only \(raw.buffers.count) buffers")
        }
        let data = try raw.buffers.data(index)
        return data.isEmpty ? nil : data
    }

    private func checkedQuantization(_ q: TFLiteRawQuantization, shape: [Int], name: String) throws -> Quantization {
        var zeroPoints = q.zeroPoints.map(Int.init)
        if zeroPoints.isEmpty { zeroPoints = Array(repeating: 0, count: q.scales.count) }
        guard zeroPoints.count == q.scales.count else {
            throw malformed("\(name) has \(q.scales.count) quantization scales but \(zeroPoints.count) zero points")
        }
        guard q.scales.count > 1 else { return Quantization(scales: q.scales, zeroPoints: zeroPoints, axis: 0) }
        // A 1-D tensor has one dimension to run along, whatever quantized_dimension says: the
        // converter copies a filter's (3 for DEPTHWISE_CONV_2D) onto its bias, and TFLM, which
        // ignores bias quantization, runs such models (its own examples contain them).
        if shape.count == 1, shape[0] == q.scales.count {
            return Quantization(scales: q.scales, zeroPoints: zeroPoints, axis: 0)
        }
        let axis = Int(q.quantizedDimension)
        guard axis >= 0, axis < shape.count, shape[axis] == q.scales.count else {
            let dims = axis >= 0 && axis < shape.count ? "dimension \(axis) has size \(shape[axis])" : "shape \(shape.shapeString) has no dimension \(axis)"
            throw malformed("\(name) has \(q.scales.count) per-channel scales along quantized_dimension \(axis), but its \(dims)")
        }
        return Quantization(scales: q.scales, zeroPoints: zeroPoints, axis: axis)
    }
}

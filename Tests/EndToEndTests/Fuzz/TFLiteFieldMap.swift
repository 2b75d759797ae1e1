@testable import MicrogenFrontend

/// One place in a .tflite file that a mutation can change in place (or, for references, point
/// elsewhere), with a label that says what it is in the model.
struct MutationSite: Sendable {
    enum Kind: Sendable {
        /// A float32 scale (quantization) or float option (alpha, beta).
        case float32
        case zeroPoint
        case quantizedDimension
        /// An int32 in a shape, new_shape or squeeze_dims.
        case dimension
        /// An int32 tensor index in an operator's or the subgraph's inputs or outputs.
        case tensorIndex
        case tensorType
        case bufferIndex
        case opcodeIndex
        case deprecatedBuiltinCode
        case builtinCode
        case optionsType
        /// An integer option of this many bytes (padding, activation, strides, axis, masks...).
        case integerOption(bytes: Int)
        /// `count` bytes of constant data.
        case bufferData(count: Int)
        /// The offset field of a string (tensor or subgraph name).
        case name
        /// The offset field of an int32 vector (shape, inputs, outputs, new_shape).
        case int32Vector
    }

    var kind: Kind
    var position: Int
    var label: String
}

/// Every mutation site of a model, found by walking the file with the importer's own
/// `FlatBufferReader` and the field numbers in `TFLiteSchema`, so the mutants stay well-formed
/// flatbuffers wherever the mutation does not break them on purpose.
struct TFLiteFieldMap: Sendable {
    var sites: [MutationSite] = []
    var tensorCount = 0
    var bufferCount = 0
    var opcodeCount = 0
    /// Tensors that hold constant data: the interesting wrong answer for an input or output index.
    var constantTensors: [Int32] = []
    /// The buffers those constants use.
    var constantBuffers: [UInt32] = []

    /// The map of a model the importer accepts at least as a flatbuffer; a file it cannot walk
    /// gets only the byte-level mutations.
    init(bytes: [UInt8]) {
        try? walk(FlatBufferReader(bytes: bytes, fileName: "seed"))
    }

    private mutating func add(_ kind: MutationSite.Kind, _ table: FlatBufferTable, _ id: Int, size: Int, _ label: String) throws {
        guard let p = try table.fieldPosition(id, size: size, name: label) else { return }
        sites.append(MutationSite(kind: kind, position: p, label: label))
    }

    /// The elements of an int32 vector field, each as `kind`, and the field itself as a vector reference.
    private mutating func addVector(_ kind: MutationSite.Kind, _ table: FlatBufferTable, _ id: Int, _ label: String) throws {
        guard let vector = try table.vector(id, label, elementSize: 4) else { return }
        try add(.int32Vector, table, id, size: 4, label)
        for i in 0..<vector.count { sites.append(MutationSite(kind: kind, position: vector.start + 4 * i, label: "\(label)[\(i)]")) }
    }

    private mutating func walk(_ reader: FlatBufferReader) throws {
        typealias M = TFLiteSchema.Model
        typealias S = TFLiteSchema.SubGraph
        typealias T = TFLiteSchema.Tensor
        typealias Q = TFLiteSchema.QuantizationParameters
        typealias O = TFLiteSchema.Operator
        typealias C = TFLiteSchema.OperatorCode
        let model = try reader.rootTable(context: "model")
        if let codes = try model.vector(M.operatorCodes, "operator_codes", elementSize: 4) {
            opcodeCount = codes.count
            for i in 0..<codes.count {
                let code = try codes.table(i, context: "code \(i)")
                try add(.deprecatedBuiltinCode, code, C.deprecatedBuiltinCode, size: 1, "operator code \(i) deprecated_builtin_code")
                try add(.builtinCode, code, C.builtinCode, size: 4, "operator code \(i) builtin_code")
            }
        }
        var constantBufferSet = Set<UInt32>()
        if let buffers = try model.vector(M.buffers, "buffers", elementSize: 4) {
            bufferCount = buffers.count
            for i in 0..<buffers.count {
                let buffer = try buffers.table(i, context: "buffer \(i)")
                if let data = try buffer.vector(TFLiteSchema.Buffer.data, "data", elementSize: 1), data.count > 0 {
                    sites.append(MutationSite(kind: .bufferData(count: data.count), position: data.start, label: "buffer \(i) data"))
                    constantBufferSet.insert(UInt32(i))
                }
            }
        }
        guard let subgraphs = try model.vector(M.subgraphs, "subgraphs", elementSize: 4), subgraphs.count > 0 else { return }
        let subgraph = try subgraphs.table(0, context: "subgraph 0")
        try add(.name, subgraph, S.name, size: 4, "subgraph name")
        try addVector(.tensorIndex, subgraph, S.inputs, "subgraph inputs")
        try addVector(.tensorIndex, subgraph, S.outputs, "subgraph outputs")
        if let tensors = try subgraph.vector(S.tensors, "tensors", elementSize: 4) {
            tensorCount = tensors.count
            for i in 0..<tensors.count {
                let tensor = try tensors.table(i, context: "tensor \(i)")
                let label = "tensor \(i)"
                try addVector(.dimension, tensor, T.shape, "\(label) shape")
                try add(.tensorType, tensor, T.type, size: 1, "\(label) type")
                try add(.bufferIndex, tensor, T.buffer, size: 4, "\(label) buffer")
                try add(.name, tensor, T.name, size: 4, "\(label) name")
                if constantBufferSet.contains(try tensor.uint32(T.buffer, "buffer")) {
                    constantTensors.append(Int32(i))
                    constantBuffers.append(try tensor.uint32(T.buffer, "buffer"))
                }
                guard let q = try tensor.table(T.quantization, "quantization") else { continue }
                try add(.quantizedDimension, q, Q.quantizedDimension, size: 4, "\(label) quantized_dimension")
                if let scales = try q.vector(Q.scale, "scale", elementSize: 4) {
                    for k in 0..<min(scales.count, 8) {
                        sites.append(MutationSite(kind: .float32, position: scales.start + 4 * k, label: "\(label) scale[\(k)]"))
                    }
                }
                if let zeros = try q.vector(Q.zeroPoint, "zero_point", elementSize: 8) {
                    for k in 0..<min(zeros.count, 8) {
                        sites.append(MutationSite(kind: .zeroPoint, position: zeros.start + 8 * k, label: "\(label) zero_point[\(k)]"))
                    }
                }
            }
        }
        if let operators = try subgraph.vector(S.operators, "operators", elementSize: 4) {
            for i in 0..<operators.count {
                let op = try operators.table(i, context: "operator \(i)")
                let label = "operator \(i)"
                try add(.opcodeIndex, op, O.opcodeIndex, size: 4, "\(label) opcode_index")
                try addVector(.tensorIndex, op, O.inputs, "\(label) inputs")
                try addVector(.tensorIndex, op, O.outputs, "\(label) outputs")
                try add(.optionsType, op, O.builtinOptionsType, size: 1, "\(label) builtin_options_type")
                let options = try op.union(typeId: O.builtinOptionsType, "builtin_options")
                if let table = options.table { try addOptions(type: options.type, table, "\(label) options") }
            }
        }
    }

    /// The option fields of the tables the importer reads, by their schema sizes.
    private mutating func addOptions(type: UInt8, _ table: FlatBufferTable, _ label: String) throws {
        typealias Tag = TFLiteSchema.OptionsType
        // Field id → bytes (4 = int32, 1 = enum or bool); floats and vectors separately.
        var integers: [Int: Int] = [:]
        switch type {
        case Tag.conv2D: integers = [0: 1, 1: 4, 2: 4, 3: 1, 4: 4, 5: 4]
        case Tag.depthwiseConv2D: integers = [0: 1, 1: 4, 2: 4, 3: 4, 4: 1, 5: 4, 6: 4]
        case Tag.pool2D: integers = [0: 1, 1: 4, 2: 4, 3: 4, 4: 4, 5: 1]
        case Tag.fullyConnected: integers = [0: 1, 1: 1, 2: 1]
        case Tag.concatenation: integers = [0: 4, 1: 1]
        case Tag.add, Tag.sub, Tag.mul, Tag.reducer: integers = [0: 1]
        case Tag.stridedSlice: integers = [0: 4, 1: 4, 2: 4, 3: 4, 4: 4, 5: 1]
        case Tag.softmax, Tag.leakyRelu: try add(.float32, table, 0, size: 4, "\(label) float field 0")
        case Tag.reshape, Tag.squeeze: try addVector(.dimension, table, 0, "\(label) vector field 0")
        default: break
        }
        for (id, bytes) in integers.sorted(by: { $0.key < $1.key }) {
            try add(.integerOption(bytes: bytes), table, id, size: bytes, "\(label) field \(id)")
        }
    }
}

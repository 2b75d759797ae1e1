/// A TFLite model described field by field, serialized with `FlatBufferTestWriter`: the tests
/// build small models, break one thing, and check the importer's message.
/// Field numbers follow tensorflow/lite/schema/schema.fbs (version 3).
struct TestModel {
    struct Code {
        var builtin: Int32
        var custom: String? = nil
        /// Old writers fill only the byte-wide deprecated_builtin_code; new ones fill both.
        var deprecatedOnly = false
    }

    struct TensorSpec {
        var name: String
        var type: Int8
        var shape: [Int32]
        var buffer: UInt32 = 0
        var scales: [Float]? = nil
        var zeroPoints: [Int64]? = nil
        var quantizedDimension: Int32 = 0
        /// Raw fields to add or override (e.g. 6: sparsity).
        var extra: [Int: FBValue] = [:]
    }

    struct OperatorSpec {
        var opcode: UInt32
        var inputs: [Int32]
        var outputs: [Int32]
        var optionsType: UInt8 = 0
        var options: FBTable? = nil
    }

    struct BufferSpec {
        var data: [UInt8]? = nil
        var offset: UInt64? = nil
        var size: UInt64? = nil
    }

    var version: UInt32 = 3
    var codes: [Code] = []
    var tensors: [TensorSpec] = []
    var operators: [OperatorSpec] = []
    var inputs: [Int32] = []
    var outputs: [Int32] = []
    var buffers: [BufferSpec] = [BufferSpec()]
    /// Copies of an empty subgraph appended after subgraph 0.
    var extraSubgraphs = 0
    /// nil: no subgraphs vector at all.
    var hasSubgraphs = true
    var identifier = "TFL3"
    /// Bytes appended after the flatbuffer (the large-model layout keeps buffer data there).
    var trailer: [UInt8] = []

    // TensorType codes.
    static let float32: Int8 = 0, int32: Int8 = 2, uint8: Int8 = 3, int64: Int8 = 4, string: Int8 = 5
    static let int16: Int8 = 7, int8: Int8 = 9

    func bytes() -> [UInt8] {
        FlatBufferTestWriter.serialize(table(), identifier: identifier) + trailer
    }

    func table() -> FBTable {
        var model = FBTable([0: .uint32(version)])
        model[1] = .tables(codes.map(Self.codeTable))
        var subgraph = FBTable([
            0: .tables(tensors.map(Self.tensorTable)),
            1: .int32s(inputs),
            2: .int32s(outputs),
            3: .tables(operators.map(Self.operatorTable)),
            4: .string("main"),
        ])
        if operators.isEmpty { subgraph[3] = nil }
        if hasSubgraphs {
            model[2] = .tables([subgraph] + Array(repeating: FBTable([4: .string("other")]), count: extraSubgraphs))
        }
        model[4] = .tables(buffers.map(Self.bufferTable))
        return model
    }

    static func codeTable(_ code: Code) -> FBTable {
        var t = FBTable([0: .int8(Int8(clamping: code.builtin))])
        if !code.deprecatedOnly { t[3] = .int32(code.builtin) }
        if let custom = code.custom { t[1] = .string(custom) }
        return t
    }

    static func tensorTable(_ spec: TensorSpec) -> FBTable {
        var t = FBTable([0: .int32s(spec.shape), 1: .int8(spec.type), 2: .uint32(spec.buffer), 3: .string(spec.name)])
        if let scales = spec.scales {
            var q = FBTable([2: .float32s(scales)])
            if let zp = spec.zeroPoints { q[3] = .int64s(zp) }
            q[6] = .int32(spec.quantizedDimension)
            t[4] = .table(q)
        }
        for (id, value) in spec.extra { t[id] = value }
        return t
    }

    static func operatorTable(_ spec: OperatorSpec) -> FBTable {
        var t = FBTable([0: .uint32(spec.opcode), 1: .int32s(spec.inputs), 2: .int32s(spec.outputs)])
        if spec.optionsType != 0 { t[3] = .uint8(spec.optionsType) }
        if let options = spec.options { t[4] = .table(options) }
        return t
    }

    static func bufferTable(_ spec: BufferSpec) -> FBTable {
        var t = FBTable()
        if let data = spec.data { t[0] = .bytes(data) }
        if let offset = spec.offset { t[1] = .uint64(offset) }
        if let size = spec.size { t[2] = .uint64(size) }
        return t
    }

    // MARK: ready-made models

    /// One CONV_2D: int8 input 1x4x4x2, per-channel int8 filter 3x3x3x2, int32 bias, int8 output 1x4x4x3.
    static func conv(options: FBTable? = FBTable([0: .int8(0), 1: .int32(1), 2: .int32(1), 3: .int8(1)]), optionsType: UInt8 = 1) -> TestModel {
        var m = TestModel()
        m.codes = [Code(builtin: 3)]
        m.buffers = [BufferSpec(), BufferSpec(), BufferSpec(data: (0..<54).map { UInt8($0) }),
                     BufferSpec(data: [UInt8](repeating: 1, count: 12)), BufferSpec()]
        m.tensors = [
            TensorSpec(name: "input", type: int8, shape: [1, 4, 4, 2], buffer: 1, scales: [0.5], zeroPoints: [-1]),
            TensorSpec(name: "filter", type: int8, shape: [3, 3, 3, 2], buffer: 2, scales: [0.1, 0.2, 0.3], zeroPoints: [0, 0, 0]),
            TensorSpec(name: "bias", type: int32, shape: [3], buffer: 3, scales: [0.05, 0.1, 0.15], zeroPoints: [0, 0, 0]),
            TensorSpec(name: "output", type: int8, shape: [1, 4, 4, 3], buffer: 4, scales: [0.25], zeroPoints: [2]),
        ]
        m.operators = [OperatorSpec(opcode: 0, inputs: [0, 1, 2], outputs: [3], optionsType: optionsType, options: options)]
        m.inputs = [0]
        m.outputs = [3]
        return m
    }

    /// One operator with activation inputs and outputs of the given type and shape.
    static func single(builtin: Int32, custom: String? = nil, type: Int8 = int8, shape: [Int32] = [1, 8],
                       inputCount: Int = 1, optionsType: UInt8 = 0, options: FBTable? = nil) -> TestModel {
        var m = TestModel()
        m.codes = [Code(builtin: builtin, custom: custom)]
        for i in 0..<inputCount {
            m.tensors.append(TensorSpec(name: "in\(i)", type: type, shape: shape, scales: type == int8 ? [0.5] : nil, zeroPoints: type == int8 ? [0] : nil))
        }
        m.tensors.append(TensorSpec(name: "out", type: type, shape: shape, scales: type == int8 ? [0.5] : nil, zeroPoints: type == int8 ? [0] : nil))
        m.operators = [OperatorSpec(opcode: 0, inputs: (0..<Int32(inputCount)).map { $0 }, outputs: [Int32(inputCount)],
                                    optionsType: optionsType, options: options)]
        m.inputs = (0..<Int32(inputCount)).map { $0 }
        m.outputs = [Int32(inputCount)]
        return m
    }

    /// Adds an operator (and its code) reading `inputs` and writing a new int8 tensor shaped `shape`;
    /// returns the new tensor's index.
    @discardableResult
    mutating func append(builtin: Int32, custom: String? = nil, inputs: [Int32], shape: [Int32] = [1, 8], type: Int8 = int8) -> Int32 {
        let code: UInt32
        if let i = codes.firstIndex(where: { $0.builtin == builtin && $0.custom == custom }) {
            code = UInt32(i)
        } else {
            codes.append(Code(builtin: builtin, custom: custom))
            code = UInt32(codes.count - 1)
        }
        let output = Int32(tensors.count)
        tensors.append(TensorSpec(name: "t\(output)", type: type, shape: shape, scales: [0.5], zeroPoints: [0]))
        operators.append(OperatorSpec(opcode: code, inputs: inputs, outputs: [output]))
        return output
    }
}

import MicrogenIR

/// The parts of a TFLite model the importer uses, decoded from the flatbuffer but not yet
/// checked for meaning (indices are still raw file values).
struct TFLiteRawModel {
    var version: UInt32
    var operatorCodes: [TFLiteRawOperatorCode]
    var subgraphCount: Int
    /// Subgraph 0, the main graph.
    var subgraph: TFLiteRawSubgraph
    var buffers: TFLiteBuffers
}

struct TFLiteRawOperatorCode {
    /// The larger of deprecated_builtin_code and builtin_code (writers fill one or both).
    var builtinCode: Int
    var customCode: String?
}

struct TFLiteRawSubgraph {
    var name: String
    var tensors: [TFLiteRawTensor]
    var inputs: [Int32]
    var outputs: [Int32]
    var operators: [TFLiteRawOperator]
}

struct TFLiteRawTensor {
    var name: String
    var typeCode: Int8
    var shape: [Int32]
    var bufferIndex: UInt32
    var quantization: TFLiteRawQuantization?
    var isSparse: Bool
}

struct TFLiteRawQuantization {
    var scales: [Float]
    var zeroPoints: [Int64]
    var quantizedDimension: Int32
}

struct TFLiteRawOperator {
    var opcodeIndex: UInt32
    var inputs: [Int32]
    var outputs: [Int32]
    /// The BuiltinOptions union: its tag and its table (nil when absent).
    var optionsType: UInt8
    var options: FlatBufferTable?
}

/// Decodes the flatbuffer structure of a .tflite file.
enum TFLiteModelDecoder {
    static func decode(_ reader: FlatBufferReader) throws -> TFLiteRawModel {
        try checkIdentifier(reader)
        let model = try reader.rootTable(context: "model")
        typealias M = TFLiteSchema.Model
        let version = try model.uint32(M.version, "version")
        guard version == TFLiteSchema.version else {
            throw MicrogenError(.unsupported, "\(reader.fileName): TFLite schema version \(version); microgen reads version \(TFLiteSchema.version) files")
        }

        var codes: [TFLiteRawOperatorCode] = []
        if let vector = try model.vector(M.operatorCodes, "operator_codes", elementSize: 4) {
            for i in 0..<vector.count {
                codes.append(try operatorCode(vector.table(i, context: "operator code \(i)")))
            }
        }

        guard let subgraphs = try model.vector(M.subgraphs, "subgraphs", elementSize: 4), subgraphs.count > 0 else {
            throw MicrogenError(.malformedModel, "\(reader.fileName): the model has no subgraph, so there is no graph to compile")
        }
        let main = try subgraph(subgraphs.table(0, context: "subgraph 0"))
        let buffers = TFLiteBuffers(reader: reader, vector: try model.vector(M.buffers, "buffers", elementSize: 4))
        try buffers.checkAllInFile()
        return TFLiteRawModel(version: version, operatorCodes: codes, subgraphCount: subgraphs.count,
                              subgraph: main, buffers: buffers)
    }

    /// A TFLite flatbuffer carries the identifier "TFL3" right after the root offset.
    static func checkIdentifier(_ reader: FlatBufferReader) throws {
        guard reader.count >= 8 else {
            throw reader.malformed("the file is only \(reader.count) bytes, too short to be a TFLite flatbuffer (truncated or empty)")
        }
        let identifier = Array(reader.bytes[4..<8])
        guard identifier == TFLiteSchema.fileIdentifier else {
            let printable = identifier.allSatisfy { $0 >= 0x20 && $0 < 0x7f }
            let shown = printable
                ? "'\(String(decoding: identifier, as: UTF8.self))'"
                : identifier.map { byte in
                    let hex = String(byte, radix: 16)
                    return "0x" + (hex.count < 2 ? "0" + hex : hex)
                }.joined(separator: " ")
            throw reader.malformed("not a TFLite flatbuffer: bytes 4..8 are \(shown), expected the file identifier 'TFL3'")
        }
    }

    private static func operatorCode(_ table: FlatBufferTable) throws -> TFLiteRawOperatorCode {
        typealias C = TFLiteSchema.OperatorCode
        let deprecated = Int(try table.int8(C.deprecatedBuiltinCode, "deprecated_builtin_code"))
        let extended = Int(try table.int32(C.builtinCode, "builtin_code"))
        return TFLiteRawOperatorCode(builtinCode: max(deprecated, extended),
                                     customCode: try table.string(C.customCode, "custom_code"))
    }

    private static func subgraph(_ table: FlatBufferTable) throws -> TFLiteRawSubgraph {
        typealias S = TFLiteSchema.SubGraph
        var tensors: [TFLiteRawTensor] = []
        if let vector = try table.vector(S.tensors, "tensors", elementSize: 4) {
            tensors.reserveCapacity(vector.count)
            for i in 0..<vector.count {
                tensors.append(try tensor(vector.table(i, context: "subgraph 0, tensor \(i)")))
            }
        }
        var operators: [TFLiteRawOperator] = []
        if let vector = try table.vector(S.operators, "operators", elementSize: 4) {
            operators.reserveCapacity(vector.count)
            for i in 0..<vector.count {
                operators.append(try operatorEntry(vector.table(i, context: "subgraph 0, operator \(i)")))
            }
        }
        return TFLiteRawSubgraph(name: try table.string(S.name, "name") ?? "",
                                 tensors: tensors,
                                 inputs: try table.int32Vector(S.inputs, "inputs") ?? [],
                                 outputs: try table.int32Vector(S.outputs, "outputs") ?? [],
                                 operators: operators)
    }

    /// A tensor's shape is read only when its rank is plausible, so one corrupt length cannot
    /// make every tensor decode a huge vector.
    static let maxRank = 16

    private static func tensor(_ table: FlatBufferTable) throws -> TFLiteRawTensor {
        typealias T = TFLiteSchema.Tensor
        let name = try table.string(T.name, "name") ?? ""
        var shape: [Int32] = []
        if let vector = try table.vector(T.shape, "shape", elementSize: 4) {
            guard vector.count <= maxRank else {
                throw MicrogenError(.unsupported, "\(table.reader.fileName): \(table.context) '\(name)' has rank \(vector.count); microgen accepts at most \(maxRank) dimensions")
            }
            shape = try vector.int32s()
        }
        var quantization: TFLiteRawQuantization?
        if let q = try table.table(T.quantization, "quantization") {
            quantization = try self.quantization(q)
        }
        return TFLiteRawTensor(name: name,
                               typeCode: try table.int8(T.type, "type"),
                               shape: shape,
                               bufferIndex: try table.uint32(T.buffer, "buffer"),
                               quantization: quantization,
                               isSparse: try table.has(T.sparsity))
    }

    /// Float tensors often carry an empty quantization table: no scales means not quantized.
    private static func quantization(_ table: FlatBufferTable) throws -> TFLiteRawQuantization? {
        typealias Q = TFLiteSchema.QuantizationParameters
        let scales = try table.float32Vector(Q.scale, "scale") ?? []
        if scales.isEmpty { return nil }
        return TFLiteRawQuantization(scales: scales,
                                     zeroPoints: try table.int64Vector(Q.zeroPoint, "zero_point") ?? [],
                                     quantizedDimension: try table.int32(Q.quantizedDimension, "quantized_dimension"))
    }

    private static func operatorEntry(_ table: FlatBufferTable) throws -> TFLiteRawOperator {
        typealias O = TFLiteSchema.Operator
        let options = try table.union(typeId: O.builtinOptionsType, "builtin_options")
        return TFLiteRawOperator(opcodeIndex: try table.uint32(O.opcodeIndex, "opcode_index"),
                                 inputs: try table.int32Vector(O.inputs, "inputs") ?? [],
                                 outputs: try table.int32Vector(O.outputs, "outputs") ?? [],
                                 optionsType: options.type,
                                 options: options.table)
    }
}

/// The model's buffers, read on demand (and once each: tensors may share a buffer).
final class TFLiteBuffers {
    let reader: FlatBufferReader
    let vector: FlatBufferVector?
    private var cache: [Int: [UInt8]] = [:]

    init(reader: FlatBufferReader, vector: FlatBufferVector?) {
        self.reader = reader
        self.vector = vector
    }

    var count: Int { vector?.count ?? 0 }

    /// Checks that every buffer's data lies inside the file, also those no tensor uses
    /// (metadata), so a truncated file is refused wherever it was cut.
    func checkAllInFile() throws {
        for index in 0..<count { _ = try location(index) }
    }

    /// Where buffer `index`'s bytes are in the file (an empty range when it holds none).
    /// Large models keep data after the flatbuffer: an `offset` above 1 places it at
    /// [offset, offset + size) from the start of the file.
    private func location(_ index: Int) throws -> Range<Int> {
        guard let vector else { return 0..<0 }
        let table = try vector.table(index, context: "buffer \(index)")
        typealias B = TFLiteSchema.Buffer
        if let data = try table.vector(B.data, "data", elementSize: 1), data.count > 0 {
            return data.start..<(data.start + data.count)
        }
        let offset = try table.uint64(B.offset, "offset")
        let size = try table.uint64(B.size, "size")
        guard offset > 1 else { return 0..<0 }
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow, end <= UInt64(reader.count) else {
            throw reader.malformed("buffer \(index) points at bytes \(offset)..<\(offset &+ size) outside the file (\(reader.count) bytes); the file is truncated or corrupt")
        }
        return Int(offset)..<Int(end)
    }

    /// The bytes of buffer `index` (which the caller has checked is in range); empty when the
    /// buffer holds no data.
    func data(_ index: Int) throws -> [UInt8] {
        if let cached = cache[index] { return cached }
        let range = try location(index)
        try reader.charge(range.count, "buffer \(index)")
        let bytes = Array(reader.bytes[range])
        cache[index] = bytes
        return bytes
    }
}

import Foundation
import MicrogenIR

/// Imports a TFLite (schema v3) flatbuffer: the main subgraph becomes a `Graph`, after every
/// index, length and type in the file has been checked.
public enum TFLiteImporter {
    /// Reads a .tflite file and builds the graph of its first subgraph.
    public static func load(path: String) throws -> Graph {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MicrogenError(.io, "model file '\(path)' does not exist")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw MicrogenError(.io, "cannot read model file '\(path)'")
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try importModel(bytes: [UInt8](data), name: name)
    }

    /// Builds the graph from the bytes of a .tflite file; `name` names the model in messages.
    public static func importModel(bytes: [UInt8], name: String) throws -> Graph {
        let reader = FlatBufferReader(bytes: bytes, fileName: name)
        let raw = try TFLiteModelDecoder.decode(reader)
        return try TFLiteGraphBuilder(raw: raw, fileName: name).build()
    }
}

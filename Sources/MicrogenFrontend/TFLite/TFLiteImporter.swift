import MicrogenIR

// PLACEHOLDER: to be replaced by the real importer.
public enum TFLiteImporter {
    /// Reads a .tflite file and builds the graph of its first subgraph.
    public static func load(path: String) throws -> Graph {
        throw MicrogenError(.unsupported, "TFLite import is not implemented yet")
    }
    /// Builds the graph from the bytes of a .tflite file; `name` names the model in messages.
    public static func importModel(bytes: [UInt8], name: String) throws -> Graph {
        throw MicrogenError(.unsupported, "TFLite import is not implemented yet")
    }
}

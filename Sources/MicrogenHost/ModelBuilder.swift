import Foundation
import MicrogenIR
import MicrogenProject
import MicrogenFrontend
import MicrogenCodegen

/// From a model file to generated C on disk: the steps `build`, `run` and `inspect` share.
public enum ModelBuilder {
    public static func load(path: String) throws -> Graph {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MicrogenError(.io, "model file \(path) does not exist")
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".onnx") {
            throw MicrogenError(.unsupported, "\(path): ONNX models are not supported yet; convert to .tflite")
        }
        return try TFLiteImporter.load(path: path)
    }

    /// `name` is checked by `ModelName` (without it, the name comes from the file name).
    public static func compile(path: String, name: String? = nil, keepInputs: Bool = false) throws -> CompiledModel {
        let graph = try load(path: path)
        let options = CompileOptions(name: try ModelName.resolve(explicit: name, modelPath: path),
                                     kernelsDirectory: try Resources.kernelsDirectory(), keepInputs: keepInputs)
        return try ModelCompiler.compile(graph, options: options)
    }

    /// Writes every generated file into `directory` (created if needed).
    public static func write(_ model: CompiledModel, to directory: String) throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for file in model.files {
                try file.contents.write(toFile: directory + "/" + file.name, atomically: true, encoding: .utf8)
            }
        } catch {
            throw MicrogenError(.io, "cannot write to \(directory): \(error.localizedDescription)")
        }
    }
}

import Foundation
import MicrogenIR
import MicrogenCodegen

/// A compiled model built, with the RPC runtime and the host port, into a native program that
/// speaks the RPC protocol (docs/protocol.md) on its stdin/stdout: the firmware of the "host"
/// board, so the driver and the runtime can be tested without a microcontroller.
public struct HostFirmware: Sendable {
    public let directory: String
    public let executable: String

    /// The runtime files every firmware carries, from `templates/runtime`.
    public static let runtimeFiles = ["mg_rpc.c", "mg_rpc.h", "mg_port.h"]

    /// The context `templates/project/main.c.mustache` renders with.
    public static func mainContext(for model: CompiledModel) -> [String: Any] {
        [
            "name": model.name,
            "NAME": model.name.uppercased(),
            "inputs": model.graph.inputs.indices.map { ["index": $0] },
            "outputs": model.graph.outputs.indices.map { ["index": $0] },
        ]
    }

    /// Writes the model's C, the runtime, the host port and main.c into `directory` and compiles
    /// them with `$CC` (default `cc`) and `-DMG_PROFILE`. With `sanitize`, the program is built
    /// with AddressSanitizer and UndefinedBehaviorSanitizer and stops at the first finding.
    public static func build(_ model: CompiledModel, in directory: String, sanitize: Bool = false) throws -> HostFirmware {
        let home = try Resources.home()
        let templates = home + "/templates"
        var sources: [(name: String, contents: String)] = model.files
        for file in runtimeFiles {
            sources.append((file, try readTemplate(templates + "/runtime/" + file)))
        }
        sources.append(("mg_port_host.c", try readTemplate(templates + "/ports/host/mg_port_host.c")))
        let main = try TemplateRenderer(directory: templates).render("project/main.c.mustache", mainContext(for: model))
        sources.append(("main.c", main))
        try ProjectEmitter.requireDistinctNames(sources)

        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for file in sources {
                try file.contents.write(toFile: directory + "/" + file.name, atomically: true, encoding: .utf8)
            }
        } catch {
            throw MicrogenError(.io, "cannot write the host firmware to \(directory): \(error.localizedDescription)")
        }

        let executable = directory + "/\(model.name)_rpc"
        let compiler = ProcessInfo.processInfo.environment["CC"] ?? "cc"
        var arguments = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-DMG_PROFILE"]
        arguments += sanitize ? ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1"] : ["-O2"]
        arguments += ["-I", directory]
        arguments += ["\(model.name).c", "mg_rpc.c", "mg_port_host.c", "main.c"].map { directory + "/" + $0 }
        arguments += ["-o", executable, "-lm"]
        let result = try runProcess(compiler, arguments)
        guard result.status == 0 else {
            throw MicrogenError(.toolchain, "\(compiler) failed to build the host firmware for \(model.name) (in \(directory)):\n\(result.standardError.prefix(4000))")
        }
        return HostFirmware(directory: directory, executable: executable)
    }

    private static func readTemplate(_ path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MicrogenError(.io, "runtime file \(path) not found (set MICROGEN_HOME to the microgen source tree)")
        }
        return text
    }
}

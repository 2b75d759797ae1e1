import Foundation
import MicrogenIR

/// Finds microgen's `templates/` and `boards/` from any working directory: `$MICROGEN_HOME`
/// first, then the directories above the running executable, then the source tree this
/// binary was built from.
public enum Resources {
    public static func home() throws -> String {
        let fm = FileManager.default
        func isHome(_ dir: String) -> Bool { fm.fileExists(atPath: dir + "/templates/runtime/kernels/mg_common.h") }
        if let env = ProcessInfo.processInfo.environment["MICROGEN_HOME"] {
            guard isHome(env) else {
                throw MicrogenError(.io, "MICROGEN_HOME=\(env) does not contain templates/runtime/kernels")
            }
            return env
        }
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        var dir = executable.deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir)
            candidates.append(dir.appendingPathComponent("share/microgen"))
            dir = dir.deletingLastPathComponent()
        }
        // Sources/MicrogenHost/Resources.swift → the package root.
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())
        for candidate in candidates where isHome(candidate.path) { return candidate.path }
        throw MicrogenError(.io, "cannot find microgen's templates/ directory; set MICROGEN_HOME to the microgen source tree")
    }

    public static func kernelsDirectory() throws -> String { try home() + "/templates/runtime/kernels" }

    /// `templates/`: the project, port and runtime templates.
    public static func templatesDirectory() throws -> String { try home() + "/templates" }

    /// Board descriptions: `$MICROGEN_BOARDS` when set, else `boards/` next to `templates/`.
    public static func boardsDirectory() throws -> String {
        if let env = ProcessInfo.processInfo.environment["MICROGEN_BOARDS"], !env.isEmpty { return env }
        return try home() + "/boards"
    }
}

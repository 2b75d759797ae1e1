import Foundation
import MicrogenIR
import MicrogenProject

/// The model's C name. It becomes file names (`<name>.c`, `<name>.h`), the `mg_<name>_` symbols
/// and `MG_<NAME>_` macros (the header guard among them), a Makefile value and the name the
/// firmware reports, so it must be a C identifier, short enough for a file name, and must not be
/// the name of a file microgen writes beside it: `--name mg_rpc` would overwrite the runtime.
public enum ModelName {
    /// The longest model name, in characters.
    public static let maxLength = 64

    /// `explicit` (from --name) checked, or else a name derived from the model's file name.
    public static func resolve(explicit: String?, modelPath: String) throws -> String {
        let reserved = try reservedNames()
        if let explicit { return try validated(explicit, reserved: reserved) }
        return derived(fromFileName: URL(fileURLWithPath: modelPath).deletingPathExtension().lastPathComponent, reserved: reserved)
    }

    /// An explicit name as given (lower case), or an error saying what is wrong with it.
    public static func validated(_ name: String, reserved: [String: String]) throws -> String {
        let lower = name.lowercased()
        guard UntrustedText.cIdentifier(lower) == lower else {
            throw MicrogenError(.invalidArgument, "the model name '\(UntrustedText.terminal(name, limit: 80))' is not a C name: "
                + "use letters, digits and single underscores, starting with a letter (it names <name>.c, <name>.h and the mg_<name>_ symbols)")
        }
        guard lower.count <= maxLength else {
            throw MicrogenError(.invalidArgument, "the model name '\(lower.prefix(20))...' has \(lower.count) characters; at most \(maxLength) are allowed")
        }
        if let file = reserved[lower] {
            throw MicrogenError(.invalidArgument, "the model name '\(lower)' clashes with microgen's own \(file) (its files or symbols would collide); choose another name")
        }
        return lower
    }

    /// A C name from a model's file name: as an identifier, cut to `maxLength`, and with "model_"
    /// in front when it is reserved ("main.tflite" is model "model_main"), so it is always usable.
    public static func derived(fromFileName fileName: String, reserved: [String: String]) -> String {
        var name = String(UntrustedText.cIdentifier(fileName).prefix(maxLength))
        while name.hasSuffix("_") { name.removeLast() }
        if reserved[name] != nil { name = "model_" + name.prefix(maxLength - "model_".count) }
        return name
    }

    /// Every name that would clash, with the file it clashes with: the stem of every runtime,
    /// kernel, port and project template file (`mg_rpc` from mg_rpc.c, `main` from main.c.mustache)
    /// and of the host harness, and the stem without its "mg_" (a model `rpc` would have the symbol
    /// prefix `mg_rpc_` and the header guard `MG_RPC_H` of mg_rpc.h).
    public static func reservedNames() throws -> [String: String] {
        let templates = try Resources.templatesDirectory()
        guard let enumerator = FileManager.default.enumerator(atPath: templates) else {
            throw MicrogenError(.io, "cannot list the templates in \(templates)")
        }
        let files = enumerator.compactMap { $0 as? String }.map { ($0 as NSString).lastPathComponent }
        return reservedNames(fileNames: files + [HostProgram.harnessFileName])
    }

    static func reservedNames(fileNames: [String]) -> [String: String] {
        var reserved: [String: String] = [:]
        for file in fileNames.sorted() {
            guard let stem = file.split(separator: ".", omittingEmptySubsequences: false).first, !stem.isEmpty else { continue }
            let lower = stem.lowercased()
            if lower == "mg_" { continue }
            if reserved[lower] == nil { reserved[lower] = file }
            if lower.hasPrefix("mg_"), reserved[String(lower.dropFirst(3))] == nil { reserved[String(lower.dropFirst(3))] = file }
        }
        return reserved
    }
}

import Foundation
import Mustache
import MicrogenIR

/// Renders the Mustache templates under `templates/` (files ending in `.mustache`). Templates
/// produce C, Makefiles and linker scripts, so nothing is HTML-escaped.
public struct TemplateRenderer: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// Renders `directory/<name>` (e.g. "project/Makefile.mustache") with `context`: a dictionary
    /// of strings, numbers, booleans, arrays and nested dictionaries.
    public func render(_ name: String, _ context: [String: Any]) throws -> String {
        let path = directory + "/" + name
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MicrogenError(.io, "template \(name) not found in \(directory)")
        }
        return try Self.render(text: text, context, name: name)
    }

    public static func render(text: String, _ context: [String: Any], name: String = "template") throws -> String {
        do {
            let template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
            return template.render(context)
        } catch {
            throw MicrogenError(.invalidArgument, "template \(name) does not parse: \(error)")
        }
    }
}

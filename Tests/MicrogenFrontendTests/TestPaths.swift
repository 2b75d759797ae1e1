import Foundation

/// Where test data lives, found from this file's own path so tests run from any directory.
enum TestPaths {
    /// The repository root: this file is <repo>/Tests/MicrogenFrontendTests/TestPaths.swift.
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared reference data: `$MICROGEN_SHARED` if set, else `<repo>/../shared`.
    static let shared: URL = {
        if let override = ProcessInfo.processInfo.environment["MICROGEN_SHARED"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    static let models = shared.appendingPathComponent("models")
    static let badFixtures = repoRoot.appendingPathComponent("Tests/Fixtures/bad")

    static func model(_ name: String) -> URL { models.appendingPathComponent("\(name).tflite") }
    static func manifest(_ name: String) -> URL {
        models.appendingPathComponent("vectors").appendingPathComponent(name).appendingPathComponent("manifest.json")
    }

    static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}

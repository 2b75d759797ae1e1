import Foundation

/// Where test data lives, found from this file's own path so tests run from any directory.
enum TestPaths {
    /// The repository root: this file is <repo>/Tests/MicrogenFrontendTests/TestPaths.swift.
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The MLPerf Tiny models and their vectors (models/mlperf/README.md).
    static let models = repoRoot.appendingPathComponent("models/mlperf")
    static let badFixtures = repoRoot.appendingPathComponent("Tests/Fixtures/bad")

    static func model(_ name: String) -> URL { models.appendingPathComponent("\(name).tflite") }
    static func manifest(_ name: String) -> URL {
        models.appendingPathComponent("vectors").appendingPathComponent(name).appendingPathComponent("manifest.json")
    }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}

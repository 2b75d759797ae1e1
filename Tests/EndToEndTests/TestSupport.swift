import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenHost
@testable import MicrogenProject

/// Paths the end-to-end tests read, all inside the repository (found from this file's location,
/// so tests run from any directory).
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    /// The MLPerf Tiny models and their vectors (models/mlperf/README.md).
    static let models = repository + "/models/mlperf"
    static let fixtures = repository + "/Tests/Fixtures"

    static func temporaryDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("microgen-test-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Compiles a model to a host program in a temporary directory; the caller removes `directory`.
func buildHostProgram(model path: String, traces: Bool = false) throws -> (program: HostProgram, directory: String) {
    let compiled = try ModelBuilder.compile(path: path)
    let directory = try TestPaths.temporaryDirectory(compiled.name)
    return (try HostProgram.build(compiled, in: directory, traces: traces), directory)
}

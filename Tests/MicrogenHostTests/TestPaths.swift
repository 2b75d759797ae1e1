import Foundation

/// Where the host tests' data lives, found from this file's own path so tests run from any directory.
enum TestPaths {
    /// The MLPerf Tiny models and their vectors (models/mlperf/README.md).
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/models/mlperf"
}

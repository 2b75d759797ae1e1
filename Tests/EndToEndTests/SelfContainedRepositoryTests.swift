import Foundation
import XCTest

/// A clone tests itself: nothing the repository runs or documents reaches outside it for data
/// (the models live in models/mlperf), so a fresh clone with no sibling folders passes.
final class SelfContainedRepositoryTests: XCTestCase {
    static let checkedFolders = ["Sources", "Tests", "scripts", "tools", "docs", ".ci"]
    static let checkedFiles = ["README.md", "Package.swift"]
    /// Model and tensor files (binary) are not read.
    static let dataExtensions = [".tflite", ".npy"]
    /// Spelt in pieces so this file does not match itself.
    static let outsidePaths = [".." + "/shared", "/" + "work/"]

    func testNoSourceScriptOrDocumentNamesAPathOutsideTheRepository() throws {
        let root = TestPaths.repository
        var files = Self.checkedFiles.map { root + "/" + $0 }
        for folder in Self.checkedFolders {
            let enumerator = try XCTUnwrap(FileManager.default.enumerator(atPath: root + "/" + folder), folder)
            for case let path as String in enumerator where !Self.dataExtensions.contains(where: { path.hasSuffix($0) }) {
                files.append(root + "/" + folder + "/" + path)
            }
        }
        var offenders: [String] = []
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }  // folders and binary files
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where Self.outsidePaths.contains(where: { line.contains($0) }) {
                offenders.append("\(file.dropFirst(root.count + 1)):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        XCTAssertGreaterThan(files.count, 100, "the walk found the repository's files")
        XCTAssertEqual(offenders, [], "paths outside the repository:\n" + offenders.joined(separator: "\n"))
    }

    /// Every MLPerf Tiny model the tests and `microgen bench` use is here, with its vectors and
    /// the licence notice it is redistributed under.
    func testTheReferenceModelsAndTheirNoticeAreInTheRepository() throws {
        let models = TestPaths.models
        for file in ["LICENSE", "NOTICE", "README.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: models + "/" + file), file)
        }
        for name in ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8",
                     "kws_ref_model_float32", "vww_96_float", "pretrainedResnet", "ad01_fp32"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: models + "/\(name).tflite"), name)
            XCTAssertTrue(FileManager.default.fileExists(atPath: models + "/vectors/\(name)/manifest.json"), name)
        }
    }
}

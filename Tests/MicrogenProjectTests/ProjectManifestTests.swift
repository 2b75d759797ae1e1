import Foundation
import XCTest
import MicrogenIR
import MicrogenHost
@testable import MicrogenProject

/// Emitting again into a directory removes the files microgen wrote there before and no longer
/// writes, going by the directory's `.microgen-files`: a list anyone could have written.
final class ProjectManifestTests: XCTestCase {
    func testTheManifestNeverRemovesDirectoriesOrAnythingOutside() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let model = try ModelBuilder.compile(path: repository + "/Tests/Fixtures/ops/conv_2d/int8_same_stride1_relu/model.tflite")
        let scratch = try ProjectTestSupport.scratchDirectory("manifest")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let output = scratch + "/project", fm = FileManager.default
        try fm.createDirectory(atPath: output + "/subdir", withIntermediateDirectories: true)
        for file in [scratch + "/sibling.txt", output + "/subdir/keep.txt", output + "/stale.c"] {
            XCTAssertTrue(fm.createFile(atPath: file, contents: Data("x".utf8)))
        }
        try "..\n.\nsubdir\nstale.c\n".write(toFile: output + "/" + ProjectEmitter.manifestName, atomically: true, encoding: .utf8)

        _ = try ProjectEmitter.emit(model: model, board: try BoardCatalog.named("cortex-m3"), to: output)
        XCTAssertFalse(fm.fileExists(atPath: output + "/stale.c"), "a file it lists and no longer writes goes")
        XCTAssertTrue(fm.fileExists(atPath: output + "/subdir/keep.txt"), "a directory stays")
        XCTAssertTrue(fm.fileExists(atPath: scratch + "/sibling.txt"), "the parent stays")
        XCTAssertTrue(fm.fileExists(atPath: output + "/Makefile"))
    }
}

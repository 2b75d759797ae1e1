import Foundation
import XCTest
@testable import MicrogenHost
@testable import MicrogenProject

/// Issue 10: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MEAN and QUANTIZE with multipliers
/// far below 2^-32, near 2^23 and near 2^80 (Tests/Fixtures/extreme_scales, made by
/// tools/refgen/make_extreme_scale_fixtures.py). The generated C runs under UBSan with
/// -fno-sanitize-recover=all, so any undefined shift or overflow aborts the run, and matches
/// TFLM bit for bit wherever TFLM's result is defined (those fixtures carry output0.npy).
final class ExtremeScaleFixtureTests: XCTestCase {
    static let sanitizer = ["-fsanitize=undefined", "-fno-sanitize-recover=all"]

    func testExtremeRequantizationRunsCleanAndMatchesTFLM() throws {
        let root = TestPaths.fixtures + "/extreme_scales"
        var ran = 0, compared = 0
        var failures: [String] = []
        for op in try FileManager.default.contentsOfDirectory(atPath: root).sorted() {
            for variant in try FileManager.default.contentsOfDirectory(atPath: root + "/" + op).sorted() {
                let path = "\(root)/\(op)/\(variant)"
                do {
                    let compiled = try ModelBuilder.compile(path: path + "/model.tflite")
                    let directory = try TestPaths.temporaryDirectory(compiled.name)
                    defer { try? FileManager.default.removeItem(atPath: directory) }
                    let program = try HostProgram.build(compiled, in: directory, extraFlags: Self.sanitizer)
                    let outputs = try program.run([try Npy.read(path: path + "/input0.npy")])
                    ran += 1
                    guard FileManager.default.fileExists(atPath: path + "/output0.npy") else { continue }
                    let comparison = try OutputComparison(actual: outputs[0], expected: try Npy.read(path: path + "/output0.npy"))
                    compared += 1
                    if !comparison.passed { failures.append("\(op)/\(variant): \(comparison.summary)") }
                } catch {
                    failures.append("\(op)/\(variant): \(error)")
                }
            }
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
        XCTAssertEqual(ran, 17)
        XCTAssertEqual(compared, 12)
    }
}

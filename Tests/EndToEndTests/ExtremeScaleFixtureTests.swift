import Foundation
import XCTest
@testable import MicrogenHost
@testable import MicrogenProject

/// Issue 10: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MEAN and QUANTIZE with multipliers
/// far below 2^-32, near 2^23 and near 2^80 (Tests/Fixtures/extreme_scales, made by
/// tools/refgen/make_extreme_scale_fixtures.py). The generated C runs under UBSan with
/// -fno-sanitize-recover=all, so any undefined shift or overflow aborts the run, and matches
/// TFLM bit for bit wherever TFLM's result is defined (those fixtures carry output0.npy), on
/// the portable path and on the DSP-emulated one (-DMG_USE_DSP=1).
final class ExtremeScaleFixtureTests: XCTestCase {
    static let sanitizer = ["-fsanitize=undefined", "-fno-sanitize-recover=all"]
    static let paths: [(name: String, flags: [String])] = [("portable", []), ("DSP-emulated", ["-DMG_USE_DSP=1"])]

    func testExtremeRequantizationRunsCleanAndMatchesTFLM() throws {
        let root = TestPaths.fixtures + "/extreme_scales"
        var ran = 0, compared = 0
        var failures: [String] = []
        for op in try FileManager.default.contentsOfDirectory(atPath: root).sorted() where op != "refused" {
            for variant in try FileManager.default.contentsOfDirectory(atPath: root + "/" + op).sorted() {
                for kernelPath in Self.paths {
                    do {
                        let matched = try run("\(root)/\(op)/\(variant)", flags: Self.sanitizer + kernelPath.flags)
                        ran += 1
                        guard let matched else { continue }
                        compared += 1
                        if let problem = matched { failures.append("\(op)/\(variant) (\(kernelPath.name)): \(problem)") }
                    } catch {
                        failures.append("\(op)/\(variant) (\(kernelPath.name)): \(error)")
                    }
                }
            }
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
        XCTAssertEqual(ran, 2 * 17)
        XCTAssertEqual(compared, 2 * 12)
    }

    /// Builds and runs one fixture. nil: no TFLM reference to compare with; .some(nil): equal
    /// to TFLM's output; .some(text): how it differs.
    private func run(_ path: String, flags: [String]) throws -> String?? {
        let compiled = try ModelBuilder.compile(path: path + "/model.tflite")
        let directory = try TestPaths.temporaryDirectory(compiled.name)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let program = try HostProgram.build(compiled, in: directory, extraFlags: flags)
        let outputs = try program.run([try Npy.read(path: path + "/input0.npy")])
        guard FileManager.default.fileExists(atPath: path + "/output0.npy") else { return nil }
        let comparison = try OutputComparison(actual: outputs[0], expected: try Npy.read(path: path + "/output0.npy"))
        return .some(comparison.passed ? nil : comparison.summary)
    }

    /// Non-finite scales and options: `inspect` and `build` both refuse at import with one line
    /// naming the tensor or operator, and `build` writes nothing (an infinite bias scale used to
    /// pass `inspect` and fail `build` after the C files were written).
    func testNonFiniteScalesAndOptionsAreRefusedBeforeAnythingIsWritten() throws {
        let root = TestPaths.fixtures + "/extreme_scales/refused"
        let scratch = try TestPaths.temporaryDirectory("refused")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let models = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasSuffix(".tflite") }.sorted()
        XCTAssertEqual(models.count, 4)
        for model in models {
            let name = String(model.dropLast(".tflite".count))
            let fragment = try String(contentsOfFile: "\(root)/\(name).txt", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let output = "\(scratch)/\(name)"
            for arguments in [["inspect", "\(root)/\(model)"], ["build", "\(root)/\(model)", "--output", output]] {
                let result = try runProcess(GeneratedCodeTests.microgen, arguments)
                XCTAssertEqual(result.status, 1, "\(arguments): \(result.standardError)")
                XCTAssertTrue(result.standardError.hasPrefix("microgen: malformed model: "), result.standardError)
                XCTAssertTrue(result.standardError.contains(fragment), "'\(fragment)' not in: \(result.standardError)")
                XCTAssertEqual(result.standardError.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, result.standardError)
            }
            let written = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
            XCTAssertEqual(written, [], "build wrote files for \(model)")
        }
    }
}

import Foundation
import XCTest
@testable import MicrogenHost
@testable import MicrogenProject

/// The memory report: `--memory-chart` draws the plan the compiler made, and report.json carries
/// the arena, weights and (after a board build) code, flash and RAM figures.
final class MemoryReportTests: XCTestCase {
    private func microgen(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(GeneratedCodeTests.microgen, arguments)
    }

    /// Every `<tag class="cls..." ...>` element's attributes, in file order.
    private func elements(_ tag: String, class cls: String, in svg: String) -> [[String: String]] {
        var found: [[String: String]] = []
        var rest = svg[...]
        while let start = rest.range(of: "<\(tag) class=\"\(cls)") {
            let end = rest[start.lowerBound...].firstIndex(of: ">") ?? rest.endIndex
            var attributes: [String: String] = [:]
            var text = rest[start.lowerBound..<end].dropFirst(tag.count + 1)
            while let eq = text.range(of: "=\"") {
                let name = text[..<eq.lowerBound].trimmingCharacters(in: .whitespaces)
                let valueEnd = text[eq.upperBound...].firstIndex(of: "\"") ?? text.endIndex
                attributes[name] = String(text[eq.upperBound..<valueEnd])
                text = text[text.index(after: valueEnd)...]
            }
            found.append(attributes)
            rest = rest[end...]
        }
        return found
    }

    private func number(_ attributes: [String: String], _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        try XCTUnwrap(attributes[name].flatMap(Double.init), "no numeric \(name) in \(attributes)", file: file, line: line)
    }

    private func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func testChartDrawsEveryPlannedBufferAtItsOffsetAndMarksThePeak() throws {
        let scratch = try TestPaths.temporaryDirectory("memory-chart")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let model = TestPaths.models + "/kws_ref_model.tflite"
        let result = try microgen(["build", model, "--emit", "library", "--output", scratch + "/kws", "--memory-chart", scratch + "/kws.svg"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let svg = try String(contentsOfFile: scratch + "/kws.svg", encoding: .utf8)
        let report = try json(scratch + "/kws/report.json")

        // The plan as the compiler makes it, in this process: the chart must show exactly it.
        let compiled = try ModelBuilder.compile(path: model)
        let plan = compiled.plan
        XCTAssertEqual(report["arena_bytes"] as? Int, plan.arenaSize)
        let boxes = elements("rect", class: "buffer", in: svg)
        XCTAssertEqual(boxes.count, plan.offsets.count, "one box per planned buffer")
        XCTAssertEqual(Set(try boxes.map { Int(try number($0, "data-buffer")) }), Set(plan.offsets.keys))

        // Pixels per byte from the chart's own axis: the baseline is byte 0, the arena line the arena size.
        let baseline = try number(try XCTUnwrap(elements("line", class: "baseline", in: svg).first), "y1")
        let arenaLine = try XCTUnwrap(elements("line", class: "bound", in: svg).first { ($0["class"] ?? "").contains("arena") })
        XCTAssertEqual(try number(arenaLine, "data-bytes"), Double(plan.arenaSize))
        let scale = (baseline - (try number(arenaLine, "y1"))) / Double(plan.arenaSize)
        XCTAssertGreaterThan(scale, 0)

        let tensorCount = compiled.graph.tensors.count
        var stepWidths: Set<Double> = []
        for box in boxes {
            let id = Int(try number(box, "data-buffer"))
            let offset = try XCTUnwrap(plan.offsets[id])
            // A buffer is a tensor (id = its first tensor) or an operator's scratch (id past the tensors).
            let size = id < tensorCount ? max(compiled.graph.tensors[id].byteCount, 1) : compiled.operators[id - tensorCount].scratchBytes
            XCTAssertEqual(Int(try number(box, "data-offset")), offset, "buffer \(id)")
            XCTAssertEqual(Int(try number(box, "data-bytes")), size, "buffer \(id)")
            XCTAssertEqual(try number(box, "y"), baseline - Double(offset + size) * scale, accuracy: 0.02, "buffer \(id) top")
            XCTAssertEqual(try number(box, "height"), Double(size) * scale, accuracy: 0.02, "buffer \(id) height")
            let steps = try number(box, "data-last-use") - (try number(box, "data-first-use")) + 1
            stepWidths.insert(try number(box, "width") / steps)
        }
        XCTAssertEqual(stepWidths.count, 1, "every operator step is equally wide: \(stepWidths)")

        // Lifetimes: every operator's activations lie in a box alive at that operator.
        let operators = try XCTUnwrap(report["operators"] as? [[String: Any]])
        for op in operators {
            let step = try XCTUnwrap(op["index"] as? Int)
            let tensors = (op["inputs"] as? [[String: Any]] ?? []) + (op["outputs"] as? [[String: Any]] ?? [])
            for tensor in tensors {
                guard let address = tensor["arena_offset"] as? Int else { continue }
                let holder = try boxes.first { box in
                    let offset = try number(box, "data-offset"), bytes = try number(box, "data-bytes")
                    return try number(box, "data-first-use") <= Double(step) && Double(step) <= (try number(box, "data-last-use"))
                        && offset <= Double(address) && Double(address) < offset + bytes
                }
                XCTAssertNotNil(holder, "operator \(step): tensor \(tensor["tensor"] ?? "?") at \(address) is in no live box")
            }
        }

        // The peak: the step(s) where the live buffers of report.json add up to the most bytes.
        let buffers = try XCTUnwrap(report["buffers"] as? [[String: Any]])
        XCTAssertEqual(buffers.count, plan.offsets.count)
        let live = operators.indices.map { step in
            buffers.reduce(0) { sum, buffer in
                let first = buffer["first_use"] as? Int ?? -1, last = buffer["last_use"] as? Int ?? -1
                return sum + (first <= step && step <= last ? buffer["bytes"] as? Int ?? 0 : 0)
            }
        }
        let peak = try XCTUnwrap(live.max())
        let peakSteps = live.indices.filter { live[$0] == peak }
        XCTAssertFalse(peakSteps.isEmpty)
        XCTAssertEqual(try elements("rect", class: "peak", in: svg).map { Int(try number($0, "data-step")) }, peakSteps)
        let kind = try XCTUnwrap(operators[peakSteps[0]]["kind"] as? String)
        XCTAssertTrue(svg.contains("peak \(grouped(peak)) bytes at operator \(peakSteps[0]) (\(kind))"), "no peak text for \(peak) at \(peakSteps)")

        // Another process, the same bytes.
        let again = try microgen(["inspect", model, "--memory-chart", scratch + "/again.svg"])
        XCTAssertEqual(again.status, 0, again.standardError)
        XCTAssertEqual(FileManager.default.contents(atPath: scratch + "/kws.svg"), FileManager.default.contents(atPath: scratch + "/again.svg"))
    }

    func testHTMLChartHoldsThePictureAndATableOfBuffers() throws {
        let scratch = try TestPaths.temporaryDirectory("memory-html")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let model = TestPaths.models + "/ad01_int8.tflite"
        let result = try microgen(["inspect", model, "--memory-chart", scratch + "/ad01.html"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let html = try String(contentsOfFile: scratch + "/ad01.html", encoding: .utf8)
        let compiled = try ModelBuilder.compile(path: model)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(elements("rect", class: "buffer", in: html).count, compiled.plan.offsets.count)
        XCTAssertTrue(html.contains("<table>"))
        // The buffer table: a header row and one row per buffer, after the picture.
        let table = try XCTUnwrap(html.components(separatedBy: "<h3>Buffers</h3>").last)
        XCTAssertEqual(table.components(separatedBy: "<tr>").count - 2, compiled.plan.offsets.count)
        // inspect's memory table names the planner and its bounds.
        for phrase in ["arena lower bound", "planned lower bound", compiled.plan.algorithm.rawValue, "weights and constants"] {
            XCTAssertTrue(result.standardOutput.contains(phrase), "'\(phrase)' not in inspect's output")
        }
    }

    func testOtherChartExtensionsAreRefused() throws {
        let scratch = try TestPaths.temporaryDirectory("memory-png")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let model = TestPaths.models + "/ad01_int8.tflite"
        for arguments in [["inspect", model], ["build", model, "--output", scratch + "/out"]] {
            let result = try microgen(arguments + ["--memory-chart", scratch + "/x.png"])
            XCTAssertNotEqual(result.status, 0, "\(arguments[0]) accepted x.png")
            XCTAssertTrue(result.standardError.contains(".svg") && result.standardError.contains(".html"), result.standardError)
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/x.png"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/out"), "build did work before refusing")
        }
    }

    func testBoardBuildReportsCodeFlashAndRAM() throws {
        let scratch = try TestPaths.temporaryDirectory("memory-board")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let model = TestPaths.models + "/ad01_int8.tflite"
        let result = try microgen(["build", model, "--board", "cortex-m7", "--output", scratch + "/m7"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let report = try json(scratch + "/m7/report.json")
        let compiled = try ModelBuilder.compile(path: model)

        XCTAssertEqual(report["arena_bytes"] as? Int, compiled.plan.arenaSize)
        XCTAssertEqual(report["arena_lower_bound_bytes"] as? Int, compiled.plan.lowerBound)
        XCTAssertEqual(report["weights_bytes"] as? Int, compiled.weightsBytes)
        let code = try XCTUnwrap(report["code_bytes"] as? Int), flash = try XCTUnwrap(report["flash_bytes"] as? Int)
        let ram = try XCTUnwrap(report["ram_bytes"] as? Int)
        XCTAssertGreaterThan(code, 0)
        XCTAssertGreaterThanOrEqual(flash, code + compiled.weightsBytes)
        XCTAssertGreaterThanOrEqual(ram, compiled.plan.arenaSize)
        // The nested firmware block stays, and agrees.
        let firmware = try XCTUnwrap(report["firmware"] as? [String: Any])
        XCTAssertEqual(firmware["text_bytes"] as? Int, code)
        XCTAssertEqual(firmware["flash_bytes"] as? Int, flash)
        XCTAssertEqual(firmware["ram_bytes"] as? Int, ram)

        // Code by component covers the code exactly; the model and the RPC runtime are both there.
        let components = try XCTUnwrap(report["code_bytes_by_component"] as? [String: Int])
        XCTAssertEqual(components.values.reduce(0, +), code)
        XCTAssertGreaterThan(components["model"] ?? 0, 0)
        XCTAssertGreaterThan(components["rpc_runtime"] ?? 0, 0)
        XCTAssertGreaterThan(components["startup_port_board"] ?? 0, 0)
        let symbols = try XCTUnwrap(report["code_symbols"] as? [[String: Any]])
        let sizes = symbols.compactMap { $0["bytes"] as? Int }
        XCTAssertEqual(sizes, sizes.sorted(by: >))
        XCTAssertTrue(symbols.contains { $0["name"] as? String == "mg_ad01_int8_run" && $0["component"] as? String == "model" }, "\(symbols)")
        XCTAssertTrue(symbols.contains { $0["name"] as? String == "mg_rpc_feed" && $0["component"] as? String == "rpc_runtime" }, "\(symbols)")

        // Code by source file, from the line table: the inlined FC kernel and its dot product
        // show up under their headers, and the files cover (nearly) all the code.
        let sources = try XCTUnwrap(report["code_bytes_by_source"] as? [String: Int])
        XCTAssertGreaterThan(sources["mg_fc_fast.h"] ?? 0, 0, "\(sources)")
        XCTAssertGreaterThan(sources["mg_conv_gemm_asm.h"] ?? 0, 0, "\(sources)")
        XCTAssertGreaterThan(sources["mg_rpc.c"] ?? 0, 0, "\(sources)")
        let covered = sources.values.reduce(0, +)
        XCTAssertLessThanOrEqual(covered, code)
        XCTAssertGreaterThan(covered, code * 9 / 10, "the line table covers most of the code: \(sources)")

        for phrase in ["code by component", "code by kernel header", "RPC runtime", "planned lower bound", "stack"] {
            XCTAssertTrue(result.standardOutput.contains(phrase), "'\(phrase)' not in:\n\(result.standardOutput)")
        }

        // The stack was measured under QEMU and reserved with its margin, and the relinked
        // firmware, with that small stack, still runs every reference case exactly.
        let highWater = try XCTUnwrap(report["stack_high_water_bytes"] as? Int)
        XCTAssertGreaterThan(highWater, 64)
        XCTAssertEqual(firmware["stack_bytes"] as? Int, StackSizing.reserve(forHighWater: highWater))
        XCTAssertLessThan(StackSizing.reserve(forHighWater: highWater), 16 * 1024, "smaller than the board's default guess")
        let board = try BoardCatalog.named("cortex-m7")
        let session = DeviceSession(transport: try QemuTransport(board: board, kernel: scratch + "/m7/build/firmware.elf"))
        defer { session.close() }
        let vectors = TestPaths.models + "/vectors/ad01_int8"
        for k in 0..<5 {
            let input = try Npy.read(path: vectors + "/case\(k)_input0.npy")
            let expected = try Npy.read(path: vectors + "/case\(k)_output0.npy")
            let result = try session.infer(inputs: [input.data], runTimeout: 30)
            XCTAssertEqual(result.outputs, [expected.data], "case \(k)")
            XCTAssertLessThanOrEqual(Int(result.status.stackHighWater), Int(result.status.stackSize) - StackSizing.guardBytes)
        }
    }

    func testLibraryBuildHasNoFirmwareFigures() throws {
        let scratch = try TestPaths.temporaryDirectory("memory-library")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let result = try microgen(["build", TestPaths.models + "/ad01_int8.tflite", "--emit", "library", "--output", scratch])
        XCTAssertEqual(result.status, 0, result.standardError)
        let report = try json(scratch + "/report.json")
        XCTAssertNotNil(report["arena_bytes"])
        XCTAssertNotNil(report["weights_bytes"])
        for key in ["code_bytes", "flash_bytes", "ram_bytes", "code_bytes_by_component", "code_symbols", "firmware"] {
            XCTAssertNil(report[key], "\(key) without a board build")
        }
    }
}

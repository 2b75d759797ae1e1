import Foundation
import XCTest
@testable import MicrogenHost
@testable import MicrogenProject

/// `microgen run` and `microgen profile` over RPC, on the host board and on an emulated board.
final class DeviceCommandTests: XCTestCase {
    private func microgen(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(GeneratedCodeTests.microgen, arguments)
    }

    /// Every int8 vector case of every MLPerf Tiny model, through RPC on the host board, bit for bit.
    func testRunOverRPCMatchesEveryInt8VectorOnTheHostBoard() throws {
        for model in ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"] {
            let result = try microgen(["run", TestPaths.models + "/\(model).tflite", "--board", "host", "--cases", TestPaths.models + "/vectors/\(model)"])
            XCTAssertEqual(result.status, 0, "\(model): \(result.standardOutput)\(result.standardError)")
            XCTAssertTrue(result.standardOutput.contains("5 of 5 cases match"), "\(model): \(result.standardOutput)")
            XCTAssertFalse(result.standardOutput.contains("MISMATCH"))
        }
    }

    /// Every emulated board: the kws project builds with make and every vector case matches under QEMU.
    func testEveryEmulatedBoardRunsEveryKeywordSpottingCase() throws {
        for board in ["cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"] {
            let result = try microgen(["run", TestPaths.models + "/kws_ref_model.tflite", "--board", board, "--cases", TestPaths.models + "/vectors/kws_ref_model"])
            XCTAssertEqual(result.status, 0, "\(board): \(result.standardOutput)\(result.standardError)")
            XCTAssertTrue(result.standardOutput.contains("5 of 5 cases match"), "\(board): \(result.standardOutput)")
            XCTAssertTrue(result.standardOutput.contains("instructions per inference on \(board)"), result.standardOutput)
        }
    }

    func testRunOnAnEmulatedBoardWritesTheOutput() throws {
        let scratch = try TestPaths.temporaryDirectory("run-m4")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let vectors = TestPaths.models + "/vectors/kws_ref_model"
        let result = try microgen(["run", TestPaths.models + "/kws_ref_model.tflite", "--board", "cortex-m4", "--input", vectors + "/case3_input0.npy",
                                   "--output", scratch + "/out.npy", "--expect", vectors + "/case3_output0.npy"])
        XCTAssertEqual(result.status, 0, result.standardOutput + result.standardError)
        XCTAssertTrue(result.standardOutput.contains("instructions per inference on cortex-m4"), result.standardOutput)
        XCTAssertEqual(try Npy.read(path: scratch + "/out.npy"), try Npy.read(path: vectors + "/case3_output0.npy"))
    }

    struct Profile: Decodable {
        struct Row: Decodable { var index: Int; var kind: String; var macs: Int; var total: Double }
        var model: String
        var board: String
        var runs: Int
        var unit: String
        var total: Double
        var stack_high_water_bytes: Int?
        var operators: [Row]
    }

    private func profile(_ board: String, runs: Int = 1) throws -> Profile {
        let result = try microgen(["profile", TestPaths.models + "/kws_ref_model.tflite", "--board", board, "--format", "json", "--runs", String(runs)])
        XCTAssertEqual(result.status, 0, result.standardError)
        return try JSONDecoder().decode(Profile.self, from: Data(result.standardOutput.utf8))
    }

    /// On QEMU the profile is deterministic, counts instructions, and its operators add up to the total.
    func testProfileOnCortexM7IsDeterministicAndAddsUp() throws {
        let first = try profile("cortex-m7"), second = try profile("cortex-m7")
        XCTAssertEqual(first.unit, "instructions")
        XCTAssertEqual(first.total, second.total)
        XCTAssertEqual(first.operators.map(\.total), second.operators.map(\.total))
        XCTAssertEqual(first.operators.count, 12)
        XCTAssertEqual(first.operators.map(\.kind).filter { $0 == "CONV_2D" }.count, 5)
        let sum = first.operators.map(\.total).reduce(0, +)
        XCTAssertLessThanOrEqual(abs(sum - first.total) / first.total, 0.02, "operators sum to \(sum) of \(first.total)")
        XCTAssertGreaterThan(first.stack_high_water_bytes ?? 0, 0)
    }

    func testProfileOnTheHostBoardAddsUp() throws {
        let report = try profile("host", runs: 5)
        XCTAssertEqual(report.unit, "ns")
        XCTAssertEqual(report.runs, 5)
        let sum = report.operators.map(\.total).reduce(0, +)
        XCTAssertLessThanOrEqual(abs(sum - report.total) / report.total, 0.02, "operators sum to \(sum) of \(report.total)")
    }

    func testProfileWritesTableCsvAndChart() throws {
        let scratch = try TestPaths.temporaryDirectory("chart")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let model = TestPaths.models + "/ad01_int8.tflite"
        let table = try microgen(["profile", model, "--board", "cortex-m7", "--chart", scratch + "/ad01.svg"])
        XCTAssertEqual(table.status, 0, table.standardError)
        XCTAssertTrue(table.standardOutput.contains("FULLY_CONNECTED") && table.standardOutput.contains("instructions"), table.standardOutput)
        let svg = try String(contentsOfFile: scratch + "/ad01.svg", encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertEqual(svg.components(separatedBy: "<rect").count - 1, 11, "one bar per operator (10) plus the background")
        let csv = try microgen(["profile", model, "--board", "host", "--format", "csv"])
        XCTAssertEqual(csv.standardOutput.split(separator: "\n").count, 12, csv.standardOutput)
    }

    /// Usage errors (status 64), refused before the firmware is built: the build directory is never made.
    func testUnknownBoardAndRealBoardWithoutPortAreClearErrors() throws {
        let scratch = try TestPaths.temporaryDirectory("board-errors")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let model = TestPaths.models + "/ad01_int8.tflite", input = TestPaths.models + "/vectors/ad01_int8/case0_input0.npy"
        let firmware = scratch + "/firmware"
        let unknown = try microgen(["run", model, "--board", "cortex-m99", "--input", input, "--build-dir", firmware])
        XCTAssertEqual(unknown.status, 64, unknown.standardError)
        XCTAssertTrue(unknown.standardError.contains("cortex-m7"), "the error should list the known boards: \(unknown.standardError)")
        let real = try microgen(["run", model, "--board", "nucleo-h743zi", "--input", input, "--build-dir", firmware])
        XCTAssertEqual(real.status, 64, real.standardError)
        XCTAssertTrue(real.standardError.contains("--port"), real.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: firmware), "no firmware was built")
    }

    /// Every option combination that cannot work is a usage error before anything is read,
    /// compiled or built: the model file does not even exist (the refusal does not mention it),
    /// and neither the build directory nor the output directory appears.
    func testArgumentsAreCheckedBeforeTheModelIsReadOrMakeRuns() throws {
        let scratch = try TestPaths.temporaryDirectory("early-refusals")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let model = scratch + "/absent.tflite", firmware = scratch + "/firmware"
        let cases: [(arguments: [String], phrase: String)] = [
            (["run", model, "--board", "nucleo-h743zi", "--build-dir", firmware], "give --port"),
            (["profile", model, "--board", "stm32f746g-disco", "--build-dir", firmware], "give --port"),
            (["run", model, "--board", "cortex-m7", "--flash", "--build-dir", firmware], "give --port too"),
            (["profile", model, "--board", "cortex-m7", "--port", "/dev/null", "--flash", "--build-dir", firmware], "no flash tool"),
            (["run", model, "--board", "host", "--port", "/dev/null", "--build-dir", firmware], "--board host"),
            (["run", model, "--board", "nucleo-h743zi", "--port", "/dev/null", "--baud", "1000", "--build-dir", firmware], "not a standard rate"),
            (["build", model, "--board", "nucleo-h743zi", "--stack-size", "measure", "--output", firmware], "does not emulate"),
            (["build", model, "--board", "cortex-m99", "--output", firmware], "unknown board"),
            (["bench", "--boards", "cortex-m7,nrf52840dk"], "real hardware"),
        ]
        for (arguments, phrase) in cases {
            let result = try microgen(arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.standardError)")
            XCTAssertTrue(result.standardError.contains(phrase), "\(arguments): '\(phrase)' not in \(result.standardError)")
            XCTAssertFalse(result.standardError.contains("absent.tflite"), "\(arguments): refused only after reading the model")
            XCTAssertTrue(result.standardOutput.isEmpty, "\(arguments): \(result.standardOutput)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: firmware), "\(arguments): wrote \(firmware)")
        }
    }
}

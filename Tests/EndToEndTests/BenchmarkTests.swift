import Foundation
import XCTest
@testable import MicrogenHost
@testable import MicrogenProject

/// `microgen bench`'s measurements as a budget: every MLPerf Tiny int8 model stays bit-exact on
/// cortex-m7 and cortex-m4 under QEMU, and its instruction count (deterministic under
/// -icount shift=0) stays under a budget relative to TFLite Micro + CMSIS-NN.
final class BenchmarkTests: XCTestCase {
    /// The minimum bar is 0.8x and its goal 0.5x; the kernels are at 0.39-0.48x on
    /// cortex-m7 (BENCHMARKS.md), so the budget holds them to the goal.
    static let budgetRatio = 0.5

    func testMLPerfTinyModelsAreBitExactAndWithinBudget() throws {
        let work = try TestPaths.temporaryDirectory("bench")
        defer { try? FileManager.default.removeItem(atPath: work) }
        var rows: [Benchmark.Row] = []
        for board in ["cortex-m7", "cortex-m4"] {
            for reference in Benchmark.references {
                let row = try Benchmark.measure(model: reference, board: board, modelsDirectory: TestPaths.models, workDirectory: work, progress: ProgressLine(enabled: false))
                rows.append(row)
                XCTAssertEqual(row.cases, 5, "\(reference.model) on \(board)")
                XCTAssertEqual(row.casesMatching, row.cases, "\(reference.model) on \(board) is not bit-exact")
                XCTAssertLessThanOrEqual(row.ratioToTFLM, Self.budgetRatio, "\(reference.model) on \(board): \(row.instructions) instructions")
                if board == "cortex-m7" { checkMemoryBudget(row, reference) }
            }
        }
        print(Benchmark.table(rows))
    }

    /// Issue 6's memory goals against TFLM's figures, as budgets where they are met
    /// (BENCHMARKS.md): RAM (arena section, .data, .bss and the stack's high-water mark) at most
    /// 0.6x TFLM's arena + stack, code at most 0.25x its .text, flash below its total. Where a goal
    /// is not met yet (resnet's RAM, vww's and resnet's code) the budget is today's figure, so
    /// that nothing slips back unnoticed.
    private func checkMemoryBudget(_ row: Benchmark.Row, _ reference: Benchmark.Reference) {
        let ramBudget: [String: Double] = ["kws_ref_model": 0.6, "vww_96_int8": 0.6, "pretrainedResnet_quant": 0.62, "ad01_int8": 0.6]
        let codeBudget: [String: Double] = ["kws_ref_model": 0.25, "vww_96_int8": 0.40, "pretrainedResnet_quant": 0.28, "ad01_int8": 0.25]
        let ram = Double(row.ramUsedBytes) / Double(reference.arenaBytes + reference.stackBytes)
        let code = Double(row.textBytes) / Double(reference.textBytes)
        XCTAssertLessThanOrEqual(ram, ramBudget[row.model] ?? 0.6, "\(row.model): RAM \(row.ramUsedBytes) bytes")
        XCTAssertLessThanOrEqual(code, codeBudget[row.model] ?? 0.25, "\(row.model): code \(row.textBytes) bytes")
        XCTAssertLessThan(row.textBytes + row.rodataBytes + row.dataBytes, reference.flashBytes, "\(row.model): flash")
    }
}

import ArgumentParser
import Foundation
import MicrogenIR
import MicrogenProject
import MicrogenHost

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the MLPerf Tiny int8 models on emulated boards against TFLite Micro + CMSIS-NN.",
        discussion: """
        Builds kws_ref_model, vww_96_int8, pretrainedResnet_quant and ad01_int8 for each board, runs
        every vector case under QEMU (checking bit-exactness against TFLite Micro's outputs) and
        prints one table: instructions per inference (QEMU -icount shift=0), instructions per MAC,
        arena and its lower bound, .text and .rodata, stack high-water, and the ratio to TFLite
        Micro with CMSIS-NN. The exit status is 1 if any case is not bit-exact.

        Examples:
          microgen bench
          microgen bench --boards cortex-m7 --json bench.json --markdown BENCHMARKS.md
        """
    )

    @Option(help: "Comma-separated emulated boards.")
    var boards: String = "cortex-m7,cortex-m4"

    @Option(help: "Comma-separated models (file names without .tflite) among the four MLPerf Tiny int8 models.")
    var models: String?

    @Option(help: "The folder with the .tflite files and vectors/ (default: models/mlperf in microgen's source tree).")
    var modelsDirectory: String?

    @Option(help: "Also write the rows as JSON to this file.")
    var json: String?

    @Option(help: "Also write the table as Markdown to this file (BENCHMARKS.md).")
    var markdown: String?

    /// Every board is checked before the first model is built for the first of them.
    func validate() throws {
        let names = boards.split(separator: ",").map(String.init)
        guard !names.isEmpty else { throw ValidationError("--boards names no board") }
        for name in names {
            let board = try asUsageError { try BoardCatalog.named(name) }
            guard board.qemu != nil else {
                throw ValidationError("bench runs on emulated boards, and \(board.name) is real hardware: time it with microgen profile --board \(board.name) --port ...")
            }
        }
    }

    func run() throws {
        try reportingErrors {
            let directory = try modelsDirectory ?? (Resources.home() + "/models/mlperf")
            let wanted = models.map { Set($0.split(separator: ",").map(String.init)) }
            let references = Benchmark.references.filter { wanted?.contains($0.model) ?? true }
            guard !references.isEmpty else { throw MicrogenError(.invalidArgument, "no such model; choose among \(Benchmark.references.map(\.model).joined(separator: ", "))") }
            let fm = FileManager.default
            let work = fm.temporaryDirectory.appendingPathComponent("microgen-bench-\(UUID().uuidString)").path
            defer { try? fm.removeItem(atPath: work) }
            let progress = ProgressLine()
            var rows: [Benchmark.Row] = []
            for board in boards.split(separator: ",").map(String.init) {
                for reference in references {
                    rows.append(try Benchmark.measure(model: reference, board: board, modelsDirectory: directory, workDirectory: work, progress: progress))
                }
            }
            print(Benchmark.table(rows), terminator: "")
            if let json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try Data(encoder.encode(rows)).write(to: URL(fileURLWithPath: json))
            }
            if let markdown {
                let commit = (try? runProcess("git", ["-C", Resources.home(), "rev-parse", "--short", "HEAD"]))?.standardOutput
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
                try Benchmark.markdown(rows, commit: commit.isEmpty ? "unknown" : commit).write(toFile: markdown, atomically: true, encoding: .utf8)
            }
            if rows.contains(where: { $0.casesMatching != $0.cases }) {
                note("some cases are not bit-exact")
                throw ExitCode.failure
            }
        }
    }
}

import ArgumentParser
import Foundation
import MicrogenIR
import MicrogenHost

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Measure a model's time per operator on a board.",
        discussion: """
        Runs the model --runs times on the board (with a deterministic input) and reads the board's
        counter around every operator. On emulated boards QEMU runs with -icount shift=0, so the
        unit is executed instructions and two runs give the same numbers (QEMU does not model
        cycles). Real boards count core cycles (DWT); the host board counts nanoseconds.

        The JSON form (--format json) is documented in docs/profile.md: model, board, runs, unit,
        total (per inference), overhead, macs, stack_high_water_bytes, and operators
        [{index, kind, macs, total, share, macs_per_unit}].

        Examples:
          microgen profile kws.tflite --board cortex-m7
          microgen profile kws.tflite --board cortex-m7 --format json > kws.json
          microgen profile vww.tflite --board cortex-m4 --runs 3 --chart vww.svg
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, csv
    }

    @Argument(help: "The model file (.tflite).")
    var model: String

    @OptionGroup var device: DeviceOptions

    @Option(help: "Inferences to time; the figures are per inference.")
    var runs: Int = 1

    @Option(help: "Output format: table, json or csv.")
    var format: Format = .table

    @Option(help: "Also write a bar chart of the operators: an .svg file, or .html for a page holding it.")
    var chart: String?

    func validate() throws {
        guard runs >= 1 && runs <= 65_535 else { throw ValidationError("--runs must be between 1 and 65535") }
    }

    func run() throws {
        try reportingErrors {
            let report = try device.withConnection(model: model, progress: ProgressLine()) { connection -> ProfileReport in
                let graph = connection.model.graph
                // A fixed, non-trivial input: the same every time, so profiles compare.
                let inputs = graph.inputs.map { index -> NpyArray in
                    let tensor = graph.tensors[index]
                    let bytes = (0..<tensor.byteCount).map { i -> UInt8 in
                        tensor.dataType == .float32 ? (i % 4 == 3 ? 0x3F : UInt8(truncatingIfNeeded: i * 37)) : UInt8(truncatingIfNeeded: (i * 7 + 3) % 256)
                    }
                    return NpyArray(dataType: tensor.dataType, shape: tensor.shape, data: bytes)
                }
                let result = try connection.infer(inputs, runs: runs)
                let (unit, perTick) = connection.unit
                let stack = result.status.stackHighWater > 0 ? Int(result.status.stackHighWater) : nil
                return ProfileReport(model: connection.model, board: connection.boardName, unit: unit, perTick: perTick,
                                     timings: result.timings, stackHighWater: stack)
            }
            switch format {
            case .table: print(report.table(), terminator: "")
            case .json: print(try report.json(), terminator: "")
            case .csv: print(report.csv(), terminator: "")
            }
            if let chart {
                let text = chart.lowercased().hasSuffix(".html") ? ProfileChart.html(report) : ProfileChart.svg(report)
                do {
                    try text.write(toFile: chart, atomically: true, encoding: .utf8)
                } catch {
                    throw MicrogenError(.io, "cannot write \(chart): \(error.localizedDescription)")
                }
                note("wrote \(chart)")
            }
        }
    }
}

import ArgumentParser
import MicrogenProject
import MicrogenHost

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a model's operators, tensors, quantization and memory plan.",
        discussion: """
        Compiles the model in memory and prints three tables: the operators with their shapes,
        fused activation, MACs and output arena offset; every tensor with its type, shape, scale
        and zero point (per-channel scales are summarized) and where it lives; and the memory plan:
        the arena against its lower bound (the peak of bytes live at once) and the planned lower
        bound (after in-place merges), the planning algorithm and whether it proved the arena
        optimal, the weight bytes, and the operator where the most bytes are live.

        With --board, also estimates flash and RAM use against the board's regions (weights,
        arena, stack and a minimum for the runtime; `microgen build --board` measures the real
        firmware). --memory-chart writes the plan as a picture: operators across, arena offsets
        up, one box per buffer while it is alive; .svg gives the picture, .html a page with it and
        a table of the buffers. Nothing else is written.

        Examples:
          microgen inspect vww_96_int8.tflite
          microgen inspect kws_ref_model.tflite --board cortex-m4 --memory-chart kws-memory.html
        """
    )

    @Argument(help: "The model file (.tflite).")
    var model: String

    @Option(help: "The C name of the model (default: from the file name).")
    var name: String?

    @Option(help: "Also estimate memory use against this board's regions (see `microgen boards`).")
    var board: String?

    @Option(help: "Write a chart of the memory plan: an .svg file, or .html for a page with the chart and a table.")
    var memoryChart: String?

    func validate() throws {
        try validateMemoryChart(memoryChart)
    }

    func run() throws {
        try reportingErrors {
            let compiled = try ModelBuilder.compile(path: model, name: name)
            print(InspectReport.render(compiled, source: model), terminator: "")
            if let boardName = board {
                let board = try BoardCatalog.named(boardName)
                print("\n" + MemoryTable.estimate(MemoryBudget.estimate(model: compiled, board: board)), terminator: "")
            }
            if let memoryChart {
                try MemoryChart.write(compiled, source: model, to: memoryChart)
                note("wrote \(memoryChart)")
            }
        }
    }
}

/// `--memory-chart`'s file name must say which format to write; refused before any work is done.
func validateMemoryChart(_ path: String?) throws {
    guard let path, MemoryChart.format(forPath: path) == nil else { return }
    throw ValidationError("--memory-chart \(path): the chart is written as SVG or HTML; give a file ending in .svg or .html")
}

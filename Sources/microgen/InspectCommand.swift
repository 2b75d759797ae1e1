import ArgumentParser
import MicrogenHost

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a model's operators, tensors, quantization and memory plan.",
        discussion: """
        Compiles the model in memory (nothing is written) and prints three tables: the operators
        with their shapes, fused activation, MACs and output arena offset; every tensor with its
        type, shape, scale and zero point (per-channel scales are summarized) and where it lives;
        and the memory plan (arena size against its lower bound, weight bytes).

        Example:
          microgen inspect vww_96_int8.tflite
        """
    )

    @Argument(help: "The model file (.tflite).")
    var model: String

    @Option(help: "The C name of the model (default: from the file name).")
    var name: String?

    func run() throws {
        try reportingErrors {
            let compiled = try ModelBuilder.compile(path: model, name: name)
            print(InspectReport.render(compiled, source: model), terminator: "")
        }
    }
}

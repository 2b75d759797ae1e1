import ArgumentParser
import Foundation
import MicrogenIR
import MicrogenProject
import MicrogenHost

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Compile a model to C sources and a report.",
        discussion: """
        Writes <name>.h and <name>.c (the model: weights as const arrays, one straight-line run
        function), the kernel headers they include, and report.json (arena bytes, weight bytes,
        MACs, one row per operator with shapes and arena offsets). The same model and options
        always give byte-identical files.

        The generated API, for a model named kws:
          MG_KWS_ARENA_SIZE, MG_KWS_INPUT0_OFFSET, MG_KWS_INPUT0_SIZE, ...
          int mg_kws_run(uint8_t *arena);                      /* inputs/outputs live in the arena */
          int mg_kws_invoke(const int8_t *input0, int8_t *output0, uint8_t *arena);

        Example:
          microgen build kws_ref_model.tflite --emit library --output out/kws --name kws
        """
    )

    enum Emit: String, ExpressibleByArgument, CaseIterable {
        case library
    }

    @Argument(help: "The model file (.tflite).")
    var model: String

    @Option(help: "What to emit: library (C sources and headers to add to your own project).")
    var emit: Emit = .library

    @Option(name: .shortAndLong, help: "The output directory (created if needed).")
    var output: String

    @Option(help: "The C name of the model (default: from the file name). Symbols are mg_<name>_...")
    var name: String?

    func run() throws {
        try reportingErrors {
            let compiled = try ModelBuilder.compile(path: model, name: name)
            try ModelBuilder.write(compiled, to: output)
            let report = BuildReport(model: compiled, source: model)
            do {
                try report.json().write(toFile: output + "/report.json", atomically: true, encoding: .utf8)
            } catch let error as MicrogenError {
                throw error
            } catch {
                throw MicrogenError(.io, "cannot write \(output)/report.json: \(error.localizedDescription)")
            }
            var table = TextTable(headers: ["\(compiled.name)", ""], rightAligned: [1])
            table.add(["operators", String(compiled.operators.count)])
            table.add(["MACs", grouped(compiled.macs)])
            table.add(["arena bytes", grouped(compiled.plan.arenaSize)])
            table.add(["arena lower bound", grouped(compiled.plan.lowerBound)])
            table.add(["weights bytes", grouped(compiled.weightsBytes)])
            print(table.render(), terminator: "")
            print("wrote \(compiled.files.count) files and report.json to \(output)")
        }
    }
}

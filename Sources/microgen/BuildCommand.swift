import ArgumentParser
import Foundation
import MicrogenIR
import MicrogenProject
import MicrogenHost

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Compile a model to C, or to a complete firmware project for a board.",
        discussion: """
        Without --board, writes the C library: <name>.h and <name>.c (weights as const arrays, one
        straight-line run function), the kernel headers they include, and report.json (arena bytes,
        weight bytes, MACs, one row per operator with shapes and arena offsets).

        With --board, writes a self-contained project (the model, the runtime with its RPC server,
        startup code, linker script, UART and timer ports, main.c, a Makefile with all, flash, qemu,
        size and clean) and runs make, then prints flash and RAM use against the board's capacity.
        A model that does not fit is refused, saying by how many bytes it is over. The project
        builds with make alone: hand it to someone without microgen.

        The same model and options always give byte-identical files. The C API, for a model named kws:
          MG_KWS_ARENA_SIZE, MG_KWS_INPUT0_OFFSET, MG_KWS_INPUT0_SIZE, ...
          int mg_kws_run(uint8_t *arena);                      /* inputs/outputs live in the arena */
          int mg_kws_invoke(const int8_t *input0, int8_t *output0, uint8_t *arena);

        Examples:
          microgen build kws_ref_model.tflite --emit library --output out/kws --name kws
          microgen build kws_ref_model.tflite --board cortex-m7 --output out/kws-m7
          make -C out/kws-m7 qemu
        """
    )

    enum Emit: String, ExpressibleByArgument, CaseIterable {
        case library, project
    }

    @Argument(help: "The model file (.tflite).")
    var model: String

    @Option(help: "What to emit: library (C sources to add to your project) or project (a firmware project; the default with --board).")
    var emit: Emit?

    @Option(help: "The board to build a project for (see `microgen boards`).")
    var board: String?

    @Option(name: .shortAndLong, help: "The output directory (created if needed).")
    var output: String

    @Option(help: "The C name of the model (default: from the file name). Symbols are mg_<name>_...")
    var name: String?

    @Flag(help: "Write the project but do not run make.")
    var noMake: Bool = false

    func validate() throws {
        if emit == .project && board == nil { throw ValidationError("--emit project needs --board (see `microgen boards`)") }
        if emit == .library && board != nil { throw ValidationError("--board builds a project; drop --emit library or --board") }
    }

    func run() throws {
        try reportingErrors {
            let progress = ProgressLine()
            progress.step("compiling \(model)")
            let compiled = try ModelBuilder.compile(path: model, name: name)
            var report = BuildReport(model: compiled, source: model)
            var summary = TextTable(headers: ["model \(compiled.name)", "bytes"], rightAligned: [1])
            summary.add(["operators", String(compiled.operators.count)])
            summary.add(["MACs", grouped(compiled.macs)])
            summary.add(["arena", grouped(compiled.plan.arenaSize)])
            summary.add(["arena lower bound", grouped(compiled.plan.lowerBound)])
            summary.add(["weights and constants", grouped(compiled.weightsBytes)])
            var sizeText = ""
            if let boardName = board {
                let board = try BoardCatalog.named(boardName)
                let project = try ProjectEmitter.emit(model: compiled, board: board, to: output)
                if !noMake {
                    progress.step("building the \(board.name) firmware with make")
                    let build = try ProjectBuilder.build(project)
                    report.firmware = BuildReport.Firmware(board: board.name, size: build.size)
                    sizeText = build.size.render()
                }
            } else {
                try ModelBuilder.write(compiled, to: output)
            }
            do {
                try report.json().write(toFile: output + "/report.json", atomically: true, encoding: .utf8)
            } catch let error as MicrogenError {
                throw error
            } catch {
                throw MicrogenError(.io, "cannot write \(output)/report.json: \(error.localizedDescription)")
            }
            print(summary.render(), terminator: "")
            if !sizeText.isEmpty { print(sizeText, terminator: sizeText.hasSuffix("\n") ? "" : "\n") }
            print("wrote \(board == nil ? "the C library" : "the \(board!) project") and report.json to \(output)")
        }
    }
}

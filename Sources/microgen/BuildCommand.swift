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
        size and clean) and runs make, then prints flash and RAM use against the board's capacity
        and the code bytes per component (model, RPC runtime, startup/port/board, C library; from
        the ELF's symbols with arm-none-eabi-nm). A model that does not fit is refused, saying by
        how many bytes it is over. The project builds with make alone: hand it to someone without
        microgen. On an emulated board the stack is sized from a measurement: the firmware runs one
        inference under QEMU with its stack painted, and is relinked with the high-water mark plus a
        margin (--stack-size sets it instead; without QEMU the board's stack_size is kept, and said so).

        Every build prints the memory plan (arena against its lower bounds, weights) and writes
        report.json: arena_bytes, arena_lower_bound_bytes, weights_bytes, buffers (offset and
        lifetime of every arena buffer) and, after a board build, code_bytes, flash_bytes,
        ram_bytes, code_bytes_by_component and code_symbols (README.md lists every field).
        --memory-chart FILE also draws the plan: operators across, arena offsets up, one box per
        buffer while it is alive, the peak marked; FILE.svg is the picture, FILE.html a page with
        the picture and a table of the buffers.

        The same model and options always give byte-identical files. The C API, for a model named kws:
          MG_KWS_ARENA_SIZE, MG_KWS_INPUT0_OFFSET, MG_KWS_INPUT0_SIZE, ...
          int mg_kws_run(uint8_t *arena);                      /* inputs/outputs live in the arena */
          int mg_kws_invoke(const int8_t *input0, int8_t *output0, uint8_t *arena);

        Examples:
          microgen build kws_ref_model.tflite --emit library --output out/kws --name kws
          microgen build kws_ref_model.tflite --board cortex-m7 --output out/kws-m7
          make -C out/kws-m7 qemu
          microgen build kws_ref_model.tflite --output out/kws --memory-chart out/kws-memory.svg
          microgen build kws_ref_model.tflite --board stm32f746g-disco --stack-size 1024 --output out/kws-disco
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

    @Option(help: "Write a chart of the memory plan: an .svg file, or .html for a page with the chart and a table.")
    var memoryChart: String?

    @Flag(help: "Keep the inputs intact through a run (costs their RAM): the firmware can then run one upload many times, instead of needing the inputs written before every run.")
    var keepInputs: Bool = false

    @Option(help: ArgumentHelp("The stack to reserve, in bytes, or 'measure': run one inference under QEMU, read the painted stack's high-water mark and reserve that with a margin (the default on emulated boards; real boards default to their board file's stack_size).", valueName: "bytes|measure"))
    var stackSize: String?

    func validate() throws {
        try validateMemoryChart(memoryChart)
        if emit == .project && board == nil { throw ValidationError("--emit project needs --board (see `microgen boards`)") }
        if emit == .library && board != nil { throw ValidationError("--board builds a project; drop --emit library or --board") }
        if let stackSize {
            if board == nil { throw ValidationError("--stack-size applies to a board project: add --board") }
            if stackSize != "measure" {
                guard let bytes = Int(stackSize), bytes >= 512, bytes % 8 == 0 else {
                    throw ValidationError("--stack-size must be 'measure' or a multiple of 8 bytes, at least 512; found '\(stackSize)'")
                }
            }
            if stackSize == "measure" && noMake { throw ValidationError("--stack-size measure runs the firmware: drop --no-make") }
        }
        if let board {
            let resolved = try asUsageError { try BoardCatalog.named(board) }
            if stackSize == "measure" && resolved.qemu == nil {
                throw ValidationError("--stack-size measure runs the firmware under QEMU, which does not emulate \(resolved.name): give --stack-size N (bytes), from microgen profile on the board or a build for its emulated core")
            }
        }
    }

    /// report.json's text. JSON has no NaN or infinity: import refuses non-finite scales, so a
    /// failure here is a bug, reported as such rather than as an I/O error.
    private func encodedReport(_ report: BuildReport) throws -> String {
        do {
            return try report.json()
        } catch {
            throw MicrogenError(.malformedModel, "the build report cannot be encoded as JSON (\(error.localizedDescription))")
        }
    }

    func run() throws {
        try reportingErrors {
            let progress = ProgressLine()
            if stackSize == "measure" && !QemuCommand.isInstalled {
                throw MicrogenError(.toolchain, "--stack-size measure runs the firmware under QEMU, and \(QemuCommand.program) is not installed (apt-get install qemu-system-arm)")
            }
            progress.step("compiling \(model)")
            let compiled = try ModelBuilder.compile(path: model, name: name, keepInputs: keepInputs)
            var report = BuildReport(model: compiled, source: model)
            // Nothing goes to disk before everything is checked, the report's encoding included.
            _ = try encodedReport(report)
            var summary = TextTable(headers: ["model \(compiled.name)", ""], rightAligned: [1])
            summary.add(["operators", String(compiled.operators.count)])
            summary.add(["MACs", grouped(compiled.macs)])
            var firmware: FirmwareSize?
            var code: CodeSize?
            var stackNote: String?
            if let boardName = board {
                var board = try BoardCatalog.named(boardName)
                if let stackSize, let bytes = Int(stackSize) { board.stackSize = bytes }
                var project = try ProjectEmitter.emit(model: compiled, board: board, to: output)
                if !noMake {
                    progress.step("building the \(board.name) firmware with make")
                    var build = try ProjectBuilder.build(project)
                    var measured: Int?
                    var unmeasured: String?
                    if stackSize == "measure" || (stackSize == nil && board.qemu != nil) {
                        if stackSize == nil && !QemuCommand.isInstalled {
                            // Only asked for implicitly: keep the board's stack rather than fail the build.
                            unmeasured = "\(QemuCommand.program) is not installed"
                        } else {
                            progress.step("measuring the stack: one inference on \(board.name) in QEMU")
                            measured = try StackSizing.measureHighWater(model: compiled, board: board, elfPath: build.elfPath)
                        }
                    }
                    if let measured {
                        board.stackSize = StackSizing.reserve(forHighWater: measured)
                        report.stackHighWaterBytes = measured
                        progress.step("relinking with a \(board.stackSize)-byte stack")
                        project = try ProjectEmitter.emit(model: compiled, board: board, to: output)
                        build = try ProjectBuilder.build(project)
                        stackNote = "stack: \(grouped(board.stackSize)) bytes reserved for a measured high-water mark of \(grouped(measured)) (a quarter more, at least 256, rounded to 256, plus a 256-byte guard)"
                    } else if let unmeasured {
                        stackNote = "stack: \(grouped(board.stackSize)) bytes reserved (the board's stack_size): not measured, \(unmeasured)"
                    } else {
                        stackNote = "stack: \(grouped(board.stackSize)) bytes reserved (\(stackSize == nil ? "the board's stack_size; measure the high-water mark with microgen profile on the board, or build for the emulated core with --stack-size measure" : "--stack-size"))"
                    }
                    // Static helpers in the kernel headers carry no model prefix but are the model's code.
                    let kernels = (try? FileManager.default.contentsOfDirectory(atPath: Resources.kernelsDirectory())) ?? []
                    code = CodeSize.measure(build, modelPrefix: compiled.prefix, modelSource: compiled.name + ".c",
                                            kernelHeaders: Set(kernels))
                    report.add(board: board.name, size: build.size, code: code)
                    firmware = build.size
                }
            } else {
                try ModelBuilder.write(compiled, to: output)
            }
            let reportText = try encodedReport(report)
            do {
                try reportText.write(toFile: output + "/report.json", atomically: true, encoding: .utf8)
            } catch let error as MicrogenError {
                throw error
            } catch {
                throw MicrogenError(.io, "cannot write \(output)/report.json: \(error.localizedDescription)")
            }
            if let memoryChart { try MemoryChart.write(compiled, source: model, to: memoryChart) }
            print(summary.render())
            print(MemoryTable.render(compiled, firmware: firmware))
            if let code { print(MemoryTable.code(code)) }
            if let stackNote { print(stackNote) }
            if let memoryChart { print("wrote the memory chart to \(memoryChart)") }
            print("wrote \(board == nil ? "the C library" : "the \(board!) project") and report.json to \(output)")
        }
    }
}

import Foundation
import MicrogenIR
import MicrogenCodegen

/// How to emit a firmware project.
public struct ProjectOptions: Sendable {
    /// Compile the model with `-DMG_PROFILE`, so RUN times every operator.
    public var profile: Bool
    /// The optimization flag in the Makefile.
    public var optimization: String
    /// Refuse a model whose estimated demand exceeds a region, before writing anything.
    public var checkFit: Bool

    public init(profile: Bool = true, optimization: String = "-O2", checkFit: Bool = true) {
        self.profile = profile
        self.optimization = optimization
        self.checkFit = checkFit
    }
}

/// A firmware project on disk: everything `make` needs, for one model on one board.
public struct FirmwareProject: Sendable {
    public let directory: String
    public let board: Board
    public let modelName: String
    /// Every file written, relative to `directory`.
    public let files: [String]
    public let budget: MemoryBudget

    public var elfPath: String { directory + "/build/firmware.elf" }
    public var binPath: String { directory + "/build/firmware.bin" }
    public var hexPath: String { directory + "/build/firmware.hex" }
}

/// Writes a self-contained firmware project: the model's C, the RPC runtime, main.c, the
/// Cortex-M start-up and port, the board family's UART driver, the board header, a linker
/// script from the board's memory map, a Makefile and a README. It builds with `make` alone.
public enum ProjectEmitter {
    /// The list of files microgen wrote, so emitting again into the same directory (for another
    /// board, say) removes the ones that no longer belong: the Makefile compiles every `*.c`.
    static let manifestName = ".microgen-files"

    public static func emit(model: CompiledModel, board: Board, to directory: String,
                            options: ProjectOptions = ProjectOptions()) throws -> FirmwareProject {
        let budget = MemoryBudget.estimate(model: model, board: board)
        if options.checkFit { try budget.check() }

        let templates = try Resources.templatesDirectory()
        let renderer = TemplateRenderer(directory: templates)
        var files: [(name: String, contents: String)] = model.files

        for name in HostFirmware.runtimeFiles {
            files.append((name, try read(templates + "/runtime/" + name)))
        }
        files.append(("main.c", try renderer.render("project/main.c.mustache", HostFirmware.mainContext(for: model))))
        for directoryName in ["ports/cortex-m", "ports/" + board.uart.family.rawValue] {
            for name in try sourceFiles(in: templates + "/" + directoryName) {
                files.append((name, try read(templates + "/" + directoryName + "/" + name)))
            }
        }
        let context = try Self.context(model: model, board: board, options: options)
        files.append(("mg_board.h", try renderer.render("project/mg_board.h.mustache", context)))
        files.append(("mg_board.c", try renderer.render("project/mg_board.c.mustache", context)))
        files.append(("linker.ld", try renderer.render("project/linker.ld.mustache", context)))
        files.append(("Makefile", try renderer.render("project/Makefile.mustache", context)))
        files.append(("README.md", try renderer.render("project/README.md.mustache", context)))

        try requireDistinctNames(files)
        try write(files, to: directory)
        return FirmwareProject(directory: directory, board: board, modelName: model.name, files: files.map(\.name), budget: budget)
    }

    /// Refuses two files of one name, which would silently overwrite each other.
    static func requireDistinctNames(_ files: [(name: String, contents: String)]) throws {
        var seen = Set<String>()
        for file in files where !seen.insert(file.name).inserted {
            throw MicrogenError(.invalidArgument, "two project files are both called \(file.name) (a model file clashes with a runtime or port file)")
        }
    }

    // MARK: - Template context

    static func context(model: CompiledModel, board: Board, options: ProjectOptions) throws -> [String: Any] {
        let ticks = board.qemuInstructionsPerTick
        if board.isEmulated, case .timer = board.counter, ticks.denominator != 1 {
            throw MicrogenError(.invalidArgument, "board \(board.name): a \"timer\" counter needs a clock that divides 1 GHz under QEMU icount (\(board.clockHz) Hz does not); use \"systick\"")
        }
        var defines = ["-I."]
        if options.profile { defines.append("-DMG_PROFILE") }
        let qemuCommand = board.qemu.map { qemu in
            (["$(QEMU)"] + QemuCommand.arguments(machine: qemu.machine, kernel: "$(ELF)", extra: qemu.extraArguments))
                .map(shellQuote).joined(separator: " ")
        }
        let flashCommand = board.flash.map { flash in
            ([flash.tool] + flash.arguments.map(substituteImages)).map(shellQuote).joined(separator: " ")
        }
        return [
            "model": model.name,
            "board": board.name,
            "description": board.description,
            "core": board.core,
            "clock_hz": board.clockHz,
            "clock_note": board.clockNote ?? false,
            "stack_size": board.stackSize,
            "caches": board.caches ? 1 : 0,
            "uart_name": board.uart.name,
            "uart_note": board.uart.note ?? false,
            "uart_base": hex(board.uart.base),
            "uart_baud": board.uart.baud,
            "uart_clock_hz": board.uart.clockHz ?? board.clockHz,
            "uart_defines": try uartDefines(board),
            "counter": counterDescription(board),
            "counter_dwt": board.counter == .dwt ? 1 : 0,
            "counter_timer": board.counter.kind == "timer" ? 1 : 0,
            "timer_base": { if case .timer(let base) = board.counter { return hex(base) } else { return false } }() as Any,
            "qemu": board.isEmulated ? 1 : 0,
            "tick_numerator": ticks.numerator,
            "tick_denominator": ticks.denominator,
            "setup": board.uart.setup.map { ["why": $0.why.isEmpty ? $0.operation.rawValue : $0.why, "statement": statement($0)] },
            "regions": board.memory.map { region -> [String: Any] in
                ["name": region.name, "attributes": region.kind == .flash ? "rx" : "rwx",
                 "origin": hex(region.origin), "length": hex(region.length)]
            },
            "code": board.placement.code,
            "data": board.placement.data,
            "stack": board.placement.stack,
            "arena": board.placement.arena,
            "cpu_flags": board.gcc.flags.joined(separator: " "),
            "optimization": options.optimization,
            "defines": defines.joined(separator: " "),
            "flash_tool": board.flash?.tool ?? false,
            "flash_note": board.flash?.note ?? false,
            "flash_command": flashCommand ?? false,
            "qemu_machine": board.qemu?.machine ?? false,
            "qemu_command": qemuCommand ?? false,
            "arena_size": model.plan.arenaSize,
            "weights_bytes": model.weightsBytes,
            "flash_bytes": board.flashBytes,
            "ram_bytes": board.ramBytes,
        ]
    }

    private static func uartDefines(_ board: Board) throws -> [[String: String]] {
        let uart = board.uart
        switch uart.family {
        case .cmsdk:
            return []
        case .stm32:
            let gpioBase = uart.gpioBase ?? 0
            let pins = uart.pins.map { pin in
                "{ \(hex(gpioBase + 0x400 * UInt64(pin.portIndex)))u, \(pin.pin)u, \(pin.alternateFunction ?? 0)u, \(pin.signal == "rx" ? 1 : 0)u }"
            }
            return [
                ["name": "MG_UART_BRR", "value": "\(try BoardLoader.stm32BaudDivider(board))u /* \(uart.kind == "lpuart" ? "256 * " : "")clock / baud */"],
                ["name": "MG_UART_PINS", "value": "{ " + pins.joined(separator: ", ") + " } /* port, pin, alternate function, pull-up */"],
            ]
        case .nrf52:
            func psel(_ signal: String) -> String {
                guard let pin = uart.pin(signal) else { return "0xFFFFFFFFu" }
                return "\((pin.portIndex << 5) | pin.pin)u /* P\(pin.port).\(String(format: "%02d", pin.pin)) */"
            }
            return [
                ["name": "MG_UART_TX_PSEL", "value": psel("tx")],
                ["name": "MG_UART_RX_PSEL", "value": psel("rx")],
                ["name": "MG_UART_BAUD_REGISTER", "value": hex(uart.baudRegister ?? 0) + "u"],
            ]
        }
    }

    private static func counterDescription(_ board: Board) -> String {
        switch board.counter {
        case .dwt: return "DWT CYCCNT (core cycles), or SysTick when CYCCNT does not run (QEMU)"
        case .systick: return "SysTick at the core clock, extended to 32 bits by its overflow interrupt"
        case .timer(let base): return "the CMSDK APB timer at \(hex(base))"
        }
    }

    private static func statement(_ step: Board.UART.SetupStep) -> String {
        let address = hex(step.address) + "u", value = hex(step.value) + "u"
        switch step.operation {
        case .set: return "MG_REG32(\(address)) |= \(value);"
        case .clear: return "MG_REG32(\(address)) &= ~\(value);"
        case .write: return "MG_REG32(\(address)) = \(value);"
        case .wait: return "while ((MG_REG32(\(address)) & \(value)) != \(value)) {\n    }"
        }
    }

    static func hex(_ value: UInt64) -> String { String(format: "0x%08llX", value) }

    private static func substituteImages(_ argument: String) -> String {
        argument.replacingOccurrences(of: "{elf}", with: "$(ELF)")
            .replacingOccurrences(of: "{bin}", with: "$(BIN)")
            .replacingOccurrences(of: "{hex}", with: "$(HEX)")
    }

    /// Quotes a word for /bin/sh in a Makefile recipe (make expands `$(VAR)` before the shell).
    static func shellQuote(_ word: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:+$()")
        if !word.isEmpty && word.unicodeScalars.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    // MARK: - Files

    private static func read(_ path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MicrogenError(.io, "template file \(path) not found (set MICROGEN_HOME to the microgen source tree)")
        }
        return text
    }

    private static func sourceFiles(in directory: String) throws -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw MicrogenError(.io, "port directory \(directory) not found")
        }
        return names.filter { $0.hasSuffix(".c") || $0.hasSuffix(".h") }.sorted()
    }

    private static func write(_ files: [(name: String, contents: String)], to directory: String) throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let manifest = directory + "/" + manifestName
            let newNames = Set(files.map(\.name))
            if let previous = try? String(contentsOfFile: manifest, encoding: .utf8) {
                // Only plain files of this directory: a line "..", ".", or a directory's name (the
                // manifest is whatever the directory holds) must not remove a whole tree.
                for name in previous.split(separator: "\n").map(String.init)
                where !newNames.contains(name) && !name.contains("/") && name != "." && name != ".." {
                    var isDirectory: ObjCBool = false
                    guard fm.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                    try? fm.removeItem(atPath: directory + "/" + name)
                }
            }
            for file in files {
                let path = directory + "/" + file.name
                // Unchanged files keep their time stamps, so make rebuilds only what changed.
                if let existing = try? String(contentsOfFile: path, encoding: .utf8), existing == file.contents { continue }
                try file.contents.write(toFile: path, atomically: true, encoding: .utf8)
            }
            try (files.map(\.name).joined(separator: "\n") + "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
        } catch {
            throw MicrogenError(.io, "cannot write the project to \(directory): \(error.localizedDescription)")
        }
    }
}

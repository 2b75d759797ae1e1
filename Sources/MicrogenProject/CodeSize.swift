import Foundation
import MicrogenIR

/// Where a firmware's code bytes go, from the ELF's symbol table: the model's run function and
/// kernels, the RPC runtime, start-up/port/board code, the C library, and the rest. Answers
/// "what would I save without the RPC server?" and "how big did the kernels get?".
public struct CodeSize: Sendable, Equatable {
    public enum Component: String, Sendable, CaseIterable {
        case model
        case rpcRuntime = "rpc_runtime"
        case startupPortBoard = "startup_port_board"
        case cLibrary = "c_library"
        case other
        /// Code bytes inside the code sections that no sized symbol covers: alignment padding
        /// and anything the assembler left without a size.
        case unattributed

        public var title: String {
            switch self {
            case .model: return "model (run function and kernels)"
            case .rpcRuntime: return "RPC runtime (mg_rpc, mg_profile)"
            case .startupPortBoard: return "startup, port and board"
            case .cLibrary: return "C library and compiler runtime"
            case .other: return "other"
            case .unattributed: return "not in a sized symbol (padding)"
            }
        }
    }

    public struct Symbol: Sendable, Equatable {
        public var name: String
        public var address: UInt64
        public var bytes: UInt64
        public var component: Component
    }

    /// Every code symbol, largest first (ties by name, then address, so the order is fixed).
    public var symbols: [Symbol]
    /// Bytes per component; every component is present (0 when empty). Sums to `total`.
    public var byComponent: [Component: UInt64]
    /// The code bytes measured: `FirmwareSize.text`.
    public var total: UInt64
    /// Code bytes per source file from the debug line table (`SourceCodeSize`): the kernel
    /// headers' share of the model's code. Empty without objdump or line info.
    public var bySource: [String: UInt64] = [:]

    /// Runs the toolchain's `nm` on a built firmware. Nil when nm is missing or fails: the
    /// breakdown is a nicety, never a reason to fail a build.
    public static func measure(_ build: FirmwareBuild, modelPrefix: String, modelSource: String,
                               kernelHeaders: Set<String>) -> CodeSize? {
        guard let result = try? runProcess(nm(), ["--print-size", "--size-sort", "--line-numbers", build.elfPath]),
              result.status == 0 else { return nil }
        let rules = Rules(modelPrefix: modelPrefix, modelSource: modelSource, kernelHeaders: kernelHeaders,
                          projectDirectory: URL(fileURLWithPath: build.project.directory).standardizedFileURL.path)
        var code = CodeSize(nmOutput: result.standardOutput, size: build.size, rules: rules)
        code.bySource = SourceCodeSize.measure(elfPath: build.elfPath) ?? [:]
        return code
    }

    /// How symbols are attributed. The defining file (from the debug line info, `nm -l`) is
    /// the surest sign: a kernel's static helper in a kernel header has no model prefix, yet is
    /// the model's code. Names decide when there is no line info.
    struct Rules {
        var modelPrefix: String
        var modelSource: String
        var kernelHeaders: Set<String>
        var projectDirectory: String

        static let startupFiles: Set<String> = ["mg_startup.c", "main.c", "mg_board.c"]
        static let startupPrefixes = ["mg_port", "mg_startup", "mg_uart", "mg_board", "mg_systick", "mg_fault",
                                      "mg_reset", "mg_vector", "mg_exit", "Reset_"]
        static let libraryNames: Set<String> = ["memcpy", "memset", "memmove", "memcmp", "strlen", "strcmp", "strncmp",
                                                "abort", "exit", "_exit", "expf", "logf", "tanhf", "sqrtf", "floorf",
                                                "roundf", "ceilf", "fabsf", "frexpf", "ldexpf", "exp", "log", "round"]

        func component(name: String, file: String?) -> Component {
            let base = file.map { URL(fileURLWithPath: $0).lastPathComponent }
            if name.hasPrefix(modelPrefix + "_") || base == modelSource || base.map(kernelHeaders.contains) == true { return .model }
            if name.hasPrefix("mg_rpc") || name.hasPrefix("mg_profile") || base == "mg_rpc.c" { return .rpcRuntime }
            if let base, Self.startupFiles.contains(base) || base.hasPrefix("mg_port") || base.hasPrefix("mg_uart") { return .startupPortBoard }
            if name == "main" || Self.startupPrefixes.contains(where: name.hasPrefix) || name.hasSuffix("_Handler") { return .startupPortBoard }
            // libc and libgcc are compiled elsewhere: their line info points outside the project.
            if let file, !URL(fileURLWithPath: file).standardizedFileURL.path.hasPrefix(projectDirectory + "/") { return .cLibrary }
            if Self.libraryNames.contains(name) || name.hasPrefix("__") { return .cLibrary }
            return .other
        }
    }

    init(nmOutput: String, size: FirmwareSize, rules: Rules) {
        // The sections FirmwareSize counts as code: the vector table, .text and unwind tables.
        let code = size.sections.filter { section in
            !section.writable && section.name != ".rodata" &&
                (section.executable || section.name.hasPrefix(".ARM") || section.name == ".isr_vector")
        }
        var byAddress: [UInt64: Symbol] = [:]
        for entry in Self.parse(nmOutput) {
            let start = entry.address & ~1  // a Thumb function's address may carry bit 0
            guard code.contains(where: { $0.address <= start && start < $0.address + $0.size }) else { continue }
            let symbol = Symbol(name: entry.name, address: start, bytes: entry.size,
                                component: rules.component(name: entry.name, file: entry.file))
            // Aliases (weak handlers) share an address: count the bytes once, under the name that sorts first.
            if let existing = byAddress[start], existing.name <= symbol.name { continue }
            byAddress[start] = symbol
        }
        symbols = byAddress.values.sorted {
            ($0.bytes, $1.name, $1.address) > ($1.bytes, $0.name, $0.address)
        }
        total = size.text
        var sums = Dictionary(uniqueKeysWithValues: Component.allCases.map { ($0, UInt64(0)) })
        for symbol in symbols { sums[symbol.component, default: 0] += symbol.bytes }
        let attributed = symbols.reduce(0) { $0 + $1.bytes }
        sums[.unattributed] = total > attributed ? total - attributed : 0
        byComponent = sums
    }

    struct Entry: Equatable {
        var address: UInt64
        var size: UInt64
        var type: Character
        var name: String
        var file: String?
    }

    /// Parses `nm --print-size --line-numbers`: "address size type name[<TAB>file:line]". Keeps
    /// text symbols (t, T, w, W) and the read-only objects in the code sections (the vector
    /// table); the caller keeps only those inside code sections.
    static func parse(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            let fields = parts[0].split(separator: " ")
            guard fields.count >= 4, let address = UInt64(fields[0], radix: 16), let size = UInt64(fields[1], radix: 16),
                  let type = fields[2].first, "tTwWrR".contains(type) else { continue }
            var file: String?
            if parts.count == 2, let colon = parts[1].lastIndex(of: ":") { file = String(parts[1][..<colon]) }
            entries.append(Entry(address: address, size: size, type: type, name: String(fields[3]), file: file))
        }
        return entries
    }

    /// The board toolchain's nm, found the way the build finds its other binutils.
    static func nm() -> String {
        for candidate in ["/usr/bin/arm-none-eabi-nm", "/usr/local/bin/arm-none-eabi-nm"]
            where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "arm-none-eabi-nm"
    }
}

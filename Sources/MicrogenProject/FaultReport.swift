import Foundation

/// The line a microgen firmware prints on its UART when the core faults (templates/ports/cortex-m/
/// mg_startup.c; an out-of-band line, see `OutOfBandLineScanner`), decoded: which exception, the
/// fault status registers, and where.
///
///     MG-FAULT UsageFault IPSR=0x00000006 CFSR=0x00010000 HFSR=0x00000000 ... PC=0x00001234 ...
public struct FaultReport: Sendable, Equatable, CustomStringConvertible {
    public static let marker = "MG-FAULT "

    /// "HardFault", "BusFault", ...
    public var exception: String
    /// Register name → value, as printed.
    public var registers: [String: UInt32]
    /// The line as received.
    public var line: String

    /// Parses one line (with or without what precedes the marker). Nil when it is not a report.
    public init?(line text: String) {
        guard let start = text.range(of: Self.marker) else { return nil }
        let body = text[start.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
        var words = body.split(separator: " ").map(String.init)
        guard !words.isEmpty else { return nil }
        exception = words.removeFirst()
        registers = [:]
        for word in words {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let digits = parts[1].hasPrefix("0x") ? String(parts[1].dropFirst(2)) : parts[1]
            if let value = UInt32(digits, radix: 16) { registers[parts[0]] = value }
        }
        line = "MG-FAULT " + body
    }

    /// Set bits of CFSR (MemManage, BusFault and UsageFault status) and HFSR, by name.
    public var causes: [String] {
        var names: [String] = []
        if let cfsr = registers["CFSR"] {
            let bits: [(Int, String)] = [
                (0, "IACCVIOL: instruction fetch from a no-execute or protected region"),
                (1, "DACCVIOL: data access to a protected region"),
                (3, "MUNSTKERR: MPU fault on exception return"),
                (4, "MSTKERR: MPU fault while stacking the exception frame"),
                (5, "MLSPERR: MPU fault during lazy FP state save"),
                (8, "IBUSERR: bus error on instruction fetch"),
                (9, "PRECISERR: precise data bus error"),
                (10, "IMPRECISERR: imprecise data bus error"),
                (11, "UNSTKERR: bus error on exception return"),
                (12, "STKERR: bus error while stacking the exception frame (stack overflow?)"),
                (13, "LSPERR: bus error during lazy FP state save"),
                (16, "UNDEFINSTR: undefined instruction"),
                (17, "INVSTATE: invalid state (Thumb bit clear, bad EPSR)"),
                (18, "INVPC: invalid EXC_RETURN"),
                (19, "NOCP: coprocessor (FPU) disabled or absent"),
                (20, "STKOF: stack overflow (stack limit register)"),
                (24, "UNALIGNED: unaligned access trapped"),
                (25, "DIVBYZERO: integer division by zero"),
            ]
            for (bit, name) in bits where cfsr & (1 << bit) != 0 { names.append(name) }
            if cfsr & (1 << 7) != 0, let address = registers["MMFAR"] { names.append(String(format: "MMFAR (faulting address) = 0x%08X", address)) }
            if cfsr & (1 << 15) != 0, let address = registers["BFAR"] { names.append(String(format: "BFAR (faulting address) = 0x%08X", address)) }
        }
        if let hfsr = registers["HFSR"] {
            if hfsr & (1 << 1) != 0 { names.append("VECTTBL: bus error reading the vector table") }
            if hfsr & (1 << 30) != 0 { names.append("FORCED: a configurable fault escalated to HardFault") }
            if hfsr & (1 << 31) != 0 { names.append("DEBUGEVT: a debug event (BKPT) with no debugger attached; semihosting calls are not served") }
        }
        return names
    }

    /// True when the evidence points at a stack overflow: a stack limit fault, failed stacking,
    /// or a faulting address or stack pointer below the stack's bottom.
    public var looksLikeStackOverflow: Bool {
        let cfsr = registers["CFSR"] ?? 0
        if cfsr & ((1 << 20) | (1 << 12) | (1 << 4)) != 0 { return true }
        guard let bottom = registers["STACK_BOTTOM"] else { return false }
        // ARMv7-M: the MPU guards the stack's lowest 256 bytes.
        func nearBottom(_ address: UInt32) -> Bool { address >= bottom &- 1024 && address < bottom &+ 256 }
        if let sp = registers["SP"], sp < bottom &+ 256, bottom &- sp < 64 * 1024 { return true }
        if cfsr & (1 << 7) != 0, let mmfar = registers["MMFAR"], nearBottom(mmfar) { return true }
        if cfsr & (1 << 15) != 0, let bfar = registers["BFAR"], nearBottom(bfar) { return true }
        return false
    }

    public var description: String {
        var text = exception
        if let pc = registers["PC"] { text += String(format: " at PC=0x%08X", pc) }
        if let lr = registers["LR"] { text += String(format: " (LR=0x%08X)", lr) }
        let causes = self.causes
        if !causes.isEmpty { text += "; " + causes.joined(separator: "; ") }
        if looksLikeStackOverflow { text += "; this looks like a stack overflow: give the board a larger stack_size" }
        text += "\n  " + line
        return text
    }
}

/// Watches a byte stream for the fault line (an out-of-band line, see `OutOfBandLineScanner`).
/// Feed it every byte read; once a complete line has arrived, `report` is set.
public struct FaultLineScanner: Sendable {
    private var lines = OutOfBandLineScanner(marker: FaultReport.marker)

    public init() {}

    public var report: FaultReport? { lines.line.flatMap { FaultReport(line: $0) } }

    /// True once a marker was seen (the line may still be incomplete).
    public var sawMarker: Bool { lines.sawMarker }

    /// Text collected so far after the marker (for a firmware that died mid-line).
    public var partialLine: String { lines.partialLine }

    public mutating func feed(_ bytes: [UInt8]) { lines.feed(bytes) }

    /// Ends the stream: a line cut short still becomes a report if it parses.
    public mutating func finish() { lines.finish() }
}

import Foundation

/// The last line a microgen firmware writes on its UART when it ends, from `mg_exit`
/// (templates/ports/cortex-m/mg_startup.c): after main returns, or after a fault report, with
/// status 128 + the exception number. An out-of-band line (see `OutOfBandLineScanner`):
///
///     }MG-EXIT STATUS=0x00000083
///
/// The status is in hex, the way the fault line writes its registers, so the firmware carries no
/// decimal formatting code.
/// Under QEMU the firmware then requests a system reset, and QEMU, run with `-no-reboot`, exits
/// with status 0 whatever the firmware's: this line is where the status travels.
public struct ExitRecord: Sendable, Equatable, CustomStringConvertible {
    public static let marker = "MG-EXIT "
    static let statusField = "STATUS=0x"

    /// What the firmware passed to mg_exit.
    public var status: Int32

    /// Parses the line from its marker on. Nil when it is not a record.
    public init?(line: String) {
        let field = line.dropFirst(Self.marker.count).trimmingCharacters(in: .whitespaces)
        guard line.hasPrefix(Self.marker), field.hasPrefix(Self.statusField),
              let bits = UInt32(field.dropFirst(Self.statusField.count), radix: 16) else { return nil }
        self.status = Int32(bitPattern: bits)
    }

    public init(status: Int32) {
        self.status = status
    }

    /// The record in `output`, a firmware's whole UART output; nil when it has none.
    public static func find(in output: [UInt8]) -> ExitRecord? {
        var scanner = ExitRecordScanner()
        scanner.feed(output)
        scanner.finish()
        return scanner.record
    }

    /// The firmware's fault handler ends with 128 + the exception number (2 NMI ... 15 SysTick).
    public var exception: Int32? { status >= 128 + 2 && status < 128 + 16 ? status - 128 : nil }

    public var description: String {
        if let exception { return "the firmware stopped after exception \(exception) (status \(status))" }
        return "the firmware returned from main with status \(status)"
    }
}

/// Watches a byte stream for the end-of-run record. Feed it every byte read.
public struct ExitRecordScanner: Sendable {
    private var lines = OutOfBandLineScanner(marker: ExitRecord.marker)

    public init() {}

    public var record: ExitRecord? { lines.line.flatMap { ExitRecord(line: $0) } }

    public mutating func feed(_ bytes: [UInt8]) { lines.feed(bytes) }

    public mutating func finish() { lines.finish() }
}

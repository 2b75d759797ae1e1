import Foundation

/// The last line a microgen firmware writes on its UART when it ends, from `mg_exit`
/// (templates/ports/cortex-m/mg_startup.c): after main returns, or after a fault report, with
/// status 128 + the exception number. An out-of-band line (see `OutOfBandLineScanner`):
///
///     }MG-EXIT 131
///
/// Under QEMU the firmware then requests a system reset, and QEMU, run with `-no-reboot`, exits
/// with status 0 whatever the firmware's: this line is where the status travels.
public struct ExitRecord: Sendable, Equatable, CustomStringConvertible {
    public static let marker = "MG-EXIT "

    /// What the firmware passed to mg_exit.
    public var status: Int32

    /// Parses the line from its marker on. Nil when it is not a record.
    public init?(line: String) {
        guard line.hasPrefix(Self.marker),
              let status = Int32(line.dropFirst(Self.marker.count).trimmingCharacters(in: .whitespaces)) else { return nil }
        self.status = status
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

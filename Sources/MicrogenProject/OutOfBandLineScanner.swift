/// Watches a firmware's UART byte stream for one out-of-band text line: the fault report and the
/// end-of-run record that templates/ports/cortex-m/mg_startup.c writes between or after RPC frames.
///
/// Such a line starts with the byte 0x7D, then its marker ("MG-FAULT ", "MG-EXIT "). In RPC
/// traffic 0x7D is the escape byte and is always followed by 0x5D or 0x5E (docs/protocol.md), so
/// the line cannot be confused with anything a frame carries, whatever its payload.
public struct OutOfBandLineScanner: Sendable {
    /// The byte every out-of-band line starts with (`}` on a terminal).
    public static let lead: UInt8 = 0x7D

    private let pattern: [UInt8]
    private let marker: String
    private var window: [UInt8] = []
    private var collecting = false
    private var lineBytes: [UInt8] = []
    /// The line, from its marker to the end of the line (without the lead byte), once complete.
    public private(set) var line: String?

    public init(marker: String) {
        self.marker = marker
        pattern = [Self.lead] + Array(marker.utf8)
    }

    /// True once the lead byte and marker were seen (the line may still be incomplete).
    public var sawMarker: Bool { collecting || line != nil }

    /// Text collected so far from the marker on (for a firmware that died mid-line).
    public var partialLine: String { String(decoding: lineBytes, as: UTF8.self) }

    public mutating func feed(_ bytes: [UInt8]) {
        for byte in bytes where line == nil {
            if collecting {
                if byte == 0x0A || byte == 0x0D {
                    line = partialLine
                    collecting = false
                } else if lineBytes.count < 1024 {
                    lineBytes.append(byte)
                }
                continue
            }
            window.append(byte)
            if window.count > pattern.count { window.removeFirst(window.count - pattern.count) }
            if window == pattern {
                collecting = true
                lineBytes = Array(marker.utf8)
            }
        }
    }

    /// Ends the stream: a line cut short counts as complete.
    public mutating func finish() {
        if collecting, line == nil {
            line = partialLine
            collecting = false
        }
    }
}

import Foundation
import MicrogenIR

/// Every board description in `boards/` (one JSON file per board: adding a board is adding a file).
public enum BoardCatalog {
    /// All boards, emulated ones first, then by name. Throws on the first invalid file, naming it.
    public static func all(in directory: String? = nil) throws -> [Board] {
        let dir = try directory ?? Resources.boardsDirectory()
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }
        } catch {
            throw MicrogenError(.io, "cannot list board descriptions in \(dir): \(error.localizedDescription)")
        }
        let boards = try names.map { try BoardLoader.load(path: dir + "/" + $0) }
        return boards.sorted { a, b in
            a.isEmulated != b.isEmulated ? a.isEmulated : a.name.localizedStandardCompare(b.name) == .orderedAscending
        }
    }

    /// The board called `name`; the error lists the known boards.
    public static func named(_ name: String, in directory: String? = nil) throws -> Board {
        let dir = try directory ?? Resources.boardsDirectory()
        let path = dir + "/" + name + ".json"
        if FileManager.default.fileExists(atPath: path) { return try BoardLoader.load(path: path) }
        let known = (try? all(in: dir).map(\.name))?.joined(separator: ", ") ?? "none"
        throw MicrogenError(.invalidArgument, "unknown board \"\(name)\" (known boards: \(known); add one as \(dir)/\(name).json)")
    }

    /// Column titles and one row per board, for `microgen boards`.
    public static let tableHeaders = ["board", "core", "clock", "flash", "RAM", "counter", "runs on", "description"]

    public static func tableRow(_ board: Board) -> [String] {
        [board.name, board.core, formatHertz(board.clockHz), formatBytes(board.flashBytes), formatBytes(board.ramBytes),
         board.counter.kind, board.qemu.map { "qemu \($0.machine)" } ?? (board.flash.map { "hardware (\($0.tool))" } ?? "hardware"),
         board.description]
    }

    /// A plain aligned table of `boards`.
    public static func render(_ boards: [Board]) -> String {
        let rows = [tableHeaders] + boards.map(tableRow)
        var widths = [Int](repeating: 0, count: tableHeaders.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var text = cells.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        var out = line(tableHeaders) + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for board in boards { out += line(tableRow(board)) + "\n" }
        return out
    }

    static func formatHertz(_ hz: Int) -> String {
        hz % 1_000_000 == 0 ? "\(hz / 1_000_000) MHz" : String(format: "%.2f MHz", Double(hz) / 1e6)
    }

    /// 1048576 → "1 MB", 327680 → "320 KB".
    public static func formatBytes(_ bytes: UInt64) -> String {
        if bytes >= 1024 * 1024, bytes % (1024 * 1024) == 0 { return "\(bytes / (1024 * 1024)) MB" }
        if bytes >= 1024, bytes % 1024 == 0 { return "\(bytes / 1024) KB" }
        return "\(bytes) B"
    }
}

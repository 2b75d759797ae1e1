import Foundation
import MicrogenIR

/// A self-contained SVG (or HTML page holding it) with one horizontal bar per operator.
public enum ProfileChart {
    public static func svg(_ report: ProfileReport) -> String {
        let rowHeight = 22, labelWidth = 260, barWidth = 520, top = 50
        let height = top + rowHeight * report.operators.count + 30
        let width = labelWidth + barWidth + 160
        let largest = report.operators.map(\.total).max() ?? 1
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="10" y="22" font-size="15" font-weight="bold">\(UntrustedText.markup(report.model)) on \(UntrustedText.markup(report.board)): \(grouped(Int(report.total.rounded()))) \(report.unit) per inference</text>
        <text x="10" y="40" fill="#555">bars: \(report.unit) per operator; labels: share of the total and MACs per \(report.unit == "instructions" ? "instruction" : report.unit)</text>

        """
        for (row, op) in report.operators.enumerated() {
            let y = top + row * rowHeight
            let length = largest > 0 ? Int((op.total / largest * Double(barWidth)).rounded()) : 0
            svg += "<text x=\"10\" y=\"\(y + 15)\">\(op.index) \(UntrustedText.markup(op.kind))</text>\n"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(max(length, 1))\" height=\"\(rowHeight - 6)\" fill=\"#3b7dd8\"><title>\(grouped(Int(op.total.rounded()))) \(report.unit), \(grouped(op.macs)) MACs</title></rect>\n"
            let label = String(format: "%.1f%%", op.share * 100) + (op.macs > 0 ? String(format: "  %.2f MAC/%@", op.macsPerUnit, report.unit == "instructions" ? "instr" : report.unit) : "")
            svg += "<text x=\"\(labelWidth + length + 6)\" y=\"\(y + 15)\" fill=\"#333\">\(label)</text>\n"
        }
        return svg + "</svg>\n"
    }

    public static func html(_ report: ProfileReport) -> String {
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>\(UntrustedText.markup(report.model)) profile</title></head><body>\n" + svg(report) + "</body></html>\n"
    }
}

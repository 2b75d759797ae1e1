import Foundation
import MicrogenIR
import MicrogenCompiler
import MicrogenCodegen

/// The memory plan as a picture (`--memory-chart`): operator steps across, arena addresses up,
/// one box per planned buffer from its first to its last operator at [offset, offset + size),
/// the step(s) of peak live bytes marked, and lines at the arena size and the lower bounds.
/// Self-contained SVG, or an HTML page holding it with a table of the buffers.
///
/// Every box also carries the plan's own numbers (`data-offset`, `data-bytes`, `data-first-use`,
/// `data-last-use`), and the arena line and baseline their byte values, so the picture can be
/// checked against the plan and read back by tools. Pixel positions are printed with a fixed
/// format and buffers are drawn by id, so the same model always gives the same bytes.
public enum MemoryChart {
    public enum Format: Sendable { case svg, html }

    /// The format a file name asks for by its extension; nil for anything but .svg and .html.
    public static func format(forPath path: String) -> Format? {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "svg": return .svg
        case "html", "htm": return .html
        default: return nil
        }
    }

    /// Writes the chart in the format the extension asks for.
    public static func write(_ model: CompiledModel, source: String, to path: String) throws {
        guard let format = format(forPath: path) else {
            throw MicrogenError(.io, "\(path): a memory chart is an .svg or .html file")
        }
        let text = format == .html ? html(model, source: source) : svg(model, source: source)
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw MicrogenError(.io, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Bytes alive at each operator step: the sum of the sizes of the buffers alive there.
    public static func liveBytes(_ model: CompiledModel) -> [Int] {
        model.operators.indices.map { step in model.buffers.reduce(0) { $0 + ($1.isLive(at: step) ? $1.size : 0) } }
    }

    /// The largest live byte count and every step that reaches it (none for an empty model).
    public static func peak(_ model: CompiledModel) -> (bytes: Int, steps: [Int]) {
        let live = liveBytes(model)
        let top = live.max() ?? 0
        return (top, top > 0 ? live.indices.filter { live[$0] == top } : [])
    }

    /// "peak 3,584 bytes at operator 3 (CONV_2D)", naming every step that reaches the peak.
    public static func peakText(_ model: CompiledModel) -> String {
        let (bytes, steps) = peak(model)
        guard !steps.isEmpty else { return "no buffers" }
        let places = steps.map { "\($0) (\(model.operators[$0].kind.rawValue))" }
        return "peak \(grouped(bytes)) bytes at operator\(steps.count > 1 ? "s" : "") " + places.joined(separator: ", ")
    }

    /// Where things go, in pixels. Operator step s spans [x(s), x(s + 1)); arena byte b sits at
    /// y(b), address 0 on the baseline and addresses growing upwards.
    struct Layout {
        // Margins: the bottom one fits the longest operator kind written vertically, the right
        // one the labels of the arena and lower-bound lines.
        static let left = 96, top = 80, plotHeight = 380, right = 260, bottom = 180
        let steps: Int
        let stepWidth: Int
        /// The byte at the top of the plot.
        let ceiling: Int

        init(_ model: CompiledModel) {
            steps = max(model.operators.count, 1)
            stepWidth = min(64, max(18, 840 / steps))
            // The arena (never below the planned lower bound). The lower bound without in-place
            // execution can be far above it; it is noted at the top rather than squashing the plot.
            ceiling = max(model.plan.arenaSize, model.plan.plannedLowerBound, 1)
        }

        var plotWidth: Int { stepWidth * steps }
        var baseline: Int { Self.top + Self.plotHeight }
        var width: Int { Self.left + plotWidth + Self.right }
        var height: Int { Self.top + Self.plotHeight + Self.bottom }
        func x(_ step: Int) -> Int { Self.left + step * stepWidth }
        func y(_ byte: Int) -> Double { Double(baseline) - Double(byte) * Double(Self.plotHeight) / Double(ceiling) }
    }

    public static func svg(_ model: CompiledModel, source: String) -> String {
        let plan = model.plan
        let layout = Layout(model)
        let peakSteps = peak(model).steps

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(layout.width)" height="\(layout.height)" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="10" y="22" font-size="15" font-weight="bold">\(UntrustedText.markup(name(source))): arena \(grouped(plan.arenaSize)) bytes, lower bound \(grouped(plan.lowerBound)) bytes (\(plannerText(plan)))</text>
        <text x="10" y="42" fill="#c92a2a">\(UntrustedText.markup(peakText(model)))</text>
        <text x="10" y="58" fill="#555">boxes: arena buffers, from the first to the last operator that uses them, at their offsets (grey: scratch); hover for details</text>

        """
        svg += yAxis(layout)
        // The peak column goes under the boxes so it tints the gaps; its dashed line goes on top.
        for step in peakSteps {
            svg += "<rect class=\"peak\" data-step=\"\(step)\" x=\"\(layout.x(step))\" y=\"\(Layout.top)\" width=\"\(layout.stepWidth)\" "
            svg += "height=\"\(Layout.plotHeight)\" fill=\"#ffe3e3\"/>\n"
        }
        var colour = 0
        for buffer in model.buffers {
            let fill: String
            if buffer.scratchOperator != nil {
                fill = "#dee2e6"
            } else {
                fill = palette[colour % palette.count]
                colour += 1
            }
            // data-* carry the plan's own numbers, so tools can read the chart back exactly.
            let top = layout.y(buffer.end), bottom = layout.y(buffer.offset)
            svg += "<rect class=\"buffer\" data-buffer=\"\(buffer.id)\" data-offset=\"\(buffer.offset)\" data-bytes=\"\(buffer.size)\" "
            svg += "data-first-use=\"\(buffer.firstUse)\" data-last-use=\"\(buffer.lastUse)\" "
            svg += "x=\"\(layout.x(buffer.firstUse))\" y=\"\(number(top))\" width=\"\(layout.x(buffer.lastUse + 1) - layout.x(buffer.firstUse))\" "
            svg += "height=\"\(number(bottom - top))\" fill=\"\(fill)\" stroke=\"#495057\" stroke-width=\"0.75\">"
            svg += "<title>\(UntrustedText.markup(tooltip(buffer, model)))</title></rect>\n"
        }
        for step in peakSteps {
            let x = layout.x(step) + layout.stepWidth / 2
            svg += "<line class=\"peak\" data-step=\"\(step)\" x1=\"\(x)\" y1=\"\(Layout.top - 8)\" x2=\"\(x)\" y2=\"\(layout.baseline)\" "
            svg += "stroke=\"#c92a2a\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n"
            svg += "<text x=\"\(x)\" y=\"\(Layout.top - 11)\" text-anchor=\"middle\" font-size=\"10\" fill=\"#c92a2a\">peak</text>\n"
        }
        svg += boxLabels(model, layout)
        svg += boundLines(plan, layout)
        svg += xAxis(model, layout)
        return svg + "</svg>\n"
    }

    public static func html(_ model: CompiledModel, source: String) -> String {
        let plan = model.plan
        var page = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>\(UntrustedText.markup(name(source))) memory plan</title>\n"
        page += "<style>body{font-family:sans-serif} table{border-collapse:collapse;font-size:13px} td,th{padding:2px 8px;border-bottom:1px solid #ddd} td.n{text-align:right}</style>\n"
        page += "</head><body>\n"
        page += svg(model, source: source)
        page += "<p>Each box is one arena buffer: it spans the operators from the first to the last that use it (inclusive) "
        page += "and the bytes [offset, offset + size) of the arena. Grey boxes are operators' scratch memory. The shaded "
        page += "column is the operator where the most bytes are live. The dotted green line is the planned lower bound: "
        page += "no placement of these buffers needs less. The dashed blue line is the lower bound if every operator wrote "
        page += "a buffer of its own; in-place execution can plan below it.</p>\n"
        page += "<table>\n"
        let summary: [(String, String)] = [
            ("arena", "\(grouped(plan.arenaSize)) bytes"),
            ("lower bound (peak live bytes, no in-place)", "\(grouped(plan.lowerBound)) bytes"),
            ("planned lower bound (buffers as planned)", "\(grouped(plan.plannedLowerBound)) bytes"),
            ("planner", plan.algorithm.rawValue + (plan.provedOptimal ? ", proved optimal" : ", not proved optimal")),
            ("peak", peakText(model)),
        ]
        for (key, value) in summary { page += "<tr><th align=\"left\">\(UntrustedText.markup(key))</th><td>\(UntrustedText.markup(value))</td></tr>\n" }
        page += "</table>\n<h3>Buffers</h3>\n<table>\n"
        page += "<tr><th>buffer</th><th>tensors</th><th>bytes</th><th>offset</th><th>end</th><th>first op</th><th>last op</th></tr>\n"
        for buffer in model.buffers {
            let cells = [UntrustedText.markup(buffer.scratchOperator.map { "scratch of op \($0)" } ?? "t\(buffer.id)"),
                         buffer.tensors.map { UntrustedText.markup("t\($0) \(model.graph.tensors[$0].name)") }.joined(separator: "<br>")]
            page += "<tr><td>\(cells[0])</td><td>\(cells[1])</td><td class=\"n\">\(grouped(buffer.size))</td><td class=\"n\">\(grouped(buffer.offset))</td>"
            page += "<td class=\"n\">\(grouped(buffer.end))</td><td class=\"n\">\(buffer.firstUse)</td><td class=\"n\">\(buffer.lastUse)</td></tr>\n"
        }
        return page + "</table>\n</body></html>\n"
    }

    // MARK: - Pieces

    /// Soft fills that keep black text readable; cycled over the activation buffers by id.
    private static let palette = ["#a5d8ff", "#b2f2bb", "#ffd8a8", "#d0bfff", "#99e9f2", "#fcc2d7", "#ffec99", "#c0eb75"]

    private static func name(_ source: String) -> String { URL(fileURLWithPath: source).lastPathComponent }

    private static func plannerText(_ plan: MemoryPlan) -> String {
        "planner: \(plan.algorithm.rawValue)\(plan.provedOptimal ? ", proved optimal" : "")"
    }

    private static func tooltip(_ buffer: PlannedBuffer, _ model: CompiledModel) -> String {
        var lines: [String] = []
        if let op = buffer.scratchOperator {
            lines.append("scratch of operator \(op) (\(model.operators[op].kind.rawValue))")
        } else {
            lines += buffer.tensors.map { "tensor \($0): \(model.graph.tensors[$0].name)" }
        }
        lines.append("\(grouped(buffer.size)) bytes at offset \(grouped(buffer.offset))..\(grouped(buffer.end))")
        let kinds = { (step: Int) in model.operators.indices.contains(step) ? model.operators[step].kind.rawValue : "?" }
        lines.append(buffer.firstUse == buffer.lastUse
            ? "live at operator \(buffer.firstUse) (\(kinds(buffer.firstUse)))"
            : "live at operators \(buffer.firstUse) (\(kinds(buffer.firstUse))) to \(buffer.lastUse) (\(kinds(buffer.lastUse)))")
        return lines.joined(separator: "\n")
    }

    /// Gridlines every "nice" number of bytes (1, 2 or 5 times a power of ten), at most six.
    private static func yAxis(_ layout: Layout) -> String {
        var tick = 1, magnitude = 1
        search: while true {
            for factor in [1, 2, 5] where layout.ceiling / (factor * magnitude) <= 6 {
                tick = factor * magnitude
                break search
            }
            magnitude *= 10
        }
        let middle = Layout.top + Layout.plotHeight / 2
        var out = "<text transform=\"translate(16,\(middle)) rotate(-90)\" text-anchor=\"middle\" fill=\"#555\">arena offset (bytes)</text>\n"
        for value in stride(from: 0, through: layout.ceiling, by: tick) {
            let y = layout.y(value)
            out += "<line x1=\"\(Layout.left)\" y1=\"\(number(y))\" x2=\"\(Layout.left + layout.plotWidth)\" y2=\"\(number(y))\" stroke=\"#e9ecef\"/>\n"
            out += "<text x=\"\(Layout.left - 6)\" y=\"\(number(y + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#555\">\(grouped(value))</text>\n"
        }
        return out
    }

    /// The baseline (arena offset 0) and one label per operator step, "index KIND", written
    /// upwards under its column.
    private static func xAxis(_ model: CompiledModel, _ layout: Layout) -> String {
        var out = "<line class=\"baseline\" data-bytes=\"0\" x1=\"\(Layout.left)\" y1=\"\(layout.baseline)\" "
        out += "x2=\"\(Layout.left + layout.plotWidth)\" y2=\"\(layout.baseline)\" stroke=\"#343a40\"/>\n"
        for op in model.operators {
            let x = layout.x(op.index) + layout.stepWidth / 2 + 4
            out += "<text transform=\"translate(\(x),\(layout.baseline + 8)) rotate(-90)\" text-anchor=\"end\" font-size=\"11\">\(op.index) \(UntrustedText.markup(op.kind.rawValue))</text>\n"
        }
        out += "<text x=\"\(Layout.left)\" y=\"\(layout.height - 10)\" fill=\"#555\">operator (execution order)</text>\n"
        return out
    }

    /// Each box's label centred in it: the whole label when it fits, else the tensor number
    /// with as much of the name as fits ("scratch N" for scratch), else nothing.
    private static func boxLabels(_ model: CompiledModel, _ layout: Layout) -> String {
        var out = ""
        for buffer in model.buffers {
            let boxWidth = layout.x(buffer.lastUse + 1) - layout.x(buffer.firstUse)
            let top = layout.y(buffer.end), bottom = layout.y(buffer.offset)
            // About 6 pixels per character at font size 10, and a line needs 11 pixels.
            let room = (boxWidth - 6) / 6
            guard bottom - top >= 11 else { continue }
            let text: String
            if buffer.label.count <= room {
                text = buffer.label
            } else if let op = buffer.scratchOperator {
                guard "scratch \(op)".count <= room else { continue }
                text = "scratch \(op)"
            } else {
                guard "t\(buffer.id)".count + 2 <= room else { continue }
                text = String(buffer.label.prefix(room - 1)) + "…"
            }
            let x = layout.x(buffer.firstUse) + boxWidth / 2
            out += "<text x=\"\(x)\" y=\"\(number((top + bottom) / 2 + 3.5))\" text-anchor=\"middle\" font-size=\"10\" pointer-events=\"none\">\(UntrustedText.markup(text))</text>\n"
        }
        return out
    }

    /// Horizontal lines at the arena size and the lower bounds, labelled at the right. Equal
    /// values share one line and a label of several lines; labels are pushed apart so they
    /// never overlap.
    private static func boundLines(_ plan: MemoryPlan, _ layout: Layout) -> String {
        var marks: [(bytes: Int, names: [String], classes: [String], style: String)] = []
        func add(_ bytes: Int, _ name: String, _ cls: String, _ style: String) {
            if let i = marks.firstIndex(where: { $0.bytes == bytes }) {
                marks[i].names.append(name)
                marks[i].classes.append(cls)
            } else {
                marks.append((bytes, [name], [cls], style))
            }
        }
        add(plan.arenaSize, "arena", "arena", "stroke=\"#212529\" stroke-width=\"2\"")
        add(plan.lowerBound, "lower bound", "lower-bound", "stroke=\"#1971c2\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"")
        add(plan.plannedLowerBound, "planned lower bound", "planned-lower-bound", "stroke=\"#2f9e44\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"")
        var out = ""
        var nextFree = -Double.infinity
        let right = Layout.left + layout.plotWidth
        // Top to bottom, with a bound above the chart last: its note must not push the arena's
        // label away from the arena line.
        let ordered = marks.sorted { ($0.bytes > layout.ceiling ? 1 : 0, $1.bytes) < ($1.bytes > layout.ceiling ? 1 : 0, $0.bytes) }
        for mark in ordered {
            let above = mark.bytes > layout.ceiling
            let y = layout.y(min(mark.bytes, layout.ceiling))
            if !above {
                out += "<line class=\"bound \(mark.classes.joined(separator: " "))\" data-bytes=\"\(mark.bytes)\" x1=\"\(Layout.left)\" y1=\"\(number(y))\" "
                out += "x2=\"\(right + 6)\" y2=\"\(number(y))\" \(mark.style)/>\n"
            }
            var lines = [mark.names[0] + " \(grouped(mark.bytes)) bytes"] + mark.names.dropFirst().map { "= " + $0 }
            if above {
                // Only the bound without in-place execution can be above the arena.
                lines[0] = "↑ " + lines[0]
                lines += ["(above the arena: the bound", "without in-place execution)"]
            }
            var lineY = max(y + 4, nextFree)
            for text in lines {
                out += "<text x=\"\(right + 10)\" y=\"\(number(lineY))\">\(UntrustedText.markup(text))</text>\n"
                lineY += 14
            }
            nextFree = lineY
        }
        return out
    }

    /// Pixel positions with a fixed format, so the file does not depend on how a Double prints.
    private static func number(_ value: Double) -> String { String(format: "%.2f", value) }
}

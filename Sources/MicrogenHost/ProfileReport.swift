import Foundation
import MicrogenIR
import MicrogenCodegen

/// `microgen profile`'s result. The JSON form is a documented interface (docs/profile.md):
/// keys are stable, snake_case and sorted.
public struct ProfileReport: Codable, Sendable {
    public struct OperatorRow: Codable, Sendable {
        public var index: Int
        public var kind: String
        public var macs: Int
        /// Counter units per inference.
        public var total: Double
        /// Fraction of the summed operator time.
        public var share: Double
        /// MACs per counter unit (0 when the operator has no MACs).
        public var macsPerUnit: Double

        enum CodingKeys: String, CodingKey {
            case index, kind, macs, total, share
            case macsPerUnit = "macs_per_unit"
        }
    }

    public var model: String
    public var board: String
    public var runs: Int
    /// "instructions" (QEMU icount), "cycles" (a cycle counter), "ns" (the host board) or "ticks".
    public var unit: String
    /// Per inference, whole run function.
    public var total: Double
    /// total minus the sum of the operators: the run function's own work between operators.
    public var overhead: Double
    public var macs: Int
    public var stackHighWaterBytes: Int?
    public var operators: [OperatorRow]

    enum CodingKeys: String, CodingKey {
        case model, board, runs, unit, total, overhead, macs, operators
        case stackHighWaterBytes = "stack_high_water_bytes"
    }

    public init(model: CompiledModel, board: String, unit: String, perTick: Double, timings: RunTimings, stackHighWater: Int?) {
        let runs = Double(max(timings.runs, 1))
        let perInference = timings.operatorTicks.map { Double($0) * perTick / runs }
        let operatorSum = perInference.reduce(0, +)
        self.model = model.name
        self.board = board
        self.runs = timings.runs
        self.unit = unit
        self.total = Double(timings.totalTicks) * perTick / runs
        self.overhead = total - operatorSum
        self.macs = model.macs
        self.stackHighWaterBytes = stackHighWater
        self.operators = model.operators.enumerated().map { i, op in
            let value = i < perInference.count ? perInference[i] : 0
            return OperatorRow(index: op.index, kind: op.kind.rawValue, macs: op.macs, total: value,
                               share: operatorSum > 0 ? value / operatorSum : 0,
                               macsPerUnit: value > 0 ? Double(op.macs) / value : 0)
        }
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    public func csv() -> String {
        var text = "index,kind,macs,\(unit),share,macs_per_\(unit)\n"
        for op in operators {
            text += "\(op.index),\(op.kind),\(op.macs),\(format(op.total)),\(String(format: "%.6f", op.share)),\(String(format: "%.6f", op.macsPerUnit))\n"
        }
        text += "total,,\(macs),\(format(total)),1,\(String(format: "%.6f", total > 0 ? Double(macs) / total : 0))\n"
        return text
    }

    public func table() -> String {
        var table = TextTable(headers: ["#", "operator", "MACs", unit, "share", "MACs/\(unitAbbreviation)"], rightAligned: [0, 2, 3, 4, 5])
        for op in operators {
            table.add([String(op.index), op.kind, grouped(op.macs), grouped(Int(op.total.rounded())),
                       String(format: "%.1f%%", op.share * 100), op.macs > 0 ? String(format: "%.3f", op.macsPerUnit) : "-"])
        }
        var text = "\(model) on \(board), \(runs) run\(runs == 1 ? "" : "s"), per inference:\n" + table.render()
        text += "total: \(grouped(Int(total.rounded()))) \(unit) for \(grouped(macs)) MACs"
        if total > 0 && macs > 0 { text += String(format: " (%.2f %@/MAC)", total / Double(macs), unit) }
        text += "; operators add up to \(String(format: "%.2f", total > 0 ? (total - overhead) / total * 100 : 0))% of it\n"
        if let stack = stackHighWaterBytes { text += "stack high-water: \(grouped(stack)) bytes\n" }
        if unit == "instructions" {
            text += "(under QEMU -icount shift=0 the counter counts executed instructions: QEMU does not model cycles)\n"
        }
        return text
    }

    private var unitAbbreviation: String {
        switch unit {
        case "instructions": return "instr"
        default: return unit
        }
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}

import Foundation
import MicrogenIR
import MicrogenCodegen

/// What a model needs from a board's memory, estimated from the compiled model before anything
/// is compiled: weights (flash), arena and stack (RAM), plus an allowance for the runtime. The
/// linker has the last word; this catches the hopeless cases early with a clear message.
public struct MemoryBudget: Sendable, Equatable {
    /// One region's demand: what goes there and how much it holds.
    public struct RegionDemand: Sendable, Equatable {
        public var region: Board.MemoryRegion
        public var items: [(name: String, bytes: UInt64)]
        public var needed: UInt64 { items.reduce(0) { $0 + $1.bytes } }
        public var over: Int64 { Int64(needed) - Int64(region.length) }

        public static func == (a: RegionDemand, b: RegionDemand) -> Bool {
            a.region == b.region && a.items.map(\.name) == b.items.map(\.name) && a.items.map(\.bytes) == b.items.map(\.bytes)
        }
    }

    public var modelName: String
    public var boardName: String
    public var demands: [RegionDemand]

    /// Flash the RPC runtime, start-up code, port and libc pieces take at least (measured: about
    /// 6-9 KB at -O2; a lower bound, so a model is never refused wrongly).
    public static let runtimeFlashBytes: UInt64 = 4 * 1024
    /// RAM the runtime takes besides the arena and the stack, at least: the RPC server's state
    /// and frame buffer (measured: about 350 bytes on Cortex-M); the per-operator tick table is
    /// added per operator.
    public static let runtimeRAMBytes: UInt64 = 256
    /// The linker script keeps the arena section at least this big: the fault report's stack.
    public static let minimumArenaSectionBytes = 256

    public static func estimate(model: CompiledModel, board: Board) -> MemoryBudget {
        var demands: [String: RegionDemand] = [:]
        func add(_ regionName: String, _ item: String, _ bytes: UInt64) {
            guard let region = board.region(named: regionName) else { return }
            demands[regionName, default: RegionDemand(region: region, items: [])].items.append((item, bytes))
        }
        add(board.placement.code, "weights", UInt64(model.weightsBytes))
        add(board.placement.code, "runtime code (at least)", runtimeFlashBytes)
        add(board.placement.stack, "stack", UInt64(board.stackSize))
        add(board.placement.arena, "arena", UInt64(max(model.plan.arenaSize, minimumArenaSectionBytes)))
        add(board.placement.data, "runtime data (at least)", runtimeRAMBytes + 8 * UInt64(model.operators.count))
        let ordered = board.memory.compactMap { demands[$0.name] }
        return MemoryBudget(modelName: model.name, boardName: board.name, demands: ordered)
    }

    /// The regions whose estimated demand exceeds their size.
    public var overflows: [RegionDemand] { demands.filter { $0.over > 0 } }

    /// Throws `.doesNotFit` naming every region that is too small and by how many bytes.
    public func check() throws {
        let problems = overflows
        guard !problems.isEmpty else { return }
        let lines = problems.map { demand -> String in
            let parts = demand.items.map { "\($0.name) \(Self.format($0.bytes))" }.joined(separator: " + ")
            return "\(demand.region.name) (\(demand.region.kind.rawValue), \(Self.format(demand.region.length)) bytes) needs \(parts) = \(Self.format(demand.needed)) bytes: over by \(Self.format(UInt64(demand.over))) bytes"
        }
        throw MicrogenError(.doesNotFit, "model \(modelName) does not fit board \(boardName): " + lines.joined(separator: "; "))
    }

    static func format(_ value: UInt64) -> String {
        let digits = String(value)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }
}

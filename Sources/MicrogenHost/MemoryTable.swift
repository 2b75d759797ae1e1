import Foundation
import MicrogenProject
import MicrogenCodegen

/// The memory tables `build` and `inspect` print: one vocabulary for the plan (arena against its
/// lower bounds), for a built firmware (code, stack, flash and RAM against the board), and for
/// the estimate before anything is linked.
public enum MemoryTable {
    /// The plan, and after a board build the firmware's sizes.
    public static func render(_ model: CompiledModel, firmware: FirmwareSize? = nil) -> String {
        let plan = model.plan
        var table = TextTable(headers: ["memory", "bytes", ""], rightAligned: [1])
        table.add(["arena", grouped(plan.arenaSize),
                   "planned by \(plan.algorithm.rawValue), " + (plan.provedOptimal ? "proved optimal" : "not proved optimal")])
        table.add(["arena lower bound", grouped(plan.lowerBound), "peak live bytes if every operator wrote a buffer of its own"])
        table.add(["planned lower bound", grouped(plan.plannedLowerBound), "peak live bytes of the buffers as planned (after in-place merges)"])
        table.add(["weights and constants", grouped(model.weightsBytes), "flash"])
        if let size = firmware {
            table.add(["code", grouped(Int(size.text)), ".text, vector table and unwind tables"])
            table.add(["stack", grouped(Int(size.stack)), "reserved"])
            table.add([".data + .bss", grouped(Int(size.data + size.bss)), "runtime state"])
            table.add(["flash", grouped(Int(size.flash)), ".text + .rodata + .data"])
            table.add(["RAM", grouped(Int(size.ram)), "arena + .data + .bss + stack"])
        }
        var out = table.render()
        if let size = firmware { out += "\n" + capacity(size) }
        return out
    }

    /// Each memory region of the board: bytes used against its size.
    static func capacity(_ size: FirmwareSize) -> String {
        var table = TextTable(headers: ["region", "kind", "used", "size", "use"], rightAligned: [2, 3, 4])
        for use in size.regions {
            table.add([use.region.name, use.region.kind.rawValue, grouped(Int(use.used)), grouped(Int(use.region.length)),
                       percent(Double(use.used), of: Double(use.region.length))])
        }
        return table.render()
    }

    /// What `ProjectEmitter` would check before building: per region, what the model needs at
    /// least (the linker has the last word), against the region's size.
    public static func estimate(_ budget: MemoryBudget) -> String {
        var table = TextTable(headers: ["region (\(budget.boardName), estimate)", "kind", "needs", "size", "use", "for"],
                              rightAligned: [2, 3, 4])
        for demand in budget.demands {
            let items = demand.items.map { "\($0.name) \(grouped(Int($0.bytes)))" }.joined(separator: " + ")
            table.add([demand.region.name, demand.region.kind.rawValue, grouped(Int(demand.needed)), grouped(Int(demand.region.length)),
                       percent(Double(demand.needed), of: Double(demand.region.length)), items])
        }
        return table.render()
    }

    /// Code bytes per component, largest first, with their share of the code.
    public static func code(_ code: CodeSize) -> String {
        var table = TextTable(headers: ["code by component", "bytes", "share"], rightAligned: [1, 2])
        let rows = CodeSize.Component.allCases.map { ($0, code.byComponent[$0] ?? 0) }
            .sorted { ($0.1, $1.0.rawValue) > ($1.1, $0.0.rawValue) }
        for (component, bytes) in rows where bytes > 0 {
            table.add([component.title, grouped(Int(bytes)), percent(Double(bytes), of: Double(code.total))])
        }
        table.add(["total", grouped(Int(code.total)), ""])
        var out = table.render()
        // The kernels are inlined into the run function: the line table tells their shares.
        let kernels = code.bySource.filter { $0.key.hasPrefix("mg_") && $0.key.hasSuffix(".h") }
            .sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        if !kernels.isEmpty {
            var byKernel = TextTable(headers: ["code by kernel header", "bytes", "share"], rightAligned: [1, 2])
            for (file, bytes) in kernels {
                byKernel.add([file, grouped(Int(bytes)), percent(Double(bytes), of: Double(code.total))])
            }
            out += "\n" + byKernel.render()
        }
        return out
    }

    private static func percent(_ part: Double, of whole: Double) -> String {
        String(format: "%.1f%%", whole > 0 ? 100 * part / whole : 0)
    }
}

import MicrogenIR
import MicrogenCompiler

/// One arena buffer as planned: where it lives and while which operators it is alive. The memory
/// report and chart need lifetimes, which `MemoryPlan` (offsets only) does not keep.
public struct PlannedBuffer: Sendable, Equatable {
    /// The planner's id: the index of the first tensor stored in the buffer, or, for scratch,
    /// the tensor count plus the operator index.
    public var id: Int
    public var size: Int
    public var offset: Int
    /// The first and last operator steps (inclusive) at which the buffer is alive.
    public var firstUse: Int
    public var lastUse: Int
    /// The activation tensors stored in it, ascending: more than one when an alias or an in-place
    /// output shares it. Empty for scratch.
    public var tensors: [Int]
    /// The operator whose scratch memory this is; nil for an activation buffer.
    public var scratchOperator: Int?
    /// "t12 name" for an activation buffer (its first tensor), "scratch of op 3" for scratch.
    public var label: String

    public var end: Int { offset + size }

    public func isLive(at step: Int) -> Bool { firstUse <= step && step <= lastUse }

    /// Every buffer of `assignment` with its offset in `plan`, ordered by id so the list (and
    /// everything drawn from it) is the same on every run.
    public static func list(_ assignment: BufferAssignment, plan: MemoryPlan, graph: Graph) -> [PlannedBuffer] {
        var tensorsOfBuffer: [Int: [Int]] = [:]
        for index in graph.tensors.indices {
            if let buffer = assignment.buffer(of: index) { tensorsOfBuffer[buffer, default: []].append(index) }
        }
        return assignment.requests.sorted { $0.id < $1.id }.compactMap { request in
            guard let offset = plan.offsets[request.id] else { return nil }
            let isScratch = request.id >= graph.tensors.count
            let scratchOperator = isScratch ? request.id - graph.tensors.count : nil
            let label = scratchOperator.map { "scratch of op \($0)" } ?? "t\(request.id) \(graph.tensors[request.id].name)"
            return PlannedBuffer(id: request.id, size: request.size, offset: offset, firstUse: request.firstUse,
                                 lastUse: request.lastUse, tensors: tensorsOfBuffer[request.id] ?? [],
                                 scratchOperator: scratchOperator, label: label)
        }
    }
}

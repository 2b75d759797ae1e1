/// What is wrong with a set of requests (duplicate ids, negative sizes, a lifetime that ends
/// before it starts), or nil when the planner can take them.
public func checkRequests(_ requests: [BufferRequest]) -> String? {
    var seen = Set<Int>()
    for request in requests {
        if !seen.insert(request.id).inserted { return "buffer id \(request.id) appears twice" }
        if request.size < 0 { return "buffer \(request.id) has a negative size (\(request.size))" }
        if request.firstUse > request.lastUse {
            return "buffer \(request.id) is last used (operator \(request.lastUse)) before its first use (operator \(request.firstUse))"
        }
    }
    return nil
}

/// Why `plan` cannot run `requests`, or nil when it can: every buffer has an aligned offset, lies
/// inside the arena, and shares no byte with any buffer alive at the same time. Used on every
/// plan the planner returns; tests use it on plans of their own.
public func validate(_ plan: MemoryPlan, _ requests: [BufferRequest], alignment: Int = 16) -> String? {
    if let problem = checkRequests(requests) { return problem }
    if plan.arenaSize % alignment != 0 { return "the arena size \(plan.arenaSize) is not a multiple of \(alignment)" }
    var placed: [(request: BufferRequest, offset: Int)] = []
    for request in requests {
        guard let offset = plan.offsets[request.id] else { return "buffer \(request.id) has no offset" }
        if offset < 0 { return "buffer \(request.id) has a negative offset (\(offset))" }
        if offset % alignment != 0 { return "buffer \(request.id) at offset \(offset) is not aligned to \(alignment) bytes" }
        if offset + request.size > plan.arenaSize {
            return "buffer \(request.id) (\(request.size) bytes at offset \(offset)) ends past the arena (\(plan.arenaSize) bytes)"
        }
        placed.append((request, offset))
    }
    // Sweep by first use so each buffer is only compared with buffers that start no later.
    placed.sort { ($0.request.firstUse, $0.request.id) < ($1.request.firstUse, $1.request.id) }
    for (i, a) in placed.enumerated() {
        for b in placed[(i + 1)...] {
            if b.request.firstUse > a.request.lastUse { break }
            let disjoint = a.offset + a.request.size <= b.offset || b.offset + b.request.size <= a.offset
            if !disjoint, a.request.size > 0, b.request.size > 0 {
                return "buffers \(a.request.id) (bytes \(a.offset)..<\(a.offset + a.request.size), operators "
                    + "\(a.request.firstUse)...\(a.request.lastUse)) and \(b.request.id) (bytes \(b.offset)..<\(b.offset + b.request.size), "
                    + "operators \(b.request.firstUse)...\(b.request.lastUse)) are alive together and overlap"
            }
        }
    }
    return nil
}

/// One buffer to place in the arena: `size` bytes, alive from operator `firstUse` to `lastUse`
/// (inclusive; model inputs start at 0 and model outputs end at the last operator).
public struct BufferRequest: Sendable, Hashable {
    public var id: Int
    public var size: Int
    public var firstUse: Int
    public var lastUse: Int

    public init(id: Int, size: Int, firstUse: Int, lastUse: Int) {
        self.id = id
        self.size = size
        self.firstUse = firstUse
        self.lastUse = lastUse
    }

    func overlapsInTime(_ other: BufferRequest) -> Bool {
        firstUse <= other.lastUse && other.firstUse <= lastUse
    }
}

/// Where every buffer lives in the arena.
public struct MemoryPlan: Sendable {
    public var offsets: [Int: Int]
    public var arenaSize: Int
    /// The largest total size of buffers alive at the same time: no plan without in-place
    /// execution can use less.
    public var lowerBound: Int
}

/// Greedy by size: place the largest buffers first, each at the lowest aligned offset where it
/// does not collide with an already placed buffer that is alive at the same time.
/// Deterministic: ties are broken by first use, then id.
public func planMemory(_ requests: [BufferRequest], alignment: Int = 16) -> MemoryPlan {
    let order = requests.sorted {
        ($0.size, -$0.firstUse, -$0.id) > ($1.size, -$1.firstUse, -$1.id)
    }
    var placed: [(request: BufferRequest, offset: Int)] = []
    var offsets: [Int: Int] = [:]
    var arenaSize = 0
    for request in order {
        let conflicts = placed.filter { $0.request.overlapsInTime(request) }.sorted { $0.offset < $1.offset }
        var offset = 0
        for conflict in conflicts {
            if offset + request.size <= conflict.offset { break }
            offset = max(offset, align(conflict.offset + conflict.request.size, alignment))
        }
        offsets[request.id] = offset
        placed.append((request, offset))
        arenaSize = max(arenaSize, offset + request.size)
    }
    return MemoryPlan(offsets: offsets, arenaSize: align(arenaSize, alignment), lowerBound: liveBytesPeak(requests))
}

func align(_ value: Int, _ alignment: Int) -> Int {
    (value + alignment - 1) / alignment * alignment
}

/// The peak, over operators, of the bytes of all buffers alive at that operator.
public func liveBytesPeak(_ requests: [BufferRequest]) -> Int {
    guard let last = requests.map(\.lastUse).max(), let first = requests.map(\.firstUse).min() else { return 0 }
    var peak = 0
    for step in first...last {
        peak = max(peak, requests.filter { $0.firstUse <= step && step <= $0.lastUse }.reduce(0) { $0 + $1.size })
    }
    return peak
}

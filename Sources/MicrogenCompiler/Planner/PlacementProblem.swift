/// The buffers of one planning problem, numbered 0..<count in id order (so the input order of
/// the requests never matters), with what every algorithm needs computed once: which buffers
/// are alive together, and the smallest arena any plan could have.
struct PlacementProblem {
    let requests: [BufferRequest]
    let alignment: Int
    let sizes: [Int]
    /// For each buffer, the buffers alive at the same time as it (itself excluded), ascending.
    let conflicts: [[Int]]
    /// The same lists end to end (buffer b's are conflictList[conflictStart[b]..<conflictStart[b + 1]]).
    let conflictStart: [Int]
    let conflictList: [Int]
    /// Peak live bytes.
    let lowerBound: Int
    /// No aligned arena can be smaller: at every step, each live buffer but the topmost one
    /// occupies its size rounded up to the alignment, since the next one starts on a boundary.
    let alignedLowerBound: Int

    var count: Int { requests.count }

    init(_ requests: [BufferRequest], alignment: Int) {
        let sorted = requests.sorted { $0.id < $1.id }
        self.requests = sorted
        self.alignment = alignment
        let n = sorted.count
        var conflicts = Array(repeating: [Int](), count: n)
        let byStart = (0..<n).sorted { (sorted[$0].firstUse, $0) < (sorted[$1].firstUse, $1) }
        for (position, a) in byStart.enumerated() {
            for b in byStart[(position + 1)...] {
                if sorted[b].firstUse > sorted[a].lastUse { break }
                conflicts[a].append(b)
                conflicts[b].append(a)
            }
        }
        self.conflicts = conflicts.map { $0.sorted() }
        sizes = sorted.map(\.size)
        var starts = [0]
        for list in self.conflicts { starts.append(starts.last! + list.count) }
        conflictStart = starts
        conflictList = self.conflicts.flatMap { $0 }

        let steps = LiveSteps(sorted)
        let live = steps.sums { sorted[$0].size }
        let padded = steps.sums { align(sorted[$0].size, alignment) }
        let largestPadding = steps.maxima { align(sorted[$0].size, alignment) - sorted[$0].size }
        lowerBound = live.max() ?? 0
        alignedLowerBound = steps.starts.indices.map { align(padded[$0] - largestPadding[$0], alignment) }.max() ?? 0
    }

    /// The lowest aligned offset at which buffer `b` overlaps no placed buffer alive with it.
    /// `offsets[i]` is -1 for a buffer not placed yet.
    func lowestFit(_ b: Int, offsets: [Int]) -> Int {
        offsets.withUnsafeBufferPointer { lowestFit(b, offsets: $0) }
    }

    /// Every buffer at its lowest fit, in the given order (a permutation of 0..<count). Every
    /// plan is reachable this way: placing the buffers of any plan in order of their offsets
    /// puts each one no higher than it was.
    func place(_ order: [Int]) -> Placement {
        var offsets = Array(repeating: -1, count: count)
        var top = 0
        offsets.withUnsafeMutableBufferPointer { placed in
            for b in order {
                let offset = lowestFit(b, offsets: UnsafeBufferPointer(placed))
                placed[b] = offset
                top = max(top, offset + sizes[b])
            }
        }
        return Placement(offsets: offsets, arena: align(top, alignment))
    }

    /// The search loops run this millions of times, so it avoids sorting and allocation: jump
    /// above every placed conflict the candidate range overlaps until none does. Each jump passes
    /// only offsets where some conflict overlaps, so the first range left free is the lowest.
    private func lowestFit(_ b: Int, offsets: UnsafeBufferPointer<Int>) -> Int {
        conflictList.withUnsafeBufferPointer { list in
            sizes.withUnsafeBufferPointer { sizes in
                let size = sizes[b]
                var candidate = 0
                var moved = true
                while moved {
                    moved = false
                    for k in conflictStart[b]..<conflictStart[b + 1] {
                        let c = list[k]
                        let offset = offsets[c]
                        if offset >= 0 && offset < candidate + size && candidate < offset + sizes[c] {
                            candidate = (offset + sizes[c] + alignment - 1) / alignment * alignment
                            moved = true
                        }
                    }
                }
                return candidate
            }
        }
    }

    /// Every buffer after the previous one: always valid, never good.
    func stacked() -> Placement {
        var offsets: [Int] = []
        var top = 0
        for r in requests {
            offsets.append(top)
            top = align(top + r.size, alignment)
        }
        return Placement(offsets: offsets, arena: top)
    }

    func plan(_ placement: Placement, algorithm: PlannerAlgorithm, provedOptimal: Bool = false) -> MemoryPlan {
        var offsets: [Int: Int] = [:]
        for (i, r) in requests.enumerated() { offsets[r.id] = placement.offsets[i] }
        return MemoryPlan(offsets: offsets, arenaSize: placement.arena, lowerBound: lowerBound,
                          algorithm: algorithm, provedOptimal: provedOptimal)
    }
}

/// Offsets by buffer number, and the arena they need (rounded up to the alignment).
struct Placement {
    var offsets: [Int]
    var arena: Int
}

/// Branch and bound that finds an optimal plan of up to `maximumBuffers` buffers, or proves that
/// the plan it was given is one.
///
/// Search space: buffers are placed one at a time at their lowest fit, in order of
/// non-decreasing offset (ties by buffer number). This loses no plan: take an optimal plan and
/// move every buffer down while it can go lower without overlapping anything (the arena does not
/// grow); placing the buffers of that plan in order of offset puts each exactly where it was,
/// because the buffers alive with it and placed later all lie above it.
///
/// Pruning: a buffer that would fit entirely below the last offset can no longer be placed in
/// order, so the branch is dead; two buffers of the same size and lifetime are placed in one
/// order only; and a branch whose lower bound (see `bound`) is not below the best arena so far
/// is cut.
///
/// The search stops after `nodeBudget(buffers:)` nodes (a count, not a time, so results never depend on
/// the machine); `complete` says whether it finished, i.e. whether the result is proved optimal.
struct ExactSearch {
    static let maximumBuffers = 30
    /// Nodes cost about one step per buffer, so the budget shrinks with the buffer count: a
    /// fraction of a second even in a debug build.
    static func nodeBudget(buffers: Int) -> Int { 600_000 / max(buffers, 1) }

    private let problem: PlacementProblem
    private let upperBound: Int

    /// `upperBound`: the arena of the best plan already known; only a smaller one is returned.
    init(_ problem: PlacementProblem, upperBound: Int) {
        self.problem = problem
        self.upperBound = upperBound
    }

    func run() -> (placement: Placement?, complete: Bool) {
        if upperBound <= problem.alignedLowerBound { return (nil, true) }
        let state = ExactSearchState(problem, upperBound: upperBound, nodeBudget: Self.nodeBudget(buffers: problem.count))
        state.search(floor: 0, last: -1, top: 0, placed: 0)
        let placement = state.bestOffsets.map { Placement(offsets: $0, arena: state.best) }
        return (placement, !state.exhausted)
    }
}

private final class ExactSearchState {
    let problem: PlacementProblem
    let n: Int
    let sizes: [Int]
    let alignedSizes: [Int]
    /// The most any buffer's size is rounded up by: only the topmost buffer at a step escapes it.
    let largestPadding: Int
    /// Each buffer's lifetime in "start steps" (the steps where some buffer starts: the only
    /// ones where a sum over live buffers can peak), first and last.
    let firstStep: [Int]
    let lastStep: [Int]

    /// For two buffers of the same size and lifetime, only the lower-numbered one may be placed
    /// first (swapping them changes nothing): each buffer's nearest such twin below it, or -1.
    let twinBelow: [Int]

    var offsets: [Int]
    /// The lowest fit of every buffer not placed yet, kept current as buffers are placed (only
    /// the buffers alive with a newly placed one can move).
    var fits: [Int]
    var savedFits: [(buffer: Int, fit: Int)] = []
    /// Per start step, the top of the placed buffer reaching above the floor (scratch for `bound`).
    var ceiling: [Int]
    /// Per buffer not placed yet, the lowest offset it can still get (scratch for `bound`).
    var release: [Int]

    var best: Int
    var bestOffsets: [Int]?
    var nodes = 0
    let nodeBudget: Int
    var exhausted = false

    init(_ problem: PlacementProblem, upperBound: Int, nodeBudget: Int) {
        self.problem = problem
        n = problem.count
        sizes = problem.sizes
        alignedSizes = sizes.map { align($0, problem.alignment) }
        largestPadding = zip(alignedSizes, sizes).map { $0 - $1 }.max() ?? 0
        let starts = Set(problem.requests.map(\.firstUse)).sorted()
        firstStep = problem.requests.map { r in starts.firstIndex(of: r.firstUse)! }
        lastStep = problem.requests.map { r in starts.lastIndex { $0 <= r.lastUse }! }
        var twins = Array(repeating: -1, count: n)
        for b in 0..<n {
            let r = problem.requests[b]
            twins[b] = (0..<b).last { c in
                let o = problem.requests[c]
                return o.size == r.size && o.firstUse == r.firstUse && o.lastUse == r.lastUse
            } ?? -1
        }
        twinBelow = twins
        offsets = Array(repeating: -1, count: n)
        fits = Array(repeating: 0, count: n)
        ceiling = Array(repeating: 0, count: starts.count)
        release = Array(repeating: 0, count: n)
        best = upperBound
        self.nodeBudget = nodeBudget
    }

    func search(floor: Int, last: Int, top: Int, placed: Int) {
        if placed == n {
            let arena = align(top, problem.alignment)
            if arena < best {
                best = arena
                bestOffsets = offsets
            }
            return
        }
        // A plan at the lower bound cannot be beaten: stop searching.
        if best <= problem.alignedLowerBound { return }
        nodes += 1
        if nodes > nodeBudget {
            exhausted = true
            return
        }
        if bound(floor: floor, top: top) >= best { return }

        var candidates: [(offset: Int, buffer: Int)] = []
        for b in 0..<n where offsets[b] < 0 {
            let offset = fits[b]
            // A hole entirely below the floor stays free (everything placed from now on lies
            // above the floor), so this buffer could never be placed in order: a dead branch.
            if offset + sizes[b] <= floor && sizes[b] > 0 { return }
            if offset < floor || (offset == floor && b < last) { continue }
            if twinBelow[b] >= 0 && offsets[twinBelow[b]] < 0 { continue }
            if align(offset + sizes[b], problem.alignment) >= best { continue }
            candidates.append((offset, b))
        }
        candidates.sort { ($0.offset, -sizes[$0.buffer], $0.buffer) < ($1.offset, -sizes[$1.buffer], $1.buffer) }
        for (offset, b) in candidates {
            place(b, at: offset)
            search(floor: offset, last: b, top: max(top, offset + sizes[b]), placed: placed + 1)
            unplace(b)
            if exhausted { return }
        }
    }

    private func place(_ b: Int, at offset: Int) {
        offsets[b] = offset
        savedFits.append((-1, 0)) // marks where this placement's saved fits begin
        for c in problem.conflicts[b] where offsets[c] < 0 {
            let fit = problem.lowestFit(c, offsets: offsets)
            if fit != fits[c] {
                savedFits.append((c, fits[c]))
                fits[c] = fit
            }
        }
    }

    private func unplace(_ b: Int) {
        while let saved = savedFits.popLast(), saved.buffer >= 0 { fits[saved.buffer] = saved.fit }
        offsets[b] = -1
    }

    /// The smallest (aligned) arena any completion of the current placement can have.
    ///
    /// Placed buffers all start at or below the floor, so at each step at most one of them
    /// reaches above it, and everything still to place at that step goes above that one: its
    /// ceiling. A buffer still to place lies at or above its lowest fit and above the ceiling of
    /// every step it lives through (its release offset). At each step, the buffers still to
    /// place then need at least the stack built by taking them in order of release offset, each
    /// at its release offset or on top of the previous one (the optimum for one step).
    private func bound(floor: Int, top: Int) -> Int {
        // Unsafe buffers: this runs at every node, and checked array access dominates otherwise.
        let n = self.n, padding = largestPadding
        return offsets.withUnsafeBufferPointer { offsets in
            alignedSizes.withUnsafeBufferPointer { alignedSizes in
                firstStep.withUnsafeBufferPointer { firstStep in
                    lastStep.withUnsafeBufferPointer { lastStep in
                        fits.withUnsafeBufferPointer { fits in
                            ceiling.withUnsafeMutableBufferPointer { ceiling in
                                release.withUnsafeMutableBufferPointer { release in
                                    for s in 0..<ceiling.count { ceiling[s] = floor }
                                    for b in 0..<n where offsets[b] >= 0 && offsets[b] + alignedSizes[b] > floor {
                                        for s in firstStep[b]...lastStep[b] { ceiling[s] = max(ceiling[s], offsets[b] + alignedSizes[b]) }
                                    }
                                    var pending: [Int] = []
                                    for b in 0..<n where offsets[b] < 0 {
                                        var r = max(floor, fits[b])
                                        for s in firstStep[b]...lastStep[b] { r = max(r, ceiling[s]) }
                                        release[b] = r
                                        pending.append(b)
                                    }
                                    pending.sort { release[$0] < release[$1] }
                                    var result = top
                                    for s in 0..<ceiling.count {
                                        var stack = -1
                                        for b in pending where firstStep[b] <= s && s <= lastStep[b] {
                                            stack = max(stack, release[b]) + alignedSizes[b]
                                        }
                                        if stack >= 0 { result = max(result, stack - padding) }
                                    }
                                    return align(result, problem.alignment)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

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

/// The planning algorithms, in the order `planMemory` tries them (ties go to the earlier one).
public enum PlannerAlgorithm: String, Sendable, CaseIterable {
    case greedyBySize = "greedy by size"
    case greedyByBreadth = "greedy by breadth"
    case greedyByConflicts = "greedy by conflicts"
    case improvingSearch = "improving search"
    case exactSearch = "exact search"
    /// Every buffer after the previous one: only used if every other plan were invalid.
    case stacked = "stacked"
}

/// Where every buffer lives in the arena.
public struct MemoryPlan: Sendable {
    public var offsets: [Int: Int]
    public var arenaSize: Int
    /// The largest total size of buffers alive at the same time without in-place execution: no
    /// plan that copies every operator's output into its own buffer can use less.
    public var lowerBound: Int
    /// The same bound for the buffers actually planned. Below `lowerBound` when in-place
    /// execution merged an operator's output into one of its inputs.
    public var plannedLowerBound: Int
    /// The algorithm whose plan was kept.
    public var algorithm: PlannerAlgorithm
    /// True when no valid plan of these buffers can have a smaller arena (the arena meets the
    /// aligned lower bound, or the exact search finished).
    public var provedOptimal: Bool

    public init(offsets: [Int: Int], arenaSize: Int, lowerBound: Int, plannedLowerBound: Int? = nil,
                algorithm: PlannerAlgorithm = .greedyBySize, provedOptimal: Bool = false) {
        self.offsets = offsets
        self.arenaSize = arenaSize
        self.lowerBound = lowerBound
        self.plannedLowerBound = plannedLowerBound ?? lowerBound
        self.algorithm = algorithm
        self.provedOptimal = provedOptimal
    }
}

/// Places every buffer in one arena so that buffers alive at the same time never share a byte,
/// every offset is a multiple of `alignment`, and the arena is as small as the algorithms can
/// make it: greedy by size, by breadth and by conflicts; then, unless one of them met the lower
/// bound, an improving search over placement orders and, if that does not meet it either, an
/// exact search (up to `ExactSearch.maximumBuffers` buffers) that finds the optimum or proves
/// the best plan so far optimal. Every plan is checked with `validate`; the smallest valid one
/// is kept. Deterministic: the result depends only on the set of requests (not their order),
/// never on time. Request ids must be unique.
public func planMemory(_ requests: [BufferRequest], alignment: Int = 16) -> MemoryPlan {
    precondition(alignment > 0, "alignment must be positive")
    if let problem = checkRequests(requests) { preconditionFailure("planMemory: \(problem)") }
    let problem = PlacementProblem(requests, alignment: alignment)
    var best: (placement: Placement, algorithm: PlannerAlgorithm)?
    var bestOrder: [Int] = []

    func consider(_ placement: Placement, _ algorithm: PlannerAlgorithm, order: [Int]? = nil) {
        if let error = validate(problem.plan(placement, algorithm: algorithm), requests, alignment: alignment) {
            assertionFailure("\(algorithm.rawValue) produced an invalid plan: \(error)")
            return
        }
        if best == nil || placement.arena < best!.placement.arena {
            best = (placement, algorithm)
            if let order { bestOrder = order }
        }
    }
    var solved: Bool { best.map { $0.placement.arena <= problem.alignedLowerBound } ?? false }

    for (algorithm, order) in greedyOrders(problem) {
        consider(problem.place(order), algorithm, order: order)
    }
    // The improving search usually reaches the lower bound quickly when it can be reached; the
    // exact search then only has to prove (or find) the optimum of small problems that cannot.
    if !solved, !bestOrder.isEmpty {
        let improved = improvingSearch(problem, from: bestOrder)
        consider(improved.placement, .improvingSearch, order: improved.order)
    }
    var proved = solved
    if !proved, problem.count <= ExactSearch.maximumBuffers, let incumbent = best?.placement.arena {
        let exact = ExactSearch(problem, upperBound: incumbent).run()
        if let placement = exact.placement { consider(placement, .exactSearch) }
        proved = exact.complete || solved
    }
    if best == nil { consider(problem.stacked(), .stacked) }
    guard let chosen = best else { preconditionFailure("planMemory: even the stacked plan is invalid") }
    return problem.plan(chosen.placement, algorithm: chosen.algorithm, provedOptimal: proved)
}

func align(_ value: Int, _ alignment: Int) -> Int {
    (value + alignment - 1) / alignment * alignment
}

/// The peak, over operators, of the bytes of all buffers alive at that operator.
public func liveBytesPeak(_ requests: [BufferRequest]) -> Int {
    LiveSteps(requests).sums { requests[$0].size }.max() ?? 0
}

/// One algorithm on its own (for tests and comparisons): the greedy planners, the improving
/// search started from greedy by size, or the exact search with no incumbent (nil if it ran out
/// of budget before finding any plan).
func planMemory(_ requests: [BufferRequest], alignment: Int = 16, using algorithm: PlannerAlgorithm) -> MemoryPlan? {
    let problem = PlacementProblem(requests, alignment: alignment)
    let greedy = greedyOrders(problem)
    switch algorithm {
    case .greedyBySize, .greedyByBreadth, .greedyByConflicts:
        guard let order = greedy.first(where: { $0.0 == algorithm })?.1 else { return nil }
        return problem.plan(problem.place(order), algorithm: algorithm)
    case .improvingSearch:
        return problem.plan(improvingSearch(problem, from: greedy[0].1).placement, algorithm: algorithm)
    case .exactSearch:
        let exact = ExactSearch(problem, upperBound: problem.stacked().arena + alignment).run()
        return exact.placement.map { problem.plan($0, algorithm: algorithm, provedOptimal: exact.complete) }
    case .stacked:
        return problem.plan(problem.stacked(), algorithm: algorithm)
    }
}

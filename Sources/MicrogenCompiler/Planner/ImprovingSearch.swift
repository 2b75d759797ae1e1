import MicrogenIR

/// Simulated annealing over placement orders: every order decodes to a plan (each buffer at its
/// lowest fit), and some order decodes to an optimal plan, so searching orders searches plans.
///
/// A move swaps two buffers in the order or moves one to another position. A worse order is
/// accepted with probability exp(-increase / temperature), the temperature falling linearly to
/// zero, so the search can leave a local minimum early and settles at the end. The budget is a
/// number of decoded orders, not a time, and the random numbers come from a fixed seed, so the
/// same requests always give the same plan.
func improvingSearch(_ problem: PlacementProblem, from start: [Int], seed: UInt64 = 0x5EED_0F_A7E4A) -> (order: [Int], placement: Placement) {
    let n = problem.count
    let startPlacement = problem.place(start)
    guard n >= 2 else { return (start, startPlacement) }

    var random = SplitMix64(seed: seed)
    var order = start, placement = startPlacement
    var energy = annealingEnergy(placement, problem)
    var best = (order: order, placement: placement)
    let iterations = improvingSearchBudget(problem)
    let startTemperature = 0.02 * Double(max(startPlacement.arena, 1))

    for iteration in 0..<iterations {
        if best.placement.arena <= problem.alignedLowerBound { break }
        var candidate = order
        let i = random.next(below: n)
        var j = random.next(below: n - 1)
        if j >= i { j += 1 }
        if random.next(below: 2) == 0 {
            candidate.swapAt(i, j)
        } else {
            let moved = candidate.remove(at: i)
            candidate.insert(moved, at: j)
        }
        let decoded = problem.place(candidate)
        let candidateEnergy = annealingEnergy(decoded, problem)
        let temperature = startTemperature * Double(iterations - iteration) / Double(iterations)
        let increase = candidateEnergy - energy
        if increase <= 0 || (temperature > 0 && random.unit() < exponential(-increase / temperature)) {
            order = candidate
            placement = decoded
            energy = candidateEnergy
            if decoded.arena < best.placement.arena { best = (candidate, decoded) }
        }
    }
    return best
}

/// The arena, plus a small pull toward low offsets: many orders give the same arena, and among
/// them those that keep buffers low leave more room to improve.
private func annealingEnergy(_ placement: Placement, _ problem: PlacementProblem) -> Double {
    var sumOfEnds = 0
    for (b, offset) in placement.offsets.enumerated() { sumOfEnds += offset + problem.requests[b].size }
    return Double(placement.arena) + 0.01 * Double(sumOfEnds) / Double(max(problem.count, 1))
}

/// About the same work for every problem (decoding one order costs about buffers + conflicts),
/// a fraction of a second even in a debug build.
func improvingSearchBudget(_ problem: PlacementProblem) -> Int {
    let pairs = problem.conflicts.reduce(problem.count) { $0 + $1.count }
    return min(6_000, max(300, 400_000 / max(pairs, 1)))
}

/// e^x for x <= 0 from + - × ÷ only (series on x / 256, then squared eight times), so the
/// acceptance decisions, and with them the plan, are the same with every math library.
func exponential(_ x: Double) -> Double {
    if x < -40 { return 0 }
    let y = x / 256
    var term = 1.0, sum = 1.0
    for k in 1...10 {
        term *= y / Double(k)
        sum += term
    }
    for _ in 0..<8 { sum *= sum }
    return sum
}

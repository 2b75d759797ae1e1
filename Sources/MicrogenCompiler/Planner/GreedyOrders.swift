/// The placement orders of the three greedy planners, each placing buffers at their lowest fit:
///
/// - by size: the largest buffers first (TFLite's "greedy by size"), so small ones fill the gaps;
/// - by breadth: buffers of the busiest step first (the step with the most live bytes), then of
///   the next busiest, largest first within a step: the steps that set the arena size are packed
///   while the arena is still empty;
/// - by conflicts: buffers that share their lifetime with the most bytes first, since they are
///   the hardest to fit later.
///
/// Ties are broken by first use and then by buffer number, so every order is deterministic.
func greedyOrders(_ problem: PlacementProblem) -> [(PlannerAlgorithm, [Int])] {
    let r = problem.requests
    let indices = Array(0..<problem.count)

    let bySize = indices.sorted { (-r[$0].size, r[$0].firstUse, $0) < (-r[$1].size, r[$1].firstUse, $1) }

    // Live bytes at each step where a buffer starts (the only steps where the total rises); a
    // buffer's key is the busiest such step within its lifetime.
    let steps = LiveSteps(r)
    let breadth = steps.sums { r[$0].size }
    let busiestStep = RangeMaximum(breadth)
    let busiest: [(bytes: Int, step: Int)] = steps.spans.map { span in
        let s = busiestStep.position(span.first, span.last)
        return (breadth[s], steps.starts[s])
    }
    let byBreadth = indices.sorted {
        (-busiest[$0].bytes, busiest[$0].step, -r[$0].size, $0) < (-busiest[$1].bytes, busiest[$1].step, -r[$1].size, $1)
    }

    let conflictBytes = indices.map { b in problem.conflicts[b].reduce(r[b].size) { $0 + r[$1].size } }
    let byConflicts = indices.sorted {
        (-conflictBytes[$0], -r[$0].size, r[$0].firstUse, $0) < (-conflictBytes[$1], -r[$1].size, r[$1].firstUse, $1)
    }

    return [(.greedyBySize, bySize), (.greedyByBreadth, byBreadth), (.greedyByConflicts, byConflicts)]
}

import MicrogenIR

/// The graph with its operators in the valid order whose peak of live bytes is lowest.
///
/// Where a graph branches (a residual connection, parallel towers), operators can run in several
/// orders and the bytes alive at once depend on the order. The search is exact: the bytes alive
/// after some operators have run depend only on which operators have run, so the best peak of
/// what remains is computed once per such set (dynamic programming over the sets the graph can
/// reach, bounded by `operatorOrderStateLimit` and `operatorOrderStepLimit`; past either the
/// order is left as it is). Graphs of more than `operatorOrderOperatorLimit` operators keep their
/// order without a search: the search recurses once per operator, and the model's order is valid.
///
/// Deterministic, and conservative: among the best orders it returns the one that follows the
/// model's own order longest (at every step the lowest-numbered operator that keeps the overall
/// peak optimal), so a graph whose order is already optimal comes back unchanged.
public func chooseOperatorOrder(_ graph: Graph) -> Graph {
    chooseOperatorOrder(AliasedGraph(graph: graph, storageOf: [:])).graph
}

/// The same for a graph whose RESHAPE/SQUEEZE were removed: aliases count as the buffer they
/// share. As the kernel lowerings report them: `scratchBytes`, the scratch an operator needs
/// while it runs; `inPlaceInput`, the input it may overwrite when that input dies there (its
/// output then costs no extra bytes).
public func chooseOperatorOrder(_ aliased: AliasedGraph,
                                scratchBytes: (Operator, Graph) -> Int = { _, _ in 0 },
                                inPlaceInput: (Operator, Graph) -> Int? = { _, _ in nil }) -> AliasedGraph {
    let model = OrderingModel(aliased, scratchBytes: scratchBytes, inPlaceInput: inPlaceInput)
    guard let order = model.bestOrder() else { return aliased }
    var result = aliased
    result.graph.operators = order.map { aliased.graph.operators[$0] }
    return result
}

/// How many sets of executed operators the search may visit before giving up.
let operatorOrderStateLimit = 50_000

/// How much work the search may do before giving up, counted per (set, next operator) step as
/// 1 plus the number of ready operators (the cost of updating the ready list): bounds graphs with
/// many operators ready at once, where each set has many successors.
let operatorOrderStepLimit = 2_000_000

/// Graphs with more operators keep the model's order (the search's recursion is as deep as the
/// operator count).
let operatorOrderOperatorLimit = 2_000

/// The graph reduced to what the order search needs: buffers (storage roots) with sizes and
/// lifetimes by producer and readers, and each operator's dependencies.
private struct OrderingModel {
    let operatorCount: Int
    let sizes: [Int]
    /// Buffers that stay alive to the end (model outputs).
    let keptAlive: [Bool]
    /// Buffers present before the first operator (model inputs and other unwritten tensors).
    let preexisting: [Bool]
    let readerCount: [Int]
    let reads: [[Int]]
    let writes: [[Int]]
    let predecessors: [[Int]]
    /// Per operator: the buffer it may overwrite in place, when that buffer dies there.
    let inPlaceBuffer: [Int?]
    let scratch: [Int]

    init(_ aliased: AliasedGraph, scratchBytes: (Operator, Graph) -> Int, inPlaceInput: (Operator, Graph) -> Int?) {
        let graph = aliased.graph
        operatorCount = graph.operators.count
        var index: [Int: Int] = [:]
        var sizes: [Int] = []
        func buffer(_ tensor: Int) -> Int? {
            guard tensor >= 0, tensor < graph.tensors.count, !graph.tensors[tensor].isConstant else { return nil }
            let root = aliased.root(tensor)
            if let b = index[root] { return b }
            index[root] = sizes.count
            sizes.append(max(graph.tensors[root].byteCount, 1))
            return sizes.count - 1
        }
        var reads: [[Int]] = [], writes: [[Int]] = []
        for op in graph.operators {
            var r: [Int] = []
            for t in op.inputs { if let b = buffer(t), !r.contains(b) { r.append(b) } }
            var w: [Int] = []
            for t in op.outputs { if let b = buffer(t), !w.contains(b) { w.append(b) } }
            reads.append(r)
            writes.append(w)
        }
        let outputs = graph.outputs.compactMap(buffer)
        let m = sizes.count
        var producer = Array(repeating: -1, count: m)
        for (k, w) in writes.enumerated() { for b in w where producer[b] < 0 { producer[b] = k } }
        var readerCount = Array(repeating: 0, count: m)
        for r in reads { for b in r { readerCount[b] += 1 } }
        var keptAlive = Array(repeating: false, count: m)
        for b in outputs { keptAlive[b] = true }

        self.sizes = sizes
        self.keptAlive = keptAlive
        preexisting = producer.map { $0 < 0 }
        self.readerCount = readerCount
        self.reads = reads
        self.writes = writes
        predecessors = reads.enumerated().map { k, r in
            Array(Set(r.map { producer[$0] }.filter { $0 >= 0 && $0 != k })).sorted()
        }
        scratch = graph.operators.map { scratchBytes($0, graph) }
        inPlaceBuffer = graph.operators.enumerated().map { k, op in
            guard op.outputs.count == 1, writes[k].count == 1, let position = inPlaceInput(op, graph),
                  op.inputs.indices.contains(position), let target = buffer(op.inputs[position]),
                  sizes[target] == sizes[writes[k][0]] else { return nil }
            let input = op.inputs[position]
            let sharing = op.inputs.contains { t in t != input && buffer(t) == target }
            return sharing ? nil : target
        }
    }

    /// The best order, or nil when the graph has too many reachable states (or is not a DAG).
    func bestOrder() -> [Int]? {
        guard operatorCount <= operatorOrderOperatorLimit else { return nil }
        var search = OrderingSearch(self)
        guard search.bestPeak() != nil else { return nil }
        return search.reconstruct()
    }

    /// Bytes alive while operator `k` runs (its scratch included), given the bytes alive before
    /// it and how many readers each buffer still has.
    func liveWhileRunning(_ k: Int, before: Int, remainingReaders: [Int]) -> Int {
        var live = before + scratch[k]
        for b in writes[k] { live += sizes[b] }
        if let target = inPlaceBuffer[k], remainingReaders[target] == 1, !keptAlive[target], !preexisting[target] {
            live -= sizes[writes[k][0]]
        }
        return live
    }
}

/// Dynamic programming over the sets of executed operators.
private struct OrderingSearch {
    let model: OrderingModel
    var done: OperatorSet
    var remainingReaders: [Int]
    var waitingFor: [Int]
    var successors: [[Int]]
    /// The operators not run yet whose predecessors have all run, ascending: the only
    /// candidates for the next step, kept up to date so no step scans every operator.
    var ready: [Int]
    var steps = 0
    var live: Int
    /// Best peak of the rest of the schedule from each visited set.
    var memo: [OperatorSet: Int] = [:]
    var failed = false

    init(_ model: OrderingModel) {
        self.model = model
        done = OperatorSet(count: model.operatorCount)
        remainingReaders = model.readerCount
        waitingFor = model.predecessors.map(\.count)
        successors = Array(repeating: [], count: model.operatorCount)
        for (k, preds) in model.predecessors.enumerated() { for p in preds { successors[p].append(k) } }
        let initiallyWaiting = waitingFor
        ready = initiallyWaiting.indices.filter { initiallyWaiting[$0] == 0 }
        live = 0
        for b in model.sizes.indices where model.preexisting[b] && (model.readerCount[b] > 0 || model.keptAlive[b]) {
            live += model.sizes[b]
        }
    }

    mutating func bestPeak() -> Int? {
        let peak = solve(executed: 0)
        return failed ? nil : peak
    }

    private mutating func solve(executed: Int) -> Int {
        if executed == model.operatorCount { return 0 }
        if let known = memo[done] { return known }
        if failed || memo.count >= operatorOrderStateLimit || steps >= operatorOrderStepLimit {
            failed = true
            return Int.max
        }
        var best = Int.max
        for k in ready {
            // Running and undoing a step updates the ready list: its length counts as work too.
            steps += 1 + ready.count
            let during = model.liveWhileRunning(k, before: live, remainingReaders: remainingReaders)
            if during >= best { continue }
            let saved = live
            run(k)
            let rest = solve(executed: executed + 1)
            undo(k)
            live = saved
            best = min(best, max(during, rest))
        }
        if best == Int.max { failed = true } // no operator ready: a cycle
        memo[done] = best
        return best
    }

    private mutating func run(_ k: Int) {
        done.insert(k)
        ready.remove(at: ready.firstIndex(of: k)!)
        for s in successors[k] {
            waitingFor[s] -= 1
            if waitingFor[s] == 0 { ready.insert(s, at: ready.firstIndex { $0 > s } ?? ready.count) }
        }
        for b in model.writes[k] where model.readerCount[b] > 0 || model.keptAlive[b] { live += model.sizes[b] }
        for b in model.reads[k] {
            remainingReaders[b] -= 1
            if remainingReaders[b] == 0 && !model.keptAlive[b] { live -= model.sizes[b] }
        }
    }

    private mutating func undo(_ k: Int) {
        done.remove(k)
        for s in successors[k] {
            if waitingFor[s] == 0 { ready.remove(at: ready.firstIndex(of: s)!) }
            waitingFor[s] += 1
        }
        ready.insert(k, at: ready.firstIndex { $0 > k } ?? ready.count)
        for b in model.reads[k] { remainingReaders[b] += 1 }
    }

    /// From the empty set, the lowest-numbered ready operator that keeps the overall peak optimal
    /// (given the peak of the steps already taken), so the model's own order survives wherever
    /// it is as good as any.
    mutating func reconstruct() -> [Int]? {
        guard let optimum = memo[done] else { return nil }
        var order: [Int] = []
        var peakSoFar = 0
        for executed in 0..<model.operatorCount {
            var chosen: Int?
            for k in ready {
                let during = model.liveWhileRunning(k, before: live, remainingReaders: remainingReaders)
                let saved = live
                run(k)
                if max(peakSoFar, during, solve(executed: executed + 1)) == optimum {
                    chosen = k
                    peakSoFar = max(peakSoFar, during)
                    break
                }
                undo(k)
                live = saved
            }
            guard let k = chosen, !failed else { return nil }
            order.append(k)
        }
        return order
    }
}

/// A set of operator indices, hashable so it can key the search's memo.
struct OperatorSet: Hashable {
    private var words: [UInt64]
    init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }
    func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
    mutating func insert(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
    mutating func remove(_ i: Int) { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
}

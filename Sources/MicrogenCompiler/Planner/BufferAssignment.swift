import MicrogenIR

/// The arena buffers of a graph and which tensor lives in which:
/// - an alias (RESHAPE/SQUEEZE output) shares the buffer of the tensor it renames;
/// - an in-place operator's output shares the buffer of the input it overwrites, when that input
///   is read by no later operator and is not a model input or output;
/// - every other activation tensor has its own buffer, and every operator that needs scratch
///   memory has one scratch buffer alive only while it runs.
///
/// A buffer's id is the index of the first tensor stored in it; scratch buffer ids follow the
/// tensor indices (`scratchBufferID(forOperator:)`).
public struct BufferAssignment: Sendable {
    public private(set) var requests: [BufferRequest] = []
    /// Operator index → the input position whose buffer its output overwrites.
    public private(set) var inPlaceOperators: [Int: Int] = [:]
    /// Peak live bytes if every operator wrote to a buffer of its own (aliases still shared).
    public private(set) var lowerBoundWithoutInPlace = 0
    private var bufferOfTensor: [Int: Int] = [:]
    private let scratchIDBase: Int

    /// `scratch[i]`: scratch bytes of operator i. `inPlaceInputs[i]`: the input position operator
    /// i may overwrite when that input dies there (nil, or an empty array, for none).
    /// `keepInputs`: the model's inputs stay alive to the last operator, so no buffer reuses them.
    public init(_ aliased: AliasedGraph, scratch: [Int], inPlaceInputs: [Int?] = [], keepInputs: Bool = false) {
        let graph = aliased.graph
        scratchIDBase = graph.tensors.count
        let lastStep = max(graph.operators.count - 1, 0)

        // Lifetimes per storage root (aliases folded in).
        var spans: [Int: (first: Int, last: Int)] = [:]
        func touch(_ tensor: Int, at step: Int) {
            guard tensor >= 0, !graph.tensors[tensor].isConstant else { return }
            let root = aliased.root(tensor)
            let span = spans[root] ?? (step, step)
            spans[root] = (min(span.first, step), max(span.last, step))
        }
        for t in graph.inputs { touch(t, at: 0) }
        for (i, op) in graph.operators.enumerated() {
            for t in op.inputs { touch(t, at: i) }
            for t in op.outputs { touch(t, at: i) }
        }
        for t in graph.outputs { touch(t, at: lastStep) }
        if keepInputs { for t in graph.inputs { touch(t, at: lastStep) } }
        let pinned = Set((graph.inputs + graph.outputs).filter { $0 >= 0 }.map(aliased.root))

        func size(_ root: Int) -> Int { max(graph.tensors[root].byteCount, 1) }
        var scratchRequests: [BufferRequest] = []
        for (i, bytes) in scratch.enumerated() where bytes > 0 {
            scratchRequests.append(BufferRequest(id: scratchIDBase + i, size: bytes, firstUse: i, lastUse: i))
        }
        func makeRequests(_ spans: [Int: (first: Int, last: Int)]) -> [BufferRequest] {
            let activations = spans.map { BufferRequest(id: $0.key, size: size($0.key), firstUse: $0.value.first, lastUse: $0.value.last) }
            return (activations + scratchRequests).sorted { $0.id < $1.id }
        }
        lowerBoundWithoutInPlace = liveBytesPeak(makeRequests(spans))

        // Merge in-place outputs into their inputs' buffers, in operator order so chains merge.
        var bufferOfRoot: [Int: Int] = [:]
        func buffer(_ root: Int) -> Int { bufferOfRoot[root] ?? root }
        var bufferSpans = spans
        var pinnedBuffers = pinned
        for (i, op) in graph.operators.enumerated() where i < inPlaceInputs.count {
            guard let position = inPlaceInputs[i], op.inputs.indices.contains(position), op.outputs.count == 1 else { continue }
            let input = op.inputs[position], output = op.outputs[0]
            guard input >= 0, output >= 0, !graph.tensors[input].isConstant, aliased.root(output) == output,
                  !graph.inputs.contains(output) else { continue }
            let target = buffer(aliased.root(input))
            guard !pinnedBuffers.contains(target), let span = bufferSpans[target], span.last == i,
                  let outputSpan = bufferSpans[output], size(target) == size(output) else { continue }
            // Another input in the same buffer must be the very same tensor: a reshaped view of it
            // would be read at other positions than the ones being overwritten.
            let sharing = op.inputs.enumerated().contains { q, t in
                q != position && t >= 0 && !graph.tensors[t].isConstant && buffer(aliased.root(t)) == target && t != input
            }
            if sharing { continue }
            bufferOfRoot[output] = target
            bufferSpans[target] = (span.first, max(span.last, outputSpan.last))
            bufferSpans[output] = nil
            if pinnedBuffers.contains(output) { pinnedBuffers.insert(target) }
            inPlaceOperators[i] = position
        }

        for (index, tensor) in graph.tensors.enumerated() where !tensor.isConstant {
            let root = aliased.root(index)
            if spans[root] != nil { bufferOfTensor[index] = buffer(root) }
        }
        requests = makeRequests(bufferSpans)
    }

    /// The id of the buffer holding an activation tensor (nil for constants and unused tensors).
    public func buffer(of tensor: Int) -> Int? { bufferOfTensor[tensor] }

    public func scratchBufferID(forOperator index: Int) -> Int { scratchIDBase + index }

    /// True when no other buffer of `plan` shares a byte with a model input's buffer, so the
    /// inputs still hold what was written into them after a run (the RPC server then lets a
    /// written input be run many times; otherwise every run needs the inputs written again).
    public func preservesInputs(_ plan: MemoryPlan, of graph: Graph) -> Bool {
        let inputBuffers = Set(graph.inputs.compactMap { buffer(of: $0) })
        for input in inputBuffers {
            guard let request = requests.first(where: { $0.id == input }), let start = plan.offsets[input] else { continue }
            let overlapped = requests.contains { other in
                guard other.id != input, let otherStart = plan.offsets[other.id] else { return false }
                return otherStart < start + request.size && start < otherStart + other.size
            }
            if overlapped { return false }
        }
        return true
    }

    /// The memory plan of these buffers; its `lowerBound` is the bound without in-place
    /// execution, its `plannedLowerBound` the bound of the buffers as merged.
    public func plan(alignment: Int = 16) -> MemoryPlan {
        var plan = planMemory(requests, alignment: alignment)
        plan.lowerBound = lowerBoundWithoutInPlace
        return plan
    }
}

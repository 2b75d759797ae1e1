/// The steps where some buffer starts (the only steps where the bytes alive rise) and, for each
/// buffer, the run of those steps it is alive at. Sums and maxima over the buffers alive at each
/// step then cost a sort and a sweep instead of a pass over every buffer per step, which would
/// grow with the square of the operator count.
struct LiveSteps {
    /// The distinct first uses, ascending.
    let starts: [Int]
    /// Per request (in the order given): the indices into `starts` of the first and last step
    /// it is alive at.
    let spans: [(first: Int, last: Int)]

    init(_ requests: [BufferRequest]) {
        let starts = Set(requests.map(\.firstUse)).sorted()
        self.starts = starts
        // The last start at or before `step` (there is one: a buffer's own start).
        func lastStart(atOrBefore step: Int) -> Int {
            var low = 0, high = starts.count - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if starts[middle] <= step { low = middle } else { high = middle - 1 }
            }
            return low
        }
        spans = requests.map { (lastStart(atOrBefore: $0.firstUse), lastStart(atOrBefore: $0.lastUse)) }
    }

    /// For each start step, the sum of `value(i)` over the requests i alive there.
    func sums(_ value: (Int) -> Int) -> [Int] {
        var change = [Int](repeating: 0, count: starts.count + 1)
        for (i, span) in spans.enumerated() {
            change[span.first] += value(i)
            change[span.last + 1] -= value(i)
        }
        var result = [Int](repeating: 0, count: starts.count)
        var running = 0
        for s in starts.indices {
            running += change[s]
            result[s] = running
        }
        return result
    }

    /// For each start step, the largest `value(i)` over the requests i alive there (0 if none;
    /// values must not be negative).
    func maxima(_ value: (Int) -> Int) -> [Int] {
        // Values bucketed by rank; each step reads the highest bucket with a live request.
        let distinct = Set(spans.indices.map(value)).sorted()
        let rank = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        var entering = [[Int]](repeating: [], count: starts.count), leaving = [[Int]](repeating: [], count: starts.count + 1)
        for (i, span) in spans.enumerated() {
            entering[span.first].append(rank[value(i)]!)
            leaving[span.last + 1].append(rank[value(i)]!)
        }
        var live = [Int](repeating: 0, count: distinct.count)
        var top = -1
        var result = [Int](repeating: 0, count: starts.count)
        for s in starts.indices {
            for r in leaving[s] { live[r] -= 1 }
            for r in entering[s] {
                live[r] += 1
                top = max(top, r)
            }
            while top >= 0 && live[top] == 0 { top -= 1 }
            result[s] = top >= 0 ? distinct[top] : 0
        }
        return result
    }
}

/// The largest value over every range of positions, with the earliest position on ties, after
/// an O(n log n) table: answers each query in constant time.
struct RangeMaximum {
    private var table: [[Int]]
    private let values: [Int]

    init(_ values: [Int]) {
        self.values = values
        var table = [Array(values.indices)]
        var width = 1
        while 2 * width <= values.count {
            let previous = table[table.count - 1]
            table.append((0...(values.count - 2 * width)).map { i in
                Self.better(previous[i], previous[i + width], values)
            })
            width *= 2
        }
        self.table = table
    }

    private static func better(_ a: Int, _ b: Int, _ values: [Int]) -> Int {
        values[b] > values[a] || (values[b] == values[a] && b < a) ? b : a
    }

    /// The position of the largest value in first...last.
    func position(_ first: Int, _ last: Int) -> Int {
        var level = 0
        while 2 << level <= last - first + 1 { level += 1 }
        return Self.better(table[level][first], table[level][last - (1 << level) + 1], values)
    }
}

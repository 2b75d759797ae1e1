import MicrogenIR
import Foundation
import XCTest
@testable import MicrogenCompiler

/// Every planning algorithm gives valid plans, the exact search is optimal (checked against brute
/// force), the combined planner is never worse than any one algorithm, and plans are deterministic.
final class PlannerAlgorithmTests: XCTestCase {
    /// `count` buffers over `steps` operators, sizes up to `maxSize`, lifetimes up to `maxSpan` steps.
    static func randomRequests(_ count: Int, steps: Int, maxSize: Int, maxSpan: Int, _ generator: inout SplitMix64) -> [BufferRequest] {
        (0..<count).map { id in
            let first = Int(generator.next() % UInt64(steps))
            let span = Int(generator.next() % UInt64(maxSpan + 1))
            return BufferRequest(id: id * 3 + 1, size: 1 + Int(generator.next() % UInt64(maxSize)),
                                 firstUse: first, lastUse: first + span)
        }
    }

    private let singleAlgorithms: [PlannerAlgorithm] = [.greedyBySize, .greedyByBreadth, .greedyByConflicts, .improvingSearch]

    func testEveryAlgorithmGivesValidPlans() throws {
        var generator = SplitMix64(seed: 1)
        for round in 0..<20 {
            let requests = Self.randomRequests(30 + round, steps: 20, maxSize: 5000, maxSpan: 6, &generator)
            for algorithm in singleAlgorithms {
                let plan = try XCTUnwrap(planMemory(requests, using: algorithm))
                XCTAssertNil(validate(plan, requests), "\(algorithm.rawValue), round \(round)")
                XCTAssertGreaterThanOrEqual(plan.arenaSize, plan.lowerBound)
            }
            let combined = planMemory(requests)
            XCTAssertNil(validate(combined, requests), "combined, round \(round)")
        }
        for round in 0..<10 {
            let requests = Self.randomRequests(12, steps: 10, maxSize: 300, maxSpan: 4, &generator)
            let plan = try XCTUnwrap(planMemory(requests, using: .exactSearch))
            XCTAssertNil(validate(plan, requests), "exact, round \(round)")
        }
    }

    func testValidatorCatchesBrokenPlans() {
        let requests = [BufferRequest(id: 0, size: 100, firstUse: 0, lastUse: 1),
                        BufferRequest(id: 1, size: 50, firstUse: 1, lastUse: 2),
                        BufferRequest(id: 2, size: 70, firstUse: 2, lastUse: 3)]
        let plan = planMemory(requests)
        XCTAssertNil(validate(plan, requests))

        var overlapping = plan
        overlapping.offsets[1] = plan.offsets[0]! // 0 and 1 are both alive at step 1
        XCTAssertNotNil(validate(overlapping, requests))
        XCTAssertTrue(validate(overlapping, requests)?.contains("overlap") ?? false)

        var misaligned = plan
        misaligned.offsets[2] = plan.offsets[2]! + 4
        XCTAssertTrue(validate(misaligned, requests)?.contains("aligned") ?? false)

        var outside = plan
        outside.arenaSize = 64
        XCTAssertTrue(validate(outside, requests)?.contains("past the arena") ?? false)

        var missing = plan
        missing.offsets[2] = nil
        XCTAssertTrue(validate(missing, requests)?.contains("no offset") ?? false)

        // Buffers that are never alive together may share bytes.
        var sharing = plan
        sharing.offsets[2] = plan.offsets[0]!
        sharing.arenaSize = max(plan.arenaSize, 112)
        XCTAssertNil(validate(sharing, requests))
    }

    /// The smallest arena over every placement order (each buffer at its lowest fit).
    private func bruteForceOverOrders(_ requests: [BufferRequest], alignment: Int) -> Int {
        let problem = PlacementProblem(requests, alignment: alignment)
        var best = Int.max
        var order = Array(0..<problem.count)
        func permute(_ k: Int) {
            if k == order.count {
                best = min(best, problem.place(order).arena)
                return
            }
            for i in k..<order.count {
                order.swapAt(k, i)
                permute(k + 1)
                order.swapAt(k, i)
            }
        }
        permute(0)
        return best
    }

    /// The smallest arena over every assignment of aligned offsets (no assumption about orders).
    private func bruteForceOverOffsets(_ requests: [BufferRequest], alignment: Int) -> Int {
        var best = requests.reduce(0) { $0 + align($1.size, alignment) }
        var offsets: [Int] = []
        func assign(_ i: Int) {
            if i == requests.count {
                best = min(best, align(zip(requests, offsets).map { $0.size + $1 }.max() ?? 0, alignment))
                return
            }
            var offset = 0
            while align(offset + requests[i].size, alignment) < best {
                let free = (0..<i).allSatisfy { j in
                    !requests[i].overlapsInTime(requests[j]) || offset + requests[i].size <= offsets[j] || offsets[j] + requests[j].size <= offset
                }
                if free {
                    offsets.append(offset)
                    assign(i + 1)
                    offsets.removeLast()
                }
                offset += alignment
            }
        }
        assign(0)
        return best
    }

    func testExactSearchMatchesBruteForce() throws {
        var generator = SplitMix64(seed: 2)
        for round in 0..<40 {
            let count = 3 + round % 5 // 3 to 7 buffers
            let alignment = [4, 8, 16][round % 3]
            let requests = Self.randomRequests(count, steps: 5, maxSize: 100, maxSpan: 3, &generator)
            let exact = try XCTUnwrap(planMemory(requests, alignment: alignment, using: .exactSearch))
            XCTAssertTrue(exact.provedOptimal)
            XCTAssertNil(validate(exact, requests, alignment: alignment))
            XCTAssertEqual(exact.arenaSize, bruteForceOverOrders(requests, alignment: alignment), "round \(round): \(requests)")
            let combined = planMemory(requests, alignment: alignment)
            XCTAssertEqual(combined.arenaSize, exact.arenaSize, "round \(round)")
            XCTAssertTrue(combined.provedOptimal)
        }
    }

    /// Instances whose optimum lies above the lower bound (found by a random search over tight
    /// instances): the planner finds the optimum and the exact search proves it.
    func testOptimumAboveTheLowerBoundIsFoundAndProved() throws {
        let instances: [(buffers: [(size: Int, first: Int, last: Int)], optimum: Int)] = [
            ([(1, 2, 5), (2, 0, 3), (1, 1, 4), (1, 2, 3), (3, 0, 0), (2, 1, 1), (3, 4, 4), (4, 5, 5)], 6),
            ([(4, 2, 4), (3, 0, 2), (3, 1, 3), (4, 2, 2), (11, 0, 0), (8, 1, 1), (7, 3, 3), (10, 4, 4)], 17),
        ]
        for (buffers, optimum) in instances {
            let requests = buffers.enumerated().map { BufferRequest(id: $0, size: 16 * $1.size, firstUse: $1.first, lastUse: $1.last) }
            let problem = PlacementProblem(requests, alignment: 16)
            XCTAssertLessThan(problem.alignedLowerBound, 16 * optimum)
            XCTAssertEqual(bruteForceOverOrders(requests, alignment: 16), 16 * optimum)
            let plan = planMemory(requests)
            XCTAssertEqual(plan.arenaSize, 16 * optimum)
            XCTAssertTrue(plan.provedOptimal)
            XCTAssertNil(validate(plan, requests))
            // Given the optimum, the exact search proves nothing smaller exists...
            let proof = ExactSearch(problem, upperBound: 16 * optimum).run()
            XCTAssertNil(proof.placement)
            XCTAssertTrue(proof.complete)
            // ...and given more, it finds the optimum.
            let found = ExactSearch(problem, upperBound: 16 * optimum + 16).run()
            XCTAssertEqual(found.placement?.arena, 16 * optimum)
        }
        // The first instance is small enough to check against every assignment of offsets.
        let small = instances[0].buffers.enumerated().map { BufferRequest(id: $0, size: 16 * $1.size, firstUse: $1.first, lastUse: $1.last) }
        XCTAssertEqual(bruteForceOverOffsets(small, alignment: 16), 16 * instances[0].optimum)
    }

    /// Orders are complete: the best order is as good as the best assignment of offsets.
    func testBestOrderMatchesBruteForceOverOffsets() {
        var generator = SplitMix64(seed: 3)
        for round in 0..<25 {
            let count = 3 + round % 3 // 3 to 5 buffers
            let requests = Self.randomRequests(count, steps: 4, maxSize: 40, maxSpan: 2, &generator)
            let byOffsets = bruteForceOverOffsets(requests, alignment: 8)
            XCTAssertEqual(bruteForceOverOrders(requests, alignment: 8), byOffsets, "round \(round): \(requests)")
            XCTAssertEqual(planMemory(requests, alignment: 8).arenaSize, byOffsets, "round \(round)")
        }
    }

    func testCombinedPlannerIsNeverWorseThanAnySingleAlgorithm() throws {
        var generator = SplitMix64(seed: 4)
        for round in 0..<25 {
            let requests = Self.randomRequests(8 + round, steps: 12, maxSize: 2000, maxSpan: 5, &generator)
            let combined = planMemory(requests)
            XCTAssertNil(validate(combined, requests))
            for algorithm in singleAlgorithms + (requests.count <= ExactSearch.maximumBuffers ? [.exactSearch] : []) {
                guard let single = planMemory(requests, using: algorithm) else { continue }
                XCTAssertLessThanOrEqual(combined.arenaSize, single.arenaSize, "round \(round): \(algorithm.rawValue)")
            }
        }
    }

    func testPlansAreDeterministicWhateverTheInputOrder() {
        var generator = SplitMix64(seed: 5)
        for round in 0..<10 {
            let requests = Self.randomRequests(20 + 4 * round, steps: 15, maxSize: 3000, maxSpan: 5, &generator)
            let first = planMemory(requests)
            var shuffled = requests
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
                shuffled.swapAt(i, Int(generator.next() % UInt64(i + 1)))
            }
            let again = planMemory(requests)
            let fromShuffled = planMemory(shuffled)
            XCTAssertEqual(first.offsets, again.offsets)
            XCTAssertEqual(first.offsets, fromShuffled.offsets, "round \(round)")
            XCTAssertEqual(first.arenaSize, fromShuffled.arenaSize)
            XCTAssertEqual(first.algorithm, fromShuffled.algorithm)
        }
    }

    /// A chain where the largest-first greedy leaves a hole (the first layers of a MobileNet):
    /// the combined planner reaches the lower bound.
    func testCombinedPlannerReachesTheBoundWhereGreedyBySizeDoesNot() throws {
        let sizes = [27_648, 18_432, 18_432, 36_864, 9_216, 18_432]
        let requests = sizes.enumerated().map { i, size in BufferRequest(id: i, size: size, firstUse: max(i - 1, 0), lastUse: i) }
        let bySize = try XCTUnwrap(planMemory(requests, using: .greedyBySize))
        let combined = planMemory(requests)
        XCTAssertEqual(combined.lowerBound, 55_296)
        XCTAssertGreaterThan(bySize.arenaSize, combined.lowerBound)
        XCTAssertEqual(combined.arenaSize, 55_296)
        XCTAssertTrue(combined.provedOptimal)
        XCTAssertNotEqual(combined.algorithm, .greedyBySize)
    }

    func testAlignedLowerBoundHolds() {
        var generator = SplitMix64(seed: 6)
        for _ in 0..<20 {
            let requests = Self.randomRequests(15, steps: 8, maxSize: 90, maxSpan: 3, &generator)
            let problem = PlacementProblem(requests, alignment: 16)
            let plan = planMemory(requests)
            XCTAssertGreaterThanOrEqual(plan.arenaSize, problem.alignedLowerBound)
            XCTAssertGreaterThanOrEqual(problem.alignedLowerBound, problem.lowerBound)
            XCTAssertEqual(problem.lowerBound, liveBytesPeak(requests))
        }
    }

    func testExponentialIsAccurate() {
        for x in stride(from: -30.0, through: 0, by: 0.37) {
            XCTAssertEqual(exponential(x), exp(x), accuracy: 1e-12 + 1e-9 * exp(x))
        }
    }
}

import MicrogenIR
import XCTest
@testable import MicrogenCompiler

final class MemoryPlannerTests: XCTestCase {
    /// Buffers alive at the same time never share bytes, and every offset is aligned.
    private func assertValid(_ requests: [BufferRequest], _ plan: MemoryPlan, alignment: Int = 16, file: StaticString = #filePath, line: UInt = #line) {
        for a in requests {
            guard let offsetA = plan.offsets[a.id] else { return XCTFail("buffer \(a.id) not placed", file: file, line: line) }
            XCTAssertEqual(offsetA % alignment, 0, "buffer \(a.id) misaligned", file: file, line: line)
            XCTAssertLessThanOrEqual(offsetA + a.size, plan.arenaSize, file: file, line: line)
            for b in requests where b.id > a.id && a.overlapsInTime(b) {
                let offsetB = plan.offsets[b.id]!
                let disjoint = offsetA + a.size <= offsetB || offsetB + b.size <= offsetA
                XCTAssertTrue(disjoint, "buffers \(a.id) and \(b.id) are alive together and overlap", file: file, line: line)
            }
        }
        XCTAssertGreaterThanOrEqual(plan.arenaSize, plan.lowerBound, file: file, line: line)
        XCTAssertNil(validate(plan, requests, alignment: alignment), file: file, line: line)
    }

    func testChainReusesMemory() {
        // a → b → c → d: only two neighbours are alive at once.
        let requests = (0..<4).map { BufferRequest(id: $0, size: 100, firstUse: max($0 - 1, 0), lastUse: $0) }
        let plan = planMemory(requests)
        assertValid(requests, plan)
        XCTAssertEqual(plan.lowerBound, 200)
        XCTAssertEqual(plan.arenaSize, 224) // 100 rounded up to 112, plus 100, rounded to 16
        XCTAssertTrue(plan.provedOptimal) // two live buffers need 112 + 100 bytes, 224 once aligned
    }

    func testBuffersAliveTogetherDoNotOverlap() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<50 {
            let requests = (0..<20).map { id -> BufferRequest in
                let first = Int(generator.next() % 15)
                return BufferRequest(id: id, size: 1 + Int(generator.next() % 5000), firstUse: first, lastUse: first + Int(generator.next() % 5))
            }
            assertValid(requests, planMemory(requests))
        }
    }

    func testPlanIsDeterministic() {
        let requests = [BufferRequest(id: 3, size: 64, firstUse: 0, lastUse: 2), BufferRequest(id: 1, size: 64, firstUse: 1, lastUse: 3),
                        BufferRequest(id: 2, size: 64, firstUse: 2, lastUse: 4)]
        let first = planMemory(requests)
        XCTAssertEqual(first.offsets, planMemory(requests.reversed()).offsets)
    }

    func testEmptyPlan() {
        let plan = planMemory([])
        XCTAssertEqual(plan.arenaSize, 0)
        XCTAssertEqual(plan.lowerBound, 0)
    }
}

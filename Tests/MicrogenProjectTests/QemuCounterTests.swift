import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenProject

/// The operator counter measured against loops of a known number of instructions: under
/// `-icount shift=0` an instruction is 1 ns, so (ticks × instructions_per_tick) must equal the
/// loop's instructions: ×40 at 25 MHz (mps2), ×50 at 20 MHz (AN505), and on the AN547 (32 MHz,
/// 31.25 instructions per tick) the port counts instructions itself (×1).
final class QemuCounterTests: XCTestCase {
    /// Two instructions per iteration (subs, bne); prints "LOOP <iterations> <counts>" lines.
    static let loopMain = """
    #include <stdint.h>
    #include "mg_port.h"
    #include "mg_cortexm.h"

    static void put_text(const char *text)
    {
        while (*text != '\\0') mg_uart_write_byte((uint8_t)*text++);
    }

    static void put_number(uint32_t value)
    {
        char digits[12];
        int n = 0;
        do {
            digits[n++] = (char)('0' + value % 10u);
            value /= 10u;
        } while (value != 0);
        while (n > 0) mg_uart_write_byte((uint8_t)digits[--n]);
    }

    __attribute__((noinline)) static void spin(uint32_t iterations)
    {
        __asm__ volatile("1: subs %0, %0, #1\\n\\tbne 1b" : "+r"(iterations) : : "cc");
    }

    int main(void)
    {
        static const uint32_t sizes[] = {1000u, 10000u, 100000u, 1000000u, 10000000u};
        uint32_t i;
        mg_port_init();
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint32_t start = mg_port_counter();
            spin(sizes[i]);
            uint32_t end = mg_port_counter();
            put_text("LOOP ");
            put_number(sizes[i]);
            put_text(" ");
            put_number(end - start);
            put_text("\\n");
        }
        put_text("HZ ");
        put_number(mg_port_counter_hz());
        put_text(" IPT ");
        put_number(mg_port_instructions_per_tick());
        put_text(" FLAGS ");
        put_number(mg_port_counter_flags());
        put_text("\\n");
        return 0;
    }
    """

    struct Measurement {
        var loops: [(iterations: Int, counts: Int)]
        var hz: Int
        var instructionsPerTick: Int
        var flags: Int
    }

    func measure(_ board: Board, kernel: String) throws -> Measurement {
        let run = try ProjectTestSupport.runToExit(board: board, kernel: kernel)
        XCTAssertEqual(run.status, 0, "\(board.name): the firmware ends QEMU and its end-of-run record has main's status\n\(run.output)")
        var result = Measurement(loops: [], hz: 0, instructionsPerTick: 0, flags: 0)
        for line in run.output.split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "LOOP", words.count == 3 { result.loops.append((Int(words[1])!, Int(words[2])!)) }
            if words.first == "HZ", words.count == 6 {
                result.hz = Int(words[1])!
                result.instructionsPerTick = Int(words[3])!
                result.flags = Int(words[5])!
            }
        }
        XCTAssertEqual(result.loops.count, 5, "\(board.name): \(run.output)")
        return result
    }

    /// (counts × instructions per count) between two loop sizes equals 2 × the extra iterations,
    /// to within one tick; the same again on a second run.
    func checkLoops(_ board: Board, expectedInstructionsPerTick: Int, expectedHz: Int) throws {
        let kernel = try ProjectTestSupport.buildCustomFirmware(board: board, mainSource: Self.loopMain, label: "loop-\(board.name)").elfPath
        let first = try measure(board, kernel: kernel)
        XCTAssertEqual(first.instructionsPerTick, expectedInstructionsPerTick, board.name)
        XCTAssertEqual(first.hz, expectedHz, board.name)
        XCTAssertEqual(first.flags, 2, "\(board.name): QEMU icount flag, no cycle counter")
        let tickInstructions = Double(1_000_000_000) / Double(board.clockHz)
        for (small, large) in zip(first.loops, first.loops.dropFirst()) {
            let measured = Double((large.counts - small.counts) * first.instructionsPerTick)
            let expected = Double(2 * (large.iterations - small.iterations))
            XCTAssertEqual(measured, expected, accuracy: tickInstructions + 1,
                           "\(board.name): \(large.iterations) vs \(small.iterations) iterations")
        }
        // The fixed cost of a measurement (call, loop exit, counter reads) is small.
        let overhead = Double(first.loops[0].counts * first.instructionsPerTick) - 2 * Double(first.loops[0].iterations)
        XCTAssertLessThan(abs(overhead), 200, "\(board.name): overhead \(overhead) instructions")
        print("\(board.name): \(first.loops.map { "\($0.iterations)→\($0.counts)" }.joined(separator: " ")), \(first.instructionsPerTick) instructions per count, \(first.hz) Hz")
        let second = try measure(board, kernel: kernel)
        XCTAssertEqual(first.loops.map(\.counts), second.loops.map(\.counts), "\(board.name): counts repeat run to run")
    }

    func testSysTickCountsInstructionsOnEveryEmulatedBoard() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        try checkLoops(try BoardCatalog.named("cortex-m3"), expectedInstructionsPerTick: 40, expectedHz: 25_000_000)
        try checkLoops(try BoardCatalog.named("cortex-m4"), expectedInstructionsPerTick: 40, expectedHz: 25_000_000)
        try checkLoops(try BoardCatalog.named("cortex-m7"), expectedInstructionsPerTick: 40, expectedHz: 25_000_000)
        try checkLoops(try BoardCatalog.named("cortex-m33"), expectedInstructionsPerTick: 50, expectedHz: 20_000_000)
        try checkLoops(try BoardCatalog.named("cortex-m55"), expectedInstructionsPerTick: 1, expectedHz: 1_000_000_000)
    }

    func testCmsdkTimerAndDwtFallbackCountLikeSysTick() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        var timer = try BoardCatalog.named("cortex-m7")
        timer.counter = .timer(base: 0x4000_0000)
        try checkLoops(timer, expectedInstructionsPerTick: 40, expectedHz: 25_000_000)
        // QEMU does not run DWT CYCCNT: a "dwt" board must notice and fall back to SysTick.
        var dwt = try BoardCatalog.named("cortex-m4")
        dwt.counter = .dwt
        try checkLoops(dwt, expectedInstructionsPerTick: 40, expectedHz: 25_000_000)
    }
}

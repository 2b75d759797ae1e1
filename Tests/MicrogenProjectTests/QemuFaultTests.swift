import Foundation
import XCTest
import MicrogenIR
import MicrogenHost
@testable import MicrogenProject

/// A faulting firmware is a clear error with the decoded fault registers, never a hang: the
/// fault handler prints its MG-FAULT line and ends QEMU, and QemuTransport turns it into an error.
final class QemuFaultTests: XCTestCase {
    static func faultingMain(_ body: String) -> String {
        """
        #include <stdint.h>
        #include "mg_port.h"

        \(body)

        int main(void)
        {
            mg_port_init();
            return trigger();
        }
        """
    }

    /// Starts the firmware and reads until the transport gives up; returns its error.
    func faultError(board: Board, body: String, label: String) throws -> MicrogenError {
        let build = try ProjectTestSupport.buildCustomFirmware(board: board, mainSource: Self.faultingMain(body), label: label)
        guard let error = try ProjectTestSupport.transportError(board: board, kernel: build.elfPath) else {
            XCTFail("\(board.name): no error within 10 s")
            return MicrogenError(.io, "")
        }
        return error
    }

    func testUsageFaultIsReportedWithItsCause() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        // A branch to an address with the Thumb bit clear: INVSTATE.
        let error = try faultError(board: try BoardCatalog.named("cortex-m7"), body: """
            static int trigger(void)
            {
                int (*volatile target)(void) = (int (*)(void))0x00000100u;
                return target();
            }
            """, label: "fault-invstate")
        print(error.message)
        XCTAssertTrue(error.message.contains("UsageFault"), error.message)
        XCTAssertTrue(error.message.contains("INVSTATE"), error.message)
        XCTAssertTrue(error.message.contains("PC=0x00000100"), error.message)
    }

    func testUndefinedInstructionOnCortexM4() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        let error = try faultError(board: try BoardCatalog.named("cortex-m4"), body: """
            static int trigger(void)
            {
                __asm__ volatile("udf #7");
                return 0;
            }
            """, label: "fault-udf")
        print(error.message)
        XCTAssertTrue(error.message.contains("UsageFault"), error.message)
        XCTAssertTrue(error.message.contains("UNDEFINSTR"), error.message)
    }

    func testStackOverflowIsCalledOneOnV7MAndV8M() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        let recursion = """
            __attribute__((noinline)) static uint32_t deeper(uint32_t depth)
            {
                volatile uint32_t frame[16];
                frame[0] = depth;
                if (depth == 0xFFFFFFFFu) return frame[0];
                return deeper(depth + 1u) + frame[0];
            }

            static int trigger(void)
            {
                return (int)deeper(0);
            }
            """
        for name in ["cortex-m7", "cortex-m33"] {
            let error = try faultError(board: try BoardCatalog.named(name), body: recursion, label: "fault-stack-\(name)")
            print(error.message)
            XCTAssertTrue(error.message.contains("MG-FAULT"), "\(name): \(error.message)")
            XCTAssertTrue(error.message.contains("stack overflow"), "\(name): \(error.message)")
        }
    }

    func testFaultLineScannerFindsTheLineAcrossReads() {
        var scanner = FaultLineScanner()
        let line = "\r\n}MG-FAULT HardFault IPSR=0x00000003 CFSR=0x00000400 HFSR=0x40000000 PC=0x00001234\r\n"
        let bytes = [0x7E, 0x01] + Array(line.utf8)
        for chunk in stride(from: 0, to: bytes.count, by: 5) { scanner.feed(Array(bytes[chunk..<min(chunk + 5, bytes.count)])) }
        let report = scanner.report
        XCTAssertEqual(report?.exception, "HardFault")
        XCTAssertEqual(report?.registers["PC"], 0x1234)
        XCTAssertTrue(report?.description.contains("IMPRECISERR") ?? false)
        XCTAssertTrue(report?.description.contains("FORCED") ?? false)
    }

    /// A main that returns ends the run too: the transport reports the status of its record.
    func testReturnFromMainIsReportedWithItsStatus() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        let error = try faultError(board: try BoardCatalog.named("cortex-m4"), body: """
            static int trigger(void)
            {
                return 7;
            }
            """, label: "return-7")
        XCTAssertTrue(error.message.contains("the firmware returned from main with status 7"), error.message)
    }

    /// A real core escalates a BKPT with no debugger (a semihosting call, say) with DEBUGEVT.
    func testDebugEventIsNamed() {
        let report = FaultReport(line: "MG-FAULT HardFault IPSR=0x00000003 CFSR=0x00000000 HFSR=0x80000000")
        XCTAssertTrue(report?.causes.contains { $0.hasPrefix("DEBUGEVT") } ?? false, "\(String(describing: report))")
        XCTAssertFalse(report?.causes.contains { $0.hasPrefix("FORCED") } ?? true)
    }
}

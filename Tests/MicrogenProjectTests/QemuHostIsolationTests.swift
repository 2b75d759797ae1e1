import Foundation
import XCTest
import MicrogenIR
import MicrogenHost
@testable import MicrogenProject

/// A firmware has no way to the host: microgen runs QEMU without semihosting, so a semihosting
/// call (`bkpt 0xAB`) injected into a firmware does nothing on the host; the core takes a
/// HardFault, which is reported, and the run ends on its own.
final class QemuHostIsolationTests: XCTestCase {
    /// A main that makes one semihosting call: r0 = `operation`, r1 → {text, then `fields`}.
    static func semihostingMain(operation: UInt32, text: String, fields: [String]) -> String {
        """
        #include <stdint.h>
        #include "mg_port.h"

        static const char text[] = "\(text)";

        int main(void)
        {
            mg_port_init();
            uint32_t block[] = {(uint32_t)(uintptr_t)text, \(fields.joined(separator: ", "))};
            register uint32_t operation __asm__("r0") = \(operation)u;
            register uint32_t argument __asm__("r1") = (uint32_t)(uintptr_t)block;
            __asm__ volatile("bkpt 0xAB" : "+r"(operation) : "r"(argument) : "memory");
            return (int)operation;
        }
        """
    }

    /// Builds the firmware with the project's own pipeline, runs it with microgen's QEMU command
    /// line and checks that `path` was not created and the HardFault was reported, at the call
    /// (r0 still holds the operation). QEMU escalates the BKPT to HardFault as FORCED, where a real
    /// core would set DEBUGEVT.
    func checkCallIsRefused(board: Board, operation: UInt32, mainSource: String, path: String, label: String) throws {
        let build = try ProjectTestSupport.buildCustomFirmware(board: board, mainSource: mainSource, label: label)
        let started = Date()
        let run = try ProjectTestSupport.runToExit(board: board, kernel: build.elfPath)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "\(board.name): the firmware reached the host")
        try? FileManager.default.removeItem(atPath: path)
        XCTAssertLessThan(seconds, 30, "\(board.name): the run ends on its own")
        XCTAssertEqual(run.status, 128 + 3, "\(board.name): ends after a HardFault\n\(run.output)")
        var scanner = FaultLineScanner()
        scanner.feed(Array(run.output.utf8))
        scanner.finish()
        XCTAssertEqual(scanner.report?.exception, "HardFault", "\(board.name): \(run.output)")
        XCTAssertEqual(scanner.report?.registers["R0"], operation, "\(board.name): \(run.output)")
    }

    static func uniquePath(_ label: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("microgen-\(label)-\(UUID().uuidString)").path
    }

    func testSystemCallRunsNoHostCommandOnAnyEmulatedBoard() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        for board in try BoardCatalog.all().filter(\.isEmulated) {
            let path = Self.uniquePath("sys-system")
            let command = "touch \(path)"
            // SYS_SYSTEM (0x12): {command, length}.
            let main = Self.semihostingMain(operation: 0x12, text: command, fields: ["\(command.utf8.count)u"])
            try checkCallIsRefused(board: board, operation: 0x12, mainSource: main, path: path, label: "sys-system-\(board.name)")
        }
    }

    func testOpenCreatesNoHostFile() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        for name in ["cortex-m3", "cortex-m55"] {
            let board = try BoardCatalog.named(name)
            let path = Self.uniquePath("sys-open")
            // SYS_OPEN (0x01): {name, mode 4 ("w": create), name length}.
            let main = Self.semihostingMain(operation: 0x01, text: path, fields: ["4u", "\(path.utf8.count)u"])
            try checkCallIsRefused(board: board, operation: 0x01, mainSource: main, path: path, label: "sys-open-\(name)")
        }
    }

    /// The driver's transport (what `build`'s stack measurement and `run` use) reports the fault.
    func testTransportReportsTheFaultCleanly() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        let board = try BoardCatalog.named("cortex-m33")
        let path = Self.uniquePath("sys-system-transport")
        let command = "touch \(path)"
        let main = Self.semihostingMain(operation: 0x12, text: command, fields: ["\(command.utf8.count)u"])
        let build = try ProjectTestSupport.buildCustomFirmware(board: board, mainSource: main, label: "sys-system-transport")
        let error = try ProjectTestSupport.transportError(board: board, kernel: build.elfPath)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        let message = error?.message ?? "no error within 10 s"
        XCTAssertTrue(message.contains("the firmware faulted") && message.contains("HardFault") && message.contains("R0=0x00000012"), message)
    }
}

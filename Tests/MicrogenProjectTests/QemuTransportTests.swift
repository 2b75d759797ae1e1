import Foundation
import XCTest
import MicrogenIR
import MicrogenHost
@testable import MicrogenProject
#if canImport(Glibc)
import Glibc
#endif

final class QemuTransportTests: XCTestCase {
    func testCloseAndStopAllEndQemu() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        let model = try ProjectTestSupport.compile("kws_ref_model")
        let board = try BoardCatalog.named("cortex-m7")
        let build = try ProjectTestSupport.buildProject(model: model, board: board, label: "transport")

        let closed = try QemuTransport(board: board, kernel: build.elfPath)
        let client = RPCClient(transport: closed)
        XCTAssertEqual(try client.echo([1, 2, 3]), [1, 2, 3])
        let closedPID = closed.processID
        closed.close()
        XCTAssertNotEqual(kill(closedPID, 0) == 0 && !isZombie(closedPID), true, "close() ends QEMU")

        // What the SIGINT/SIGTERM handler does: every QEMU still open is killed.
        let running = try QemuTransport(board: board, kernel: build.elfPath)
        XCTAssertEqual(try RPCClient(transport: running).echo([9]), [9])
        QemuTransport.stopAll()
        XCTAssertThrowsError(try RPCClient(transport: running, options: .init(replyTimeout: 1, attempts: 1)).echo([9])) { error in
            XCTAssertTrue("\(error)".contains("killed by signal 9") || "\(error)".contains("closed"), "\(error)")
        }
        running.close()
    }

    func testRealBoardAndMissingFirmwareAreRefused() throws {
        XCTAssertThrowsError(try QemuTransport(board: try BoardCatalog.named("nrf52840dk"), kernel: "/nonexistent.elf")) { error in
            XCTAssertTrue("\(error)".contains("real hardware"), "\(error)")
        }
        XCTAssertThrowsError(try QemuTransport(board: try BoardCatalog.named("cortex-m4"), kernel: "/nonexistent.elf")) { error in
            XCTAssertTrue("\(error)".contains("build the project with make first"), "\(error)")
        }
    }

    /// SIGINT to a driver that has QEMU running stops QEMU too. The driver here is this test
    /// binary run again in "helper" mode: it starts QEMU, prints its pid and waits.
    func testInterruptedDriverStopsQemu() throws {
        if let kernel = ProcessInfo.processInfo.environment["MG_QEMU_SIGNAL_HELPER"] {
            let transport = try QemuTransport(board: try BoardCatalog.named("cortex-m7"), kernel: kernel)
            let line = "QEMU-PID \(transport.processID)\n"
            _ = line.withCString { write(1, $0, strlen($0)) }
            sleep(30)
            return
        }
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        let model = try ProjectTestSupport.compile("kws_ref_model")
        let build = try ProjectTestSupport.buildProject(model: model, board: try BoardCatalog.named("cortex-m7"), label: "sigint")
        let helper = Process()
        helper.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        helper.arguments = ["MicrogenProjectTests.QemuTransportTests/testInterruptedDriverStopsQemu"]
        helper.environment = ProcessInfo.processInfo.environment.merging(["MG_QEMU_SIGNAL_HELPER": build.elfPath]) { $1 }
        let output = Pipe()
        helper.standardOutput = output
        helper.standardError = FileHandle.nullDevice
        try helper.run()
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while !text.contains("QEMU-PID "), Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("QEMU-PID ") }),
              let qemuPID = pid_t(line.dropFirst("QEMU-PID ".count).trimmingCharacters(in: .whitespaces)) else {
            helper.terminate()
            return XCTFail("the helper did not start QEMU: \(text)")
        }
        XCTAssertEqual(kill(qemuPID, 0), 0, "QEMU runs")
        kill(helper.processIdentifier, SIGINT)
        helper.waitUntilExit()
        XCTAssertEqual(helper.terminationReason, .uncaughtSignal, "the driver still dies of SIGINT")
        var gone = false
        for _ in 0..<100 where !gone {
            gone = kill(qemuPID, 0) != 0 || isZombie(qemuPID)
            if !gone { usleep(20_000) }
        }
        XCTAssertTrue(gone, "QEMU (pid \(qemuPID)) outlived the interrupted driver")
        if !gone { kill(qemuPID, SIGKILL) }
    }

    private func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.contains(") Z ")
    }
}

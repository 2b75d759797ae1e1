import Foundation
import XCTest
import MicrogenIR
import MicrogenHost
@testable import MicrogenProject

final class ProjectEmitterTests: XCTestCase {
    func testModelTooBigIsRefusedBeforeCompiling() throws {
        let model = try ProjectTestSupport.compile("kws_ref_model")
        var board = try BoardCatalog.named("cortex-m7")
        board.memory[1].length = 16 * 1024 // RAM: less than arena + stack (16,384)
        let dir = try ProjectTestSupport.scratchDirectory("too-big")
        XCTAssertThrowsError(try ProjectEmitter.emit(model: model, board: board, to: dir)) { error in
            guard let error = error as? MicrogenError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .doesNotFit)
            XCTAssertTrue(error.message.contains("RAM"), error.message)
            XCTAssertTrue(error.message.contains("arena \(MemoryBudget.format(UInt64(model.plan.arenaSize)))"), error.message)
            let expectedOver = model.plan.arenaSize + 16_384 + Int(MemoryBudget.runtimeRAMBytes) + 8 * model.operators.count - 16 * 1024
            XCTAssertTrue(error.message.contains("over by \(MemoryBudget.format(UInt64(expectedOver))) bytes"), error.message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/Makefile"), "nothing is written")
    }

    func testLinkerOverflowBecomesDoesNotFit() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make"])
        let model = try ProjectTestSupport.compile("kws_ref_model")
        var board = try BoardCatalog.named("cortex-m4")
        // Weights + the runtime's real code (about 8 KB) do not fit; the estimate (4 KB of code) does.
        board.memory[0].length = UInt64(model.weightsBytes) + MemoryBudget.runtimeFlashBytes + 1024
        let dir = try ProjectTestSupport.scratchDirectory("overflow")
        let project = try ProjectEmitter.emit(model: model, board: board, to: dir)
        XCTAssertThrowsError(try ProjectBuilder.build(project)) { error in
            guard let error = error as? MicrogenError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .doesNotFit, error.message)
            XCTAssertTrue(error.message.contains("region FLASH is over by"), error.message)
        }
    }

    func testReEmittingForAnotherBoardRemovesStalePortFiles() throws {
        let model = try ProjectTestSupport.compile("kws_ref_model")
        let dir = try ProjectTestSupport.scratchDirectory("re-emit")
        _ = try ProjectEmitter.emit(model: model, board: try BoardCatalog.named("nrf52840dk"), to: dir)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/mg_uart_nrf52.c"))
        let project = try ProjectEmitter.emit(model: model, board: try BoardCatalog.named("cortex-m7"), to: dir)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/mg_uart_nrf52.c"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/mg_uart_cmsdk.c"))
        for name in ["Makefile", "linker.ld", "main.c", "mg_startup.c", "mg_board.h", "mg_rpc.c", "kws_ref_model.c", "README.md"] {
            XCTAssertTrue(project.files.contains(name), name)
        }
    }

    func testGeneratedFilesDescribeTheBoard() throws {
        let model = try ProjectTestSupport.compile("kws_ref_model")
        let dir = try ProjectTestSupport.scratchDirectory("files")
        _ = try ProjectEmitter.emit(model: model, board: try BoardCatalog.named("nucleo-l4r5zi"), to: dir)
        let header = try String(contentsOfFile: dir + "/mg_board.h", encoding: .utf8)
        XCTAssertTrue(header.contains("#define MG_UART_BASE 0x40008000u"), header)
        XCTAssertTrue(header.contains("MG_UART_BRR 8889u"), header)
        XCTAssertTrue(header.contains("0x48001800u, 7u, 8u"), "PG7 is GPIOG (0x48001800) pin 7, AF8: \(header)")
        let setup = try String(contentsOfFile: dir + "/mg_board.c", encoding: .utf8)
        XCTAssertTrue(setup.contains("MG_REG32(0x40007004u) |= 0x00000200u;"), setup)
        let linker = try String(contentsOfFile: dir + "/linker.ld", encoding: .utf8)
        XCTAssertTrue(linker.contains("FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 0x00200000"), linker)
        XCTAssertTrue(linker.contains("RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 0x000A0000"), linker)
        let makefile = try String(contentsOfFile: dir + "/Makefile", encoding: .utf8)
        XCTAssertTrue(makefile.contains("pyocd flash --target stm32l4r5zitx $(HEX)"), makefile)
    }

    /// The project is self-contained: copied elsewhere, `make` builds it and `make qemu` runs it,
    /// with nothing of microgen's involved. The RPC exchange goes through make's stdin/stdout.
    func testCopiedProjectBuildsAndRunsWithMakeQemu() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make", QemuCommand.program])
        let model = try ProjectTestSupport.compile("kws_ref_model")
        let original = try ProjectTestSupport.scratchDirectory("original")
        _ = try ProjectEmitter.emit(model: model, board: try BoardCatalog.named("cortex-m7"), to: original)
        let copy = try ProjectTestSupport.scratchDirectory("copy") + "/kws-firmware"
        try FileManager.default.copyItem(atPath: original, toPath: copy)
        try FileManager.default.removeItem(atPath: original)

        let build = try runProcess("make", ["-C", copy], workingDirectory: copy)
        XCTAssertEqual(build.status, 0, build.standardError)
        XCTAssertTrue(FileManager.default.fileExists(atPath: copy + "/build/firmware.hex"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: copy + "/build/firmware.bin"))

        let transport = try ProcessTransport(executable: "make", arguments: ["-s", "-C", copy, "qemu"], name: "make qemu")
        let client = RPCClient(transport: transport, options: RPCClient.Options(replyTimeout: 5))
        defer { transport.close() }
        let payload: [UInt8] = Array(0...255)
        XCTAssertEqual(try client.echo(payload), payload)
        let info = try client.info()
        XCTAssertEqual(info.modelName, "kws_ref_model")
        XCTAssertEqual(info.board, "cortex-m7")
        XCTAssertEqual(info.instructionsPerTick, 40)
    }
}

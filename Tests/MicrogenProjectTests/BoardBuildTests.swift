import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenProject

/// Real boards cannot run here: their kws projects must build with make, and every section of
/// the ELF must lie inside the board's memory map (checked with readelf by ProjectBuilder).
final class BoardBuildTests: XCTestCase {
    static let realBoards = ["stm32f746g-disco", "nucleo-h743zi", "nucleo-l4r5zi", "nrf52840dk"]

    func testRealBoardProjectsBuildAndFit() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make"])
        let model = try ProjectTestSupport.compile("kws_ref_model")
        for name in Self.realBoards {
            let board = try BoardCatalog.named(name)
            let build = try ProjectTestSupport.buildProject(model: model, board: board, label: "real-\(name)")
            let size = build.size
            func section(_ name: String) -> FirmwareSection? { size.sections.first { $0.name == name } }
            XCTAssertEqual(section(".isr_vector")?.address, board.codeRegion.origin, "\(name): vector table first in flash")
            XCTAssertTrue(board.arenaRegion.contains(section(".mg_arena")!.address, size: UInt64(model.plan.arenaSize)), "\(name): arena in \(board.arenaRegion.name)")
            XCTAssertGreaterThanOrEqual(size.arena, UInt64(model.plan.arenaSize), name)
            XCTAssertEqual(section(".stack")?.address, board.stackRegion.origin, "\(name): stack at the bottom of \(board.stackRegion.name)")
            XCTAssertEqual(size.stack, UInt64(board.stackSize), name)
            XCTAssertGreaterThanOrEqual(size.rodata, UInt64(model.weightsBytes), "\(name): the weights are in flash")
            for use in size.regions { XCTAssertGreaterThanOrEqual(use.free, 0, "\(name): \(use.region.name)") }
            // The board's flash command is in the Makefile, with the image substituted.
            let makefile = try String(contentsOfFile: build.project.directory + "/Makefile", encoding: .utf8)
            XCTAssertTrue(makefile.contains(board.flash!.tool + " "), name)
            XCTAssertFalse(makefile.contains("{elf}") || makefile.contains("{bin}") || makefile.contains("{hex}"), name)
            let qemu = try runProcess("make", ["-s", "-C", build.project.directory, "qemu"])
            XCTAssertNotEqual(qemu.status, 0, "\(name): make qemu refuses real hardware")
            print("\(name):\n\(size.render())")
        }
    }

    func testMeasureRefusesASectionOutsideTheMap() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc", "make"])
        let model = try ProjectTestSupport.compile("kws_ref_model")
        let board = try BoardCatalog.named("cortex-m4")
        let build = try ProjectTestSupport.buildProject(model: model, board: board, label: "outside")
        var moved = board
        moved.memory[1].origin = 0x3000_0000 // RAM somewhere else: .bss is now outside every region
        XCTAssertThrowsError(try ProjectBuilder.measure(elf: build.elfPath, board: moved)) { error in
            XCTAssertTrue("\(error)".contains("outside every memory region"), "\(error)")
        }
    }
}

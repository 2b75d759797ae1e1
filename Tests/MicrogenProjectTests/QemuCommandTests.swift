import Foundation
import XCTest
import MicrogenIR
import MicrogenHost
@testable import MicrogenProject

/// Every QEMU command line microgen runs or writes comes from QemuCommand: none enables
/// semihosting (which would give firmware the host's shell and files), and each has -no-reboot,
/// which the firmware's exit (a reset request) relies on to end QEMU.
final class QemuCommandTests: XCTestCase {
    func checkNoSemihosting(_ arguments: [String], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(arguments.contains { $0.lowercased().contains("semihosting") }, "\(what): \(arguments)", file: file, line: line)
        XCTAssertTrue(arguments.contains("-no-reboot"), "\(what): \(arguments)", file: file, line: line)
    }

    func testNoArgumentListEnablesSemihosting() throws {
        let emulated = try BoardCatalog.all().filter(\.isEmulated)
        XCTAssertFalse(emulated.isEmpty)
        for board in emulated {
            // The stack measurement, `run` and `profile` (QemuTransport) and the tests' own runs.
            checkNoSemihosting(try QemuCommand.arguments(board: board, kernel: "firmware.elf"), board.name)
        }
        checkNoSemihosting(QemuCommand.arguments(machine: "mps2-an500", kernel: "firmware.elf"), "machine only")
    }

    /// The generated Makefile's `qemu` target, for every emulated board.
    func testMakefileQemuTargetHasNoSemihosting() throws {
        let model = try ProjectTestSupport.compile("kws_ref_model")
        for board in try BoardCatalog.all().filter(\.isEmulated) {
            let dir = try ProjectTestSupport.scratchDirectory("makefile-\(board.name)")
            _ = try ProjectEmitter.emit(model: model, board: board, to: dir)
            let makefile = try String(contentsOfFile: dir + "/Makefile", encoding: .utf8)
            let recipe = makefile.components(separatedBy: "\n").drop { !$0.hasPrefix("qemu:") }.dropFirst().first ?? ""
            checkNoSemihosting(recipe.split(separator: " ").map(String.init), "\(board.name) Makefile")
            XCTAssertFalse(makefile.lowercased().contains("-semihosting"), board.name)
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// An out-of-band line (fault report, end-of-run record) starts with 0x7D followed by "MG-";
    /// a frame sends 0x7D only as an escape, so the same text inside a frame is never taken for one.
    func testOutOfBandLinesAreNotFoundInsideFrames() {
        let text = Array("\r\n}MG-FAULT HardFault IPSR=0x00000003\r\n\r\n}MG-EXIT STATUS=0x00000083\r\n".utf8)
        var faults = FaultLineScanner()
        var exits = ExitRecordScanner()
        for type: UInt8 in [0x81, 0x87, 0xFF] {
            let frame = Frame(type: type, seq: 1, payload: text).encoded()
            faults.feed(frame)
            exits.feed(frame)
        }
        faults.finish()
        exits.finish()
        XCTAssertNil(faults.report)
        XCTAssertNil(exits.record)

        var bare = ExitRecordScanner()
        for byte in text { bare.feed([byte]) }
        XCTAssertEqual(bare.record, ExitRecord(status: 131))
        XCTAssertEqual(bare.record?.exception, 3)
        XCTAssertEqual(ExitRecord.find(in: Array("\r\n}MG-EXIT STATUS=0xFFFFFFFE\r\n".utf8))?.status, -2)
        XCTAssertNil(ExitRecord.find(in: Array("\r\nMG-EXIT STATUS=0x00000000\r\n".utf8)), "no lead byte, no record")
    }
}

import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenProject

/// Board descriptions: every file in boards/ loads, and a broken one is refused with an error
/// that names the file and the field.
final class BoardTests: XCTestCase {
    func testEveryBoardFileLoads() throws {
        let boards = try BoardCatalog.all()
        let names = boards.map(\.name)
        for expected in ["cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55",
                         "stm32f746g-disco", "nucleo-h743zi", "nucleo-l4r5zi", "nrf52840dk"] {
            XCTAssertTrue(names.contains(expected), "boards/\(expected).json")
        }
        XCTAssertEqual(Set(names).count, names.count)
        for board in boards {
            XCTAssertTrue(board.isEmulated || board.flash != nil, "\(board.name): real boards say how to flash them")
            XCTAssertEqual(board.codeRegion.kind, .flash)
            XCTAssertEqual(board.arenaRegion.kind, .ram)
        }
        XCTAssertEqual(boards.prefix(5).map(\.isEmulated), [true, true, true, true, true], "emulated boards come first")
        let table = BoardCatalog.render(boards)
        for name in names { XCTAssertTrue(table.contains(name)) }
        XCTAssertTrue(table.contains("qemu mps2-an500"))
    }

    func testRealBoardFacts() throws {
        let disco = try BoardCatalog.named("stm32f746g-disco")
        XCTAssertEqual(disco.codeRegion.origin, 0x0800_0000)
        XCTAssertEqual(disco.codeRegion.length, 1024 * 1024)
        XCTAssertEqual(disco.uart.name, "USART1")
        XCTAssertEqual(disco.uart.pin("tx")?.port, "A")
        XCTAssertEqual(disco.uart.pin("tx")?.pin, 9)
        XCTAssertEqual(try BoardLoader.stm32BaudDivider(disco), 139)

        let h7 = try BoardCatalog.named("nucleo-h743zi")
        XCTAssertEqual(h7.arenaRegion.name, "AXI_SRAM")
        XCTAssertEqual(h7.stackRegion.name, "DTCM")
        XCTAssertEqual(h7.uart.name, "USART3")

        let l4 = try BoardCatalog.named("nucleo-l4r5zi")
        XCTAssertEqual(l4.uart.kind, "lpuart")
        XCTAssertEqual(try BoardLoader.stm32BaudDivider(l4), 8889, "LPUART: 256 * 4 MHz / 115200")
        XCTAssertTrue(l4.uart.setup.contains { $0.address == 0x4000_7004 && $0.value == 0x200 }, "VDDIO2 valid (PWR_CR2.IOSV)")

        let nrf = try BoardCatalog.named("nrf52840dk")
        XCTAssertEqual(nrf.uart.family, .nrf52)
        XCTAssertEqual(nrf.uart.pin("rx")?.pin, 8)
        XCTAssertEqual(nrf.flash?.tool, "nrfjprog")
    }

    func testQemuInstructionsPerTick() throws {
        XCTAssertTrue(try BoardCatalog.named("cortex-m7").qemuInstructionsPerTick == (40, 1))
        XCTAssertTrue(try BoardCatalog.named("cortex-m33").qemuInstructionsPerTick == (50, 1))
        XCTAssertTrue(try BoardCatalog.named("cortex-m55").qemuInstructionsPerTick == (125, 4))
    }

    func testUnknownBoardListsTheKnownOnes() {
        XCTAssertThrowsError(try BoardCatalog.named("cortex-m99")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("unknown board \"cortex-m99\""), text)
            XCTAssertTrue(text.contains("cortex-m7"), text)
        }
    }

    /// cortex-m7.json with one edit applied.
    func broken(_ edit: (inout [String: Any]) -> Void) throws -> Data {
        let path = try Resources.boardsDirectory() + "/cortex-m7.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        edit(&json)
        return try JSONSerialization.data(withJSONObject: json)
    }

    func assertRefused(_ edit: (inout [String: Any]) -> Void, mentions fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let data = try broken(edit)
        XCTAssertThrowsError(try BoardLoader.parse(data, source: "boards/test.json"), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("boards/test.json"), text, file: file, line: line)
            for fragment in fragments { XCTAssertTrue(text.contains(fragment), "\(text) should mention \(fragment)", file: file, line: line) }
        }
    }

    func testBrokenDescriptionsAreRefusedClearly() throws {
        try assertRefused({ $0.removeValue(forKey: "clock_hz") }, mentions: ["clock_hz: missing"])
        try assertRefused({ $0["clock_hz"] = "fast" }, mentions: ["clock_hz", "integer"])
        try assertRefused({ $0["core"] = "cortex-a53" }, mentions: ["core", "not supported"])
        try assertRefused({ json in
            var memory = json["memory"] as! [[String: Any]]
            memory[1]["origin"] = "0x00100000" // inside FLASH
            json["memory"] = memory
        }, mentions: ["memory[1]", "overlaps FLASH"])
        try assertRefused({ json in
            var memory = json["memory"] as! [[String: Any]]
            memory[0]["length"] = "lots"
            json["memory"] = memory
        }, mentions: ["memory[0].length", "512K"])
        try assertRefused({ $0["placement"] = ["arena": "SRAM9"] }, mentions: ["placement.arena", "SRAM9"])
        try assertRefused({ $0["placement"] = ["stack": "FLASH"] }, mentions: ["placement.stack", "expected ram"])
        try assertRefused({ $0["stack_size"] = 100 }, mentions: ["stack_size"])
        try assertRefused({ json in
            var uart = json["uart"] as! [String: Any]
            uart["family"] = "pl011"
            json["uart"] = uart
        }, mentions: ["uart.family", "pl011", "cmsdk"])
        try assertRefused({ $0["counter"] = ["kind": "rdtsc"] }, mentions: ["counter.kind", "rdtsc"])
        try assertRefused({ $0["qemu"] = ["machine": "mps2-an500", "extra_arguments": ["-semihosting-config", "enable=on,target=native"]] },
                          mentions: ["qemu.extra_arguments", "semihosting"])
        XCTAssertThrowsError(try BoardLoader.parse(Data("{ nope".utf8), source: "boards/test.json")) { error in
            XCTAssertTrue("\(error)".contains("not valid JSON"))
        }
    }

    func testStm32UartNeedsPinsAndAlternateFunctions() throws {
        let path = try Resources.boardsDirectory() + "/nucleo-h743zi.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var uart = json["uart"] as! [String: Any]
        uart["pins"] = [["signal": "tx", "port": "D", "pin": 8]]
        json["uart"] = uart
        XCTAssertThrowsError(try BoardLoader.parse(try JSONSerialization.data(withJSONObject: json), source: "h7.json")) { error in
            XCTAssertTrue("\(error)".contains("uart.pins"), "\(error)")
        }
    }
}

import Foundation
import XCTest
import MicrogenIR
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import MicrogenHost
import MicrogenProject

/// A model file is untrusted: whatever its tensor names hold, they reach the generated C, the
/// terminal and the charts as inert text, and its file name never makes microgen overwrite its own files.
final class UntrustedModelTextTests: XCTestCase {
    /// A small CONV_2D with its TFLite Micro output (Tests/Fixtures/ops, tools/refgen). Float32, so
    /// the weights' names reach the .c (comments above the constant arrays) and the input's and
    /// output's the .h.
    static let fixture = TestPaths.fixtures + "/ops/conv_2d/float32_same_stride1_relu"

    /// Names that once ended a C comment (`*`, then backslash + CR as a line splice, then `/`, in
    /// plain and trigraph spelling), pulled in host files, broke the build, or would drive a terminal.
    /// The injections define a function per tensor, so that they would compile (and run) however
    /// many names reach one file.
    static func hostileNames(marker: String) -> [(label: String, bytes: (Int) -> [UInt8])] {
        func constructor(_ tensor: Int) -> String {
            "__attribute__((constructor)) static void mg_injected_t\(tensor)(void) { if (system(\"touch \(marker)\")) {} } /*"
        }
        let fixed: [(String, [UInt8])] = [
            ("backslash-LF", Array("name\\\n#include \"/etc/hostname\"\n".utf8)),
            ("lone CR", Array("*/\r#include \"/etc/hostname\"\r".utf8)),
            ("comment opener", Array("in/*put".utf8)),
            ("escape sequences", Array("\u{1B}[31mred\u{1B}[0m\u{1B}]0;title\u{07}".utf8)),
            ("bidi and non-ASCII", Array("name\u{202E}gnp.exe caf\u{E9} \u{4E2D}\u{2066}".utf8)),
            ("NUL and bad UTF-8", [0x61, 0x00, 0x62, 0xFF, 0xFE, 0x2A]),
        ]
        return [
            ("backslash-CR splice", { Array("*\\\r/\r#include <stdlib.h>\r\(constructor($0))".utf8) }),
            ("trigraph splice", { Array("*??/\r/\r#include <stdlib.h>\r\(constructor($0))".utf8) }),
        ] + fixed.map { label, bytes in (label, { _ in bytes }) }
    }

    private func microgen(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(GeneratedCodeTests.microgen, arguments)
    }

    /// `model` with every tensor renamed "t<index>" + `name(index)`, written to `path` (and read
    /// back when `check`, to be sure the names arrived).
    private func writeRenamed(_ model: String, to path: String, name: (Int) -> [UInt8], check: Bool = true) throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: model)))
        let renamed = TensorRenamer.rename(original) { Array("t\($0)".utf8) + name($0) }
        try Data(renamed).write(to: URL(fileURLWithPath: path))
        guard check else { return }
        let graph = try ModelBuilder.load(path: path)
        XCTAssertEqual(graph.tensors.map(\.name), graph.tensors.indices.map { String(decoding: Array("t\($0)".utf8) + name($0), as: UTF8.self) },
                       "every tensor carries the hostile name")
    }

    /// Bytes a terminal would act on: C0 controls but newline, DEL, C1 controls (as UTF-8), bidi controls.
    private func terminalControls(_ text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter {
            ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value)
                || (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value)
        }
    }

    /// Every hostile name, on every tensor: the host firmware builds at -Wall -Wextra -Werror, the
    /// model's C holds nothing but printable ASCII and no backslash, the injected constructor
    /// never runs, the output is TFLite Micro's, and nothing printed drives the terminal.
    func testHostileTensorNamesStayInertInTheGeneratedC() throws {
        let scratch = try TestPaths.temporaryDirectory("hostile-names")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let marker = scratch + "/INJECTED"
        for (i, name) in Self.hostileNames(marker: marker).enumerated() {
            let model = scratch + "/hostile\(i).tflite", build = scratch + "/build\(i)"
            try writeRenamed(Self.fixture + "/model.tflite", to: model, name: name.bytes)
            let result = try microgen(["run", model, "--board", "host", "--build-dir", build,
                                       "--input", Self.fixture + "/input0.npy", "--expect", Self.fixture + "/output0.npy"])
            XCTAssertEqual(result.status, 0, "\(name.label): \(result.standardError)")
            XCTAssertTrue(result.standardOutput.contains("output 0: match"), "\(name.label): \(result.standardOutput)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "\(name.label): the tensor name ran as code")
            XCTAssertEqual(terminalControls(result.standardOutput + result.standardError), [], name.label)
            for file in ["hostile\(i).c", "hostile\(i).h"] {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: build + "/" + file)))
                XCTAssertEqual(bytes.filter { $0 != 0x0A && !(0x20...0x7E).contains($0) }, [], "\(name.label): \(file) holds bytes outside printable ASCII")
                XCTAssertFalse(bytes.contains(UInt8(ascii: "\\")), "\(name.label): \(file) holds a backslash")
                let shown = file.hasSuffix(".c") ? ["/* tensor 1 \"t1", "/* tensor 2 \"t2"] : ["/* input 0 \"t0", "/* output 0 \"t3"]
                for comment in shown {
                    XCTAssertTrue(String(decoding: bytes, as: UTF8.self).contains(comment), "\(name.label): \(file) has no \(comment)")
                }
            }
        }
    }

    /// The same injection on a Cortex-M board: the firmware is built with arm-none-eabi-gcc and
    /// run under QEMU (where injected code could reach the host through semihosting). This start-up
    /// code runs no constructors, so what shows an injection here is the compiled objects: they
    /// must not define the injected functions.
    func testHostileTensorNamesStayInertInFirmwareUnderQEMU() throws {
        let scratch = try TestPaths.temporaryDirectory("hostile-qemu")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let marker = scratch + "/INJECTED"
        for (i, name) in Self.hostileNames(marker: marker).prefix(2).enumerated() {
            let model = scratch + "/hostile\(i).tflite"
            try writeRenamed(Self.fixture + "/model.tflite", to: model, name: name.bytes)
            let build = scratch + "/m3-\(i)"
            let result = try microgen(["run", model, "--board", "cortex-m3", "--build-dir", build,
                                       "--input", Self.fixture + "/input0.npy", "--expect", Self.fixture + "/output0.npy"])
            XCTAssertEqual(result.status, 0, "\(name.label): \(result.standardError)")
            XCTAssertTrue(result.standardOutput.contains("output 0: match"), "\(name.label): \(result.standardOutput)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "\(name.label): the tensor name ran as code")
            let objects = try FileManager.default.contentsOfDirectory(atPath: build + "/build").filter { $0.hasSuffix(".o") }
            XCTAssertTrue(objects.contains("hostile\(i).o"), "\(objects)")
            let symbols = try runProcess("arm-none-eabi-nm", objects.map { build + "/build/" + $0 })
            XCTAssertEqual(symbols.status, 0, symbols.standardError)
            XCTAssertTrue(symbols.standardOutput.contains("mg_hostile\(i)_run"), "nm lists the model's symbols")
            XCTAssertFalse(symbols.standardOutput.contains("mg_injected"), "\(name.label): the tensor name was compiled as code")
        }
    }

    /// `inspect` shows escape sequences, bidi overrides and NULs as <U+XXXX>, and its memory
    /// chart stays well-formed XML.
    func testInspectAndChartsShowHostileNamesVisiblyAndInertly() throws {
        let scratch = try TestPaths.temporaryDirectory("hostile-inspect")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let name = Array("\u{1B}[2J\u{1B}]0;owned\u{07}\r\u{202E}<b>&\"x\"\u{0}".utf8)
        let model = scratch + "/escapes.tflite"
        try writeRenamed(Self.fixture + "/model.tflite", to: model, name: { _ in name })
        for chart in ["memory.svg", "memory.html"] {
            let result = try microgen(["inspect", model, "--memory-chart", scratch + "/" + chart])
            XCTAssertEqual(result.status, 0, result.standardError)
            XCTAssertEqual(terminalControls(result.standardOutput + result.standardError), [])
            XCTAssertTrue(result.standardOutput.contains("t0<U+001B>[2J"), result.standardOutput)
            let page = try String(contentsOfFile: scratch + "/" + chart, encoding: .utf8)
            XCTAssertEqual(terminalControls(page), [], chart)
            XCTAssertFalse(page.contains("<b>"), chart)
            XCTAssertTrue(page.contains("&lt;b&gt;&amp;&quot;x&quot;"), chart)
        }
        let svg = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: scratch + "/memory.svg")))
        XCTAssertTrue(svg.parse(), "the SVG is well-formed XML: \(String(describing: svg.parserError))")
    }

    /// An error that quotes a tensor name quotes it escaped.
    func testErrorMessagesShowHostileNamesVisibly() throws {
        let scratch = try TestPaths.temporaryDirectory("hostile-error")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let model = scratch + "/int16.tflite"
        try writeRenamed(TestPaths.fixtures + "/bad/int16_activations.tflite", to: model, name: { _ in Array("\u{1B}[31m\r".utf8) }, check: false)
        let result = try microgen(["inspect", model])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.standardError.contains("int16"), result.standardError)
        XCTAssertTrue(result.standardError.contains("<U+001B>[31m<U+000D>"), result.standardError)
        XCTAssertEqual(terminalControls(result.standardError), [])
    }

    /// --name is a C identifier that is no runtime, kernel, port or template file's name; a model
    /// file called main.tflite or mg_rpc.tflite gets a name that steps aside, and nothing is overwritten.
    func testModelNamesNeverOverwriteMicrogensOwnFiles() throws {
        let scratch = try TestPaths.temporaryDirectory("model-names")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let fixtureModel = Self.fixture + "/model.tflite"
        for name in ["mg_common", "main", "mg_rpc", "rpc", "host_main", "a b", "../x", "x\u{1B}"] {
            let output = scratch + "/named-" + String(name.unicodeScalars.filter { $0.properties.isAlphabetic })
            let result = try microgen(["build", fixtureModel, "--name", name, "--output", output])
            XCTAssertEqual(result.status, 1, "--name \(name.debugDescription) was accepted")
            XCTAssertTrue(result.standardError.hasPrefix("microgen: invalid argument: the model name"), result.standardError)
            XCTAssertFalse(FileManager.default.fileExists(atPath: output), "--name \(name.debugDescription) wrote files")
        }
        let kernels = try Resources.kernelsDirectory()
        for stem in ["main", "mg_common", "mg_rpc"] {
            let model = scratch + "/\(stem).tflite", output = scratch + "/\(stem)-library"
            try FileManager.default.copyItem(atPath: fixtureModel, toPath: model)
            let library = try microgen(["build", model, "--output", output])
            XCTAssertEqual(library.status, 0, library.standardError)
            let files = Set(try FileManager.default.contentsOfDirectory(atPath: output))
            XCTAssertTrue(files.isSuperset(of: ["model_\(stem).c", "model_\(stem).h", "mg_common.h"]), "\(files)")
            XCTAssertFalse(files.contains("\(stem).c"), "\(files)")
            for file in files where FileManager.default.fileExists(atPath: kernels + "/" + file) {
                XCTAssertEqual(FileManager.default.contents(atPath: output + "/" + file), FileManager.default.contents(atPath: kernels + "/" + file),
                               "\(stem).tflite: \(file) is the kernel header")
            }
            // The host firmware holds main.c, mg_rpc.c and the model side by side.
            let run = try microgen(["run", model, "--board", "host", "--input", Self.fixture + "/input0.npy", "--expect", Self.fixture + "/output0.npy"])
            XCTAssertEqual(run.status, 0, run.standardError)
        }
    }

    /// A model name longer than the 32 bytes a firmware reports (issue 11): run, profile and
    /// build --board work on the host and under QEMU, with TFLite Micro's output.
    func testModelNamesLongerThanTheDeviceReportsRun() throws {
        let scratch = try TestPaths.temporaryDirectory("long-name")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let stem = "a_model_whose_file_name_is_much_longer_than_thirty_two_chars"
        XCTAssertEqual(stem.count, 60)
        let model = scratch + "/\(stem).tflite"
        try FileManager.default.copyItem(atPath: Self.fixture + "/model.tflite", toPath: model)
        for board in ["host", "cortex-m3"] {
            let run = try microgen(["run", model, "--board", board, "--input", Self.fixture + "/input0.npy", "--expect", Self.fixture + "/output0.npy"])
            XCTAssertEqual(run.status, 0, "\(board): \(run.standardError)")
            XCTAssertTrue(run.standardOutput.contains("output 0: match"), "\(board): \(run.standardOutput)")
        }
        let profile = try microgen(["profile", model, "--board", "host"])
        XCTAssertEqual(profile.status, 0, profile.standardError)
        // build --board measures the stack by running the firmware under QEMU, which checks the name too.
        let build = try microgen(["build", model, "--board", "cortex-m3", "--output", scratch + "/m3"])
        XCTAssertEqual(build.status, 0, build.standardError)
        XCTAssertTrue(build.standardOutput.contains("measured high-water mark"), build.standardOutput)
    }
}

import XCTest
import MicrogenIR
@testable import MicrogenHost

/// The model's C name names files beside the runtime's: it must never be one of theirs.
final class ModelNameTests: XCTestCase {
    func testReservedNamesComeFromTheTemplateFiles() throws {
        let reserved = try ModelName.reservedNames()
        for name in ["mg_common", "mg_rpc", "mg_port", "mg_conv", "mg_board", "mg_startup", "main", "host_main", "makefile", "linker"] {
            XCTAssertNotNil(reserved[name], "\(name) is a file microgen writes")
        }
        // Without "mg_": the model's symbol prefix and header guard would be the runtime file's.
        for name in ["common", "rpc", "port", "conv"] { XCTAssertNotNil(reserved[name], name) }
        XCTAssertEqual(reserved["mg_rpc"].map { $0.hasPrefix("mg_rpc.") }, true)
        XCTAssertNil(reserved["kws_ref_model"])
        XCTAssertEqual(ModelName.reservedNames(fileNames: ["mg_x.h", "main.c.mustache", "README.md.mustache"]),
                       ["mg_x": "mg_x.h", "x": "mg_x.h", "main": "main.c.mustache", "readme": "README.md.mustache"])
    }

    func testAnExplicitNameIsAnIdentifierThatClashesWithNothing() throws {
        let reserved = try ModelName.reservedNames()
        XCTAssertEqual(try ModelName.validated("kws", reserved: reserved), "kws")
        XCTAssertEqual(try ModelName.validated("KWS_v2", reserved: reserved), "kws_v2")
        XCTAssertEqual(try ModelName.validated(String(repeating: "a", count: 64), reserved: reserved), String(repeating: "a", count: 64))
        func refusal(_ name: String) -> String {
            do {
                _ = try ModelName.validated(name, reserved: reserved)
                return "accepted"
            } catch let error as MicrogenError {
                XCTAssertEqual(error.kind, .invalidArgument)
                return error.message
            } catch {
                return "unexpected \(error)"
            }
        }
        XCTAssertTrue(refusal("mg_common").contains("mg_common.h"), refusal("mg_common"))
        XCTAssertTrue(refusal("MAIN").contains("main.c"), refusal("MAIN"))
        XCTAssertTrue(refusal("rpc").contains("mg_rpc."), refusal("rpc"))
        XCTAssertTrue(refusal("host_main").contains("host_main.c"), refusal("host_main"))
        for bad in ["", "1net", "my net", "a__b", "_a", "a_", "kws.c", "../kws", "k\u{1B}[0m", "caf\u{E9}"] {
            XCTAssertTrue(refusal(bad).contains("not a C name"), "\(bad.debugDescription): \(refusal(bad))")
            XCTAssertFalse(refusal(bad).contains("\u{1B}"))
        }
        XCTAssertTrue(refusal(String(repeating: "a", count: 65)).contains("at most 64"))
    }

    func testADefaultNameIsDerivedAndStepsAsideFromReservedNames() throws {
        let reserved = try ModelName.reservedNames()
        XCTAssertEqual(ModelName.derived(fromFileName: "kws_ref_model", reserved: reserved), "kws_ref_model")
        XCTAssertEqual(ModelName.derived(fromFileName: "My Model (v2)", reserved: reserved), "my_model_v2")
        XCTAssertEqual(ModelName.derived(fromFileName: "main", reserved: reserved), "model_main")
        XCTAssertEqual(ModelName.derived(fromFileName: "mg_rpc", reserved: reserved), "model_mg_rpc")
        XCTAssertEqual(ModelName.derived(fromFileName: "common", reserved: reserved), "model_common")
        XCTAssertEqual(ModelName.derived(fromFileName: "\u{1B}]0;x\u{7}", reserved: reserved), "m_0_x")
        let long = ModelName.derived(fromFileName: String(repeating: "abc_", count: 30), reserved: reserved)
        XCTAssertEqual(long, String(String(repeating: "abc_", count: 16).dropLast()), "cut to 64 characters, then the trailing underscore dropped")
        XCTAssertEqual(try ModelName.validated(long, reserved: reserved), long, "a derived name passes the explicit rules")
    }

    /// A firmware reports the first 32 bytes of a longer model name (mg_rpc.c, MAX_NAME): the host
    /// compares the name cut the same way, and the build id.
    func testALongModelNameIsComparedAsTheDeviceReportsIt() throws {
        let long = "a_model_whose_file_name_is_much_longer_than_thirty_two_chars"
        var model = FakeDevice.Model()
        model.name = String(long.prefix(32))
        let session = DeviceSession(transport: FakeDevice(model: model), options: RPCClientTests.fast)
        XCTAssertNoThrow(try session.verify(expectedName: long, inputs: RPCClientTests.inputSpecs, expectedBuildID: model.buildID))

        let other = DeviceSession(transport: FakeDevice(model: model), options: RPCClientTests.fast)
        XCTAssertThrowsError(try other.verify(expectedName: "a_different_model", inputs: RPCClientTests.inputSpecs)) {
            XCTAssertEqual(($0 as? MicrogenError)?.kind, .mismatch)
        }
        let rebuilt = DeviceSession(transport: FakeDevice(model: model), options: RPCClientTests.fast)
        XCTAssertThrowsError(try rebuilt.verify(expectedName: long, inputs: RPCClientTests.inputSpecs, expectedBuildID: model.buildID &+ 1)) {
            XCTAssertTrue("\($0)".contains("build id"), "\($0)")
        }
    }
}

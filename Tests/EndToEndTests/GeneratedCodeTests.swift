import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenHost
@testable import MicrogenProject

/// Properties of the generated C itself: deterministic, warning-free on every compiler we target,
/// and free of globals that would stop two models from sharing one program.
final class GeneratedCodeTests: XCTestCase {
    /// The microgen executable that `swift build` put next to the test bundle.
    static var microgen: String {
        let bundle = Bundle(for: GeneratedCodeTests.self).bundleURL
        let candidates = [bundle.appendingPathComponent("microgen"), bundle.deletingLastPathComponent().appendingPathComponent("microgen"),
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("microgen")]
        return (candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]).path
    }

    func testBuildIsByteIdenticalAcrossProcesses() throws {
        // Two separate processes, so hash seeds and dictionary orders differ between the runs.
        let a = try TestPaths.temporaryDirectory("det-a"), b = try TestPaths.temporaryDirectory("det-b")
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        for model in ["pretrainedResnet_quant", "vww_96_float"] {
            for directory in [a, b] {
                let result = try runProcess(Self.microgen, ["build", TestPaths.models + "/\(model).tflite", "--emit", "library", "--output", directory + "/" + model])
                XCTAssertEqual(result.status, 0, result.standardError)
            }
            let files = try FileManager.default.contentsOfDirectory(atPath: a + "/" + model).sorted()
            XCTAssertTrue(files.contains("report.json"))
            XCTAssertEqual(files, try FileManager.default.contentsOfDirectory(atPath: b + "/" + model).sorted())
            for file in files {
                XCTAssertEqual(FileManager.default.contents(atPath: a + "/\(model)/\(file)"),
                               FileManager.default.contents(atPath: b + "/\(model)/\(file)"), "\(model)/\(file) differs between two builds")
            }
        }
    }

    /// gcc, clang and arm-none-eabi-gcc (Cortex-M7 and soft-float Cortex-M3) accept every reference model's C at -Werror.
    func testGeneratedCodeCompilesWarningFreeEverywhere() throws {
        // Every compiler is required (scripts/setup installs them): a missing one fails here.
        let compilers: [(String, [String])] = [("gcc", []), ("clang", []),
                                               ("arm-none-eabi-gcc", ["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-mthumb"]),
                                               ("arm-none-eabi-gcc", ["-mcpu=cortex-m3", "-mfloat-abi=soft", "-mthumb"])]
        let directory = try TestPaths.temporaryDirectory("werror")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for model in ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "pretrainedResnet", "ad01_fp32"] {
            let compiled = try ModelBuilder.compile(path: TestPaths.models + "/\(model).tflite")
            try ModelBuilder.write(compiled, to: directory + "/" + model)
            for (compiler, flags) in compilers {
                let result = try runProcess(compiler, HostProgram.strictFlags + flags + ["-c", directory + "/\(model)/\(compiled.name).c", "-o", directory + "/\(model)/out.o"])
                XCTAssertEqual(result.status, 0, "\(compiler) \(flags) on \(model):\n\(result.standardError)")
            }
        }
    }

    /// Two models, each with its own prefix, link into one program and both run correctly.
    func testTwoModelsLiveInOneProgram() throws {
        let directory = try TestPaths.temporaryDirectory("two-models")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let kws = try ModelBuilder.compile(path: TestPaths.models + "/kws_ref_model.tflite", name: "kws")
        let ad = try ModelBuilder.compile(path: TestPaths.models + "/ad01_int8.tflite", name: "ad")
        try ModelBuilder.write(kws, to: directory)
        try ModelBuilder.write(ad, to: directory)
        let vectors = TestPaths.models + "/vectors"
        let kwsIn = try Npy.read(path: vectors + "/kws_ref_model/case1_input0.npy"), kwsOut = try Npy.read(path: vectors + "/kws_ref_model/case1_output0.npy")
        let adIn = try Npy.read(path: vectors + "/ad01_int8/case1_input0.npy"), adOut = try Npy.read(path: vectors + "/ad01_int8/case1_output0.npy")
        func bytes(_ a: NpyArray) -> String { a.data.map { String(Int8(bitPattern: $0)) }.joined(separator: ",") }
        let main = """
        #include "kws.h"
        #include "ad.h"
        #include <stdio.h>
        #include <string.h>
        static uint8_t kws_arena[MG_KWS_ARENA_SIZE] __attribute__((aligned(16)));
        static uint8_t ad_arena[MG_AD_ARENA_SIZE] __attribute__((aligned(16)));
        static const int8_t kws_in[] = {\(bytes(kwsIn))}, kws_ref[] = {\(bytes(kwsOut))};
        static const int8_t ad_in[] = {\(bytes(adIn))}, ad_ref[] = {\(bytes(adOut))};
        int main(void)
        {
            int8_t kws_out[MG_KWS_OUTPUT0_SIZE], ad_out[MG_AD_OUTPUT0_SIZE];
            if (mg_kws_invoke(kws_in, kws_out, kws_arena) || mg_ad_invoke(ad_in, ad_out, ad_arena)) return 1;
            if (memcmp(kws_out, kws_ref, sizeof kws_out) != 0) { puts("kws differs"); return 1; }
            if (memcmp(ad_out, ad_ref, sizeof ad_out) != 0) { puts("ad differs"); return 1; }
            puts("both match");
            return 0;
        }
        """
        try main.write(toFile: directory + "/main.c", atomically: true, encoding: .utf8)
        let build = try runProcess("cc", HostProgram.strictFlags + ["-I", directory, directory + "/kws.c", directory + "/ad.c", directory + "/main.c", "-o", directory + "/both", "-lm"])
        XCTAssertEqual(build.status, 0, build.standardError)
        let run = try runProcess(directory + "/both", [])
        XCTAssertEqual(run.status, 0, run.standardOutput + run.standardError)
        XCTAssertEqual(run.standardOutput, "both match\n")
    }
}

import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenHost
@testable import MicrogenProject

/// The fast convolution computes two output pixels at a time; with an odd pixel count the last
/// pixel is alone. Its kernel once left the second patch slot as it found it, and the dot
/// product over that stale slot overflowed int32: undefined behaviour, although the sums were
/// dropped. CONV_2D fixtures with odd pixel counts (TFLite Micro outputs, made by tools/refgen)
/// run here under UBSan that aborts on the first report, on an arena filled with a pattern whose
/// patches overflow, through the portable and the DSP-emulated path, and must match TFLite Micro.
final class OddPixelConvolutionTests: XCTestCase {
    /// One output pixel (the second slot is never written) and 25 (the lone last pixel's second
    /// slot holds the previous pixel's patch).
    static let fixtures = ["int8_kernel1x1_single_pixel_128ch", "int8_same_16ch_relu"]

    func testOddPixelCountsHaveNoUndefinedBehaviourAndMatchTFLiteMicro() throws {
        for fixture in Self.fixtures {
            try checkUnderUBSan(TestPaths.fixtures + "/ops/conv_2d/" + fixture)
        }
    }

    private func checkUnderUBSan(_ fixture: String) throws {
        let name = URL(fileURLWithPath: fixture).lastPathComponent
        let model = try ModelBuilder.compile(path: fixture + "/model.tflite", name: "odd")
        let source = try XCTUnwrap(model.files.first { $0.name == "odd.c" }).contents
        XCTAssertTrue(source.contains("MG_REQUANT_X256"), "\(name) must reach the two-pixel x256 kernel")
        let input = try Npy.read(path: fixture + "/input0.npy")
        let expected = try Npy.read(path: fixture + "/output0.npy")
        XCTAssertEqual(expected.shape[1] * expected.shape[2] % 2, 1, "\(name): the pixel count must be odd")

        let directory = try TestPaths.temporaryDirectory("odd-pixel")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ModelBuilder.write(model, to: directory)
        func bytes(_ a: NpyArray) -> String { a.data.map { String(Int8(bitPattern: $0)) }.joined(separator: ",") }
        // 0x7F in every arena byte: a patch slot the kernel reads without writing holds 32639 in
        // every int16, and its dot product with the weights overflows int32.
        let main = """
        #include "odd.h"
        #include <stdio.h>
        #include <string.h>
        static uint8_t arena[MG_ODD_ARENA_SIZE] __attribute__((aligned(MG_ODD_ARENA_ALIGNMENT)));
        static const int8_t input[] = {\(bytes(input))}, reference[] = {\(bytes(expected))};
        int main(void)
        {
            int8_t output[MG_ODD_OUTPUT0_SIZE];
            memset(arena, 0x7F, sizeof arena);
            if (mg_odd_invoke(input, output, arena) != 0) { puts("run failed"); return 1; }
            if (sizeof output != sizeof reference || memcmp(output, reference, sizeof output) != 0) { puts("output differs"); return 1; }
            puts("matches");
            return 0;
        }
        """
        try main.write(toFile: directory + "/main.c", atomically: true, encoding: .utf8)
        let sanitizer = ["-g", "-fsanitize=undefined", "-fno-sanitize-recover=all"]
        for path in [[], ["-DMG_USE_DSP=1"]] {
            let what = "\(name) \(path)"
            let program = directory + "/odd\(path.isEmpty ? "" : "_dsp")"
            let build = try runProcess("cc", HostProgram.strictFlags + sanitizer + path
                + ["-I", directory, directory + "/odd.c", directory + "/main.c", "-o", program, "-lm"])
            XCTAssertEqual(build.status, 0, "\(what): \(build.standardError)")
            let run = try runProcess(program, [])
            XCTAssertEqual(run.status, 0, "\(what): \(run.standardOutput)\(run.standardError.prefix(2000))")
            XCTAssertEqual(run.standardOutput, "matches\n", what)
            XCTAssertEqual(run.standardError, "", "\(what): UBSan reported")
        }
    }
}

import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenProject

/// The C runtime alone: the seeded fuzz harness (Tests/Fixtures/rpc), the CRC and its size on
/// Cortex-M.
final class RuntimeFuzzTests: XCTestCase {
    static let runtime = runtimeRepositoryRoot + "/templates/runtime"
    static let fixtures = runtimeRepositoryRoot + "/Tests/Fixtures/rpc"
    static let sanitizers = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1"]
    static let strict = ["-std=c99", "-Wall", "-Wextra", "-Werror"]

    private func compile(_ compiler: String, _ arguments: [String]) throws {
        let result = try runProcess(compiler, arguments)
        XCTAssertEqual(result.status, 0, "\(compiler) \(arguments.joined(separator: " "))\n\(result.standardError)")
        if result.status != 0 { throw MicrogenError(.toolchain, "\(compiler) failed") }
    }

    /// ~200k random and mutated bytes per seed into mg_rpc_feed(), under ASan and UBSan: no
    /// finding, every reply well formed, every clean request answered once with its seq, and an
    /// ECHO still answered at the end.
    func testSeededRandomFrameFuzzUnderSanitizers() throws {
        let scratch = try runtimeScratchDirectory(self, "fuzz")
        let program = scratch + "/rpc_fuzz"
        try compile("cc", Self.strict + Self.sanitizers + ["-I", Self.runtime,
                     Self.fixtures + "/rpc_fuzz.c", Self.fixtures + "/rpc_stub.c", Self.runtime + "/mg_rpc.c", "-o", program])
        for seed in [1, 2, 3] {
            let result = try runProcess(program, [String(seed), "200000"])
            XCTAssertEqual(result.status, 0, "seed \(seed): \(result.standardOutput)\(result.standardError)")
            XCTAssertTrue(result.standardOutput.contains("; ok"), result.standardOutput)
            XCTAssertTrue(result.standardError.isEmpty, result.standardError)
        }
    }

    /// The libFuzzer entry point builds and survives a short run, where clang has libFuzzer.
    func testLibFuzzerEntryPoint() throws {
        let scratch = try runtimeScratchDirectory(self, "libfuzzer")
        let program = scratch + "/rpc_libfuzzer"
        let build = try runProcess("clang", Self.strict + Self.sanitizers.map { $0.replacingOccurrences(of: "address,", with: "fuzzer,address,") }
            + ["-I", Self.runtime, Self.fixtures + "/rpc_libfuzzer.c", Self.fixtures + "/rpc_stub.c", Self.runtime + "/mg_rpc.c", "-o", program])
        // Swift's toolchain ships clang with libFuzzer, so a failed build is a failure, not a skip.
        guard build.status == 0 else { return XCTFail("clang -fsanitize=fuzzer failed: \(build.standardError.prefix(300))") }
        let result = try runProcess(program, ["-runs=20000", "-seed=1", "-max_len=2048"])
        XCTAssertEqual(result.status, 0, String(result.standardError.suffix(3000)))
        XCTAssertTrue(result.standardError.contains("Done 20000 runs"), String(result.standardError.suffix(1000)))
    }

    func testCrcCheckValue() throws {
        XCTAssertEqual(RuntimeWire.crc16(Array("123456789".utf8)), 0x29B1)
        let scratch = try runtimeScratchDirectory(self, "crc")
        try """
        #include <stdio.h>
        #include "mg_rpc.h"
        int main(void) { printf("%04x", (unsigned)mg_rpc_crc16((const uint8_t *)"123456789", 9)); return 0; }
        """.write(toFile: scratch + "/crc.c", atomically: true, encoding: .utf8)
        try compile("cc", Self.strict + ["-I", Self.runtime, scratch + "/crc.c", Self.runtime + "/mg_rpc.c",
                                          Self.fixtures + "/rpc_stub.c", "-o", scratch + "/crc"])
        XCTAssertEqual(try runProcess(scratch + "/crc", []).standardOutput, "29b1")
    }

    /// Warning-free for both Cortex-M flavours, and small: the RPC server (with its CRC,
    /// handlers and timing) stays under 4 KB of flash at -Os.
    func testRuntimeIsWarningFreeAndSmallOnCortexM() throws {
        try ProjectTestSupport.requireTools(["arm-none-eabi-gcc"])
        let scratch = try runtimeScratchDirectory(self, "arm")
        let cores = [["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-mthumb"], ["-mcpu=cortex-m3", "-mthumb"]]
        for core in cores {
            for optimization in ["-Os", "-O2"] {
                let object = scratch + "/mg_rpc.o"
                try compile("arm-none-eabi-gcc", Self.strict + core + [optimization, "-I", Self.runtime, "-c", Self.runtime + "/mg_rpc.c", "-o", object])
                guard optimization == "-Os" else { continue }
                let size = try runProcess("arm-none-eabi-size", [object])
                let columns = size.standardOutput.split(separator: "\n").last?.split(whereSeparator: { $0 == " " || $0 == "\t" }) ?? []
                let text = try XCTUnwrap(columns.first.flatMap { Int($0) }, size.standardOutput)
                XCTAssertLessThan(text, 4096, "\(core.first!): mg_rpc.c is \(text) bytes of flash")
            }
        }
    }
}

import Foundation
import XCTest

/// A seeded run of the model fuzzer (`ModelFuzzer`) over the test models: every mutant is refused
/// with a MicrogenError or compiles, none traps (a trap ends the run, naming the mutant), none
/// takes over 10 s, and every distinct program that compiles runs clean under ASan and UBSan.
///
/// Longer runs: MICROGEN_FUZZ_MUTANTS (default 5000), MICROGEN_FUZZ_SEED (default 1),
/// MICROGEN_FUZZ_FIRST (first mutant index, to replay one or resume after a crash) and
/// MICROGEN_FUZZ_SAVE (a directory for the mutants behind findings).
final class ModelFuzzTests: XCTestCase {
    func testMutatedModelsAreRefusedCleanlyOrRunCleanUnderSanitizers() throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration = ModelFuzzer.Configuration(
            seed: environment["MICROGEN_FUZZ_SEED"].flatMap { UInt64($0) } ?? 1,
            mutants: environment["MICROGEN_FUZZ_MUTANTS"].flatMap { Int($0) } ?? 5000,
            first: environment["MICROGEN_FUZZ_FIRST"].flatMap { Int($0) } ?? 0,
            saveDirectory: environment["MICROGEN_FUZZ_SAVE"])
        let fuzzer = try ModelFuzzer(configuration)
        XCTAssertGreaterThan(fuzzer.corpus.count, 150, "the test models are missing")
        let summary = try fuzzer.run()
        print(summary)
        XCTAssertEqual(summary.mutants, configuration.mutants)
        XCTAssert(summary.findings.isEmpty, "\(summary.findings.count) findings:\n" + summary.findings.joined(separator: "\n\n"))
        // A full run must reach the sanitizers on both kernel paths, or it checks only the importer
        // (a replay of one or a few mutants need not).
        if configuration.mutants >= 1000 {
            XCTAssertGreaterThan(summary.ranPortable, 0)
            XCTAssertGreaterThan(summary.ranDSP, 0)
        }
    }
}

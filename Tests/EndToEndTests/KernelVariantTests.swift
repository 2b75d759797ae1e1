import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenCodegen
@testable import MicrogenHost
@testable import MicrogenProject

/// Issue 11 item 5: every kernel variant is compared with TensorFlow Lite Micro. Each
/// int8 one-operator fixture of a lowering with several implementations (Tests/Fixtures/ops,
/// TFLM's outputs, made by tools/refgen) is compiled as the lowering chooses and with each variant
/// of its family forced (one float32 fixture per operator stands for its single float kernel);
/// every distinct program runs on the portable path and, where its kernel has
/// a SIMD form, on the DSP-emulated one, and must match TFLM (int8 bit for bit). The variants
/// those checked programs record must be all of `KernelVariant.allCases`.
final class KernelVariantTests: XCTestCase {
    /// The fixture directories of the operators whose lowerings choose among variants.
    static let operators: [(directory: String, family: KernelVariant.Family)] = [
        ("conv_2d", .convolution), ("depthwise_conv_2d", .depthwise), ("fully_connected", .fullyConnected),
        ("add", .elementwise), ("sub", .elementwise), ("mul", .elementwise),
    ]

    /// What one pass over the fixtures found; computed once, read by the tests below.
    struct Sweep: Sendable {
        /// Variants recorded by programs that matched TFLM.
        var reached: Set<KernelVariant> = []
        var failures: [String] = []
        /// (fixture, forced variant) pairs compiled, refused as not applicable, and programs run.
        var compiled = 0, refused = 0, runs = 0
    }

    static let sweep = runSweep()

    static let floatVariants: Set<KernelVariant> = [.convF32, .depthwiseF32, .fullyConnectedF32, .elementwiseF32]

    /// The variants whose C has a second form under MG_USE_DSP on the host: the fast convolution
    /// and fully connected kernels (mg_conv_gemm.h) and the 3x3 depthwise one. The others have
    /// one form there (mg_dsp.h's mg_smmlar follows MG_HAS_DSP, the real instruction, not
    /// MG_USE_DSP), so their programs run on the portable path only.
    static let dspForms: Set<KernelVariant> = [
        .convS8FastX256, .convS8FastDoubled, .convS8FastWide, .convS8FastGeneral,
        .depthwiseS8x3x3Fast, .depthwiseS8x3x3Exact,
        .fullyConnectedS8FastX256, .fullyConnectedS8FastDoubled, .fullyConnectedS8FastWide, .fullyConnectedS8FastGeneral,
        .fullyConnectedS8FastChunked,
    ]

    func testForcedVariantsMatchTFLM() {
        let sweep = Self.sweep
        XCTAssert(sweep.failures.isEmpty, "\(sweep.failures.count) failures:\n" + sweep.failures.joined(separator: "\n"))
        // Each of the 6 operators has fixtures, and each forced variant either ran or was refused.
        XCTAssertGreaterThan(sweep.compiled, 100)
        XCTAssertGreaterThan(sweep.refused, 0)
        XCTAssertGreaterThan(sweep.runs, sweep.compiled / 2)
    }

    func testEveryVariantIsReachedByATFLMCheckedCase() {
        let missing = Set(KernelVariant.allCases).subtracting(Self.sweep.reached).sorted()
        XCTAssert(missing.isEmpty, "kernel variants no TFLM-checked fixture reaches: " + missing.map(\.rawValue).joined(separator: ", ")
            + " (add a case to tools/refgen/op_cases.py, or make the variant forcible)")
    }

    /// A forced variant that does not apply is refused with one clear error, not ignored.
    func testVariantThatDoesNotApplyIsRefused() throws {
        let ops = TestPaths.fixtures + "/ops"
        let cases: [(fixture: String, forced: KernelVariant, chosen: KernelVariant)] = [
            ("depthwise_conv_2d/int8_same_dilation2_mult2", .depthwiseS8x3x3Fast, .depthwiseS8Reference),
            ("conv_2d/float32_same_stride1_relu", .convS8FastX256, .convF32),
            ("conv_2d/int8_same_stride1_relu", .convS8Grouped, .convS8FastX256),
            ("fully_connected/float32_relu", .fullyConnectedS8FastChunked, .fullyConnectedF32),
            ("add/float32_same_shape", .addSubS8TableExact, .elementwiseF32),
        ]
        for c in cases {
            XCTAssertThrowsError(try Self.compile("\(ops)/\(c.fixture)", forcing: c.forced), c.fixture) { error in
                guard let error = error as? MicrogenError else { return XCTFail("\(c.fixture): \(error)") }
                XCTAssertEqual(error.kind, .unsupported)
                XCTAssertTrue(error.message.contains("forced kernel variant \(c.forced.rawValue) does not apply"), error.message)
                XCTAssertTrue(error.message.contains("it takes \(c.chosen.rawValue)"), error.message)
            }
        }
    }

    static func compile(_ path: String, forcing forced: KernelVariant?) throws -> CompiledModel {
        var options = CompileOptions(name: "variant", kernelsDirectory: try Resources.kernelsDirectory())
        options.forcedVariants = forced.map { [$0] } ?? []
        return try ModelCompiler.compile(try ModelBuilder.load(path: path + "/model.tflite"), options: options)
    }

    /// One program to build and run: a fixture compiled with one choice of variants, on one path.
    private struct Run: Sendable {
        var label: String
        var fixture: String
        var model: CompiledModel
        var flags: [String]
    }

    private static func runSweep() -> Sweep {
        var sweep = Sweep()
        var runs: [Run] = []
        for (directory, family) in operators {
            let root = TestPaths.fixtures + "/ops/" + directory
            let fixtures = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
            if fixtures.isEmpty { sweep.failures.append("no fixtures in \(root)") }
            // A float32 operator has one kernel, and OperatorFixtureTests runs every float32
            // fixture as compiled: the first one here suffices to reach its variant.
            let firstFloat = fixtures.first { !$0.hasPrefix("int8") }
            for fixture in fixtures where fixture.hasPrefix("int8") || fixture == firstFloat {
                var sources: Set<String> = []
                let forcible = fixture.hasPrefix("int8") ? KernelVariant.allCases.filter { $0.family == family && !floatVariants.contains($0) } : []
                for forced in [nil] + forcible.map({ $0 }) as [KernelVariant?] {
                    let label = "\(directory)/\(fixture) [\(forced?.rawValue ?? "as chosen")]"
                    let model: CompiledModel
                    do {
                        model = try compile(root + "/" + fixture, forcing: forced)
                        sweep.compiled += 1
                    } catch let error as MicrogenError where forced != nil && error.message.contains("forced kernel variant") {
                        sweep.refused += 1
                        continue
                    } catch {
                        sweep.failures.append("\(label): \(error)")
                        continue
                    }
                    if let forced, !model.operators.contains(where: { $0.variants.contains(forced) }) {
                        sweep.failures.append("\(label): compiled, but records \(model.operators.map(\.variants))")
                    }
                    // Forcing the lowering's own choice writes the same C: run each program once.
                    let source = model.files.map(\.contents).joined()
                    guard sources.insert(source).inserted else { continue }
                    runs.append(Run(label: label + " portable", fixture: root + "/" + fixture, model: model, flags: []))
                    if model.operators.contains(where: { !$0.variants.filter(dspForms.contains).isEmpty }) {
                        runs.append(Run(label: label + " DSP-emulated", fixture: root + "/" + fixture, model: model, flags: ["-DMG_USE_DSP=1"]))
                    }
                }
            }
        }
        // Each program builds with the C compiler: two at a time.
        let results = ResultList(count: runs.count), queued = runs
        DispatchQueue.concurrentPerform(iterations: queued.count) { i in
            results.set(i, Result { try check(queued[i]) })
        }
        for (run, result) in zip(runs, results.values) {
            sweep.runs += 1
            switch result {
            case .success(nil): sweep.reached.formUnion(run.model.operators.flatMap(\.variants))
            case .success(let problem?): sweep.failures.append("\(run.label): \(problem)")
            case .failure(let error): sweep.failures.append("\(run.label): \(error)")
            case nil: sweep.failures.append("\(run.label): did not run")
            }
        }
        return sweep
    }

    /// nil when the program's output equals TFLM's, else how it differs.
    private static func check(_ run: Run) throws -> String? {
        let directory = try TestPaths.temporaryDirectory("variant")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let program = try HostProgram.build(run.model, in: directory, extraFlags: run.flags)
        var inputs: [NpyArray] = []
        while FileManager.default.fileExists(atPath: run.fixture + "/input\(inputs.count).npy") {
            inputs.append(try Npy.read(path: run.fixture + "/input\(inputs.count).npy"))
        }
        let outputs = try program.run(inputs)
        let comparison = try OutputComparison(actual: outputs[0], expected: try Npy.read(path: run.fixture + "/output0.npy"))
        return comparison.passed ? nil : comparison.summary
    }
}

/// Results written by concurrent workers, one slot each.
private final class ResultList: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<String?, any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<String?, any Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    var values: [Result<String?, any Error>?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}

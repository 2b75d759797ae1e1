import Foundation
import MicrogenIR
import MicrogenCodegen
@testable import MicrogenFrontend
@testable import MicrogenHost
@testable import MicrogenProject

/// Mutates the test models and pushes every mutant through the importer and the compiler in
/// this process (a Swift trap ends the process; `TrapReporter` names the mutant first), each
/// within a time budget. A mutant must either be refused with a `MicrogenError` or compile; the
/// distinct programs that compile are then built in batches under ASan and UBSan and run with
/// their buffers at exactly their planned sizes (`SanitizedBatch`), alternately on the portable
/// and the DSP-emulated kernels.
///
/// Mutant `i` of seed `s` depends on nothing else, so any finding replays alone.
struct ModelFuzzer {
    struct Configuration {
        var seed: UInt64
        var mutants: Int
        /// The index of the first mutant (to replay one, or to go on after a crash).
        var first = 0
        /// Seconds one mutant may spend in import and compile before it counts as a hang.
        var budget: Double = 10
        var batchSize = 80
        /// Where to save the mutants behind findings (nil: not saved).
        var saveDirectory: String?
    }

    struct Summary: CustomStringConvertible {
        var seed: UInt64 = 0
        var mutants = 0
        var refused: [MicrogenError.Kind: Int] = [:]
        var built = 0
        var distinct = 0
        var tooLargeToRun = 0
        var ranPortable = 0
        var ranDSP = 0
        var findings: [String] = []
        /// Seconds spent in import and compile, and in building and running the C.
        var compileSeconds = 0.0, sanitizerSeconds = 0.0

        var description: String {
            let kinds = refused.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
            return "model fuzz, seed \(seed): \(mutants) mutants: \(refused.values.reduce(0, +)) refused with a clear error (\(kinds)); "
                + "\(built) built (\(distinct) distinct programs); \(ranPortable + ranDSP) ran under ASan+UBSan "
                + "(\(ranPortable) portable, \(ranDSP) DSP-emulated), \(tooLargeToRun) too large to run; \(findings.count) findings; "
                + "\(Int(compileSeconds)) s in import and compile, \(Int(sanitizerSeconds)) s building and running C"
        }
    }

    /// A model that compiles is run only below these sizes (the fuzzer looks for wrong code, not slow code).
    static let maxRunBytes = 16 << 20, maxRunMACs = 50_000_000

    let configuration: Configuration
    let corpus: [(label: String, mutator: ModelMutator)]

    /// The seed models: every one-operator fixture, the malformed fixtures and the kws example.
    static func testModels() throws -> [(label: String, bytes: [UInt8])] {
        let fm = FileManager.default
        var paths: [String] = []
        let ops = TestPaths.fixtures + "/ops"
        for op in try fm.contentsOfDirectory(atPath: ops).sorted() {
            for variant in try fm.contentsOfDirectory(atPath: ops + "/" + op).sorted() { paths.append(ops + "/\(op)/\(variant)/model.tflite") }
        }
        for bad in try fm.contentsOfDirectory(atPath: TestPaths.fixtures + "/bad").sorted() { paths.append(TestPaths.fixtures + "/bad/" + bad) }
        paths.append(TestPaths.repository + "/examples/kws/kws_ref_model.tflite")
        return try paths.map { path in
            guard let data = fm.contents(atPath: path) else { throw MicrogenError(.io, "cannot read \(path)") }
            return (String(path.dropFirst(TestPaths.repository.count + 1)), [UInt8](data))
        }
    }

    init(_ configuration: Configuration) throws {
        self.configuration = configuration
        corpus = try Self.testModels().map { ($0.label, ModelMutator(seed: $0.bytes)) }
    }

    /// Mutant `index`: which test model, its bytes, and what was changed.
    func mutant(_ index: Int) -> (label: String, bytes: [UInt8], mutations: [String]) {
        var rng = SplitMix64(seed: configuration.seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
        let seed = corpus[rng.next(below: corpus.count)]
        let (bytes, mutations) = seed.mutator.mutant(&rng)
        return (seed.label, bytes, mutations)
    }

    enum Outcome: Sendable {
        case refused(MicrogenError)
        case otherError(String)
        case built(CompiledModel, report: String?)
    }

    /// Import, compile and the build report, as `microgen build` does them.
    static func importAndCompile(_ bytes: [UInt8], name: String, kernels: String) -> Outcome {
        do {
            let graph = try TFLiteImporter.importModel(bytes: bytes, name: name)
            let model = try ModelCompiler.compile(graph, options: CompileOptions(name: name, kernelsDirectory: kernels))
            do {
                _ = try BuildReport(model: model, source: name + ".tflite").json()
                return .built(model, report: nil)
            } catch {
                return .built(model, report: "the model compiles but its report.json cannot be written: \(error)")
            }
        } catch let error as MicrogenError {
            return .refused(error)
        } catch {
            return .otherError("\(type(of: error)): \(error)")
        }
    }

    /// Runs `work` on its own thread (with a main-thread-sized stack); nil if it takes longer than `seconds`.
    static func withinBudget(_ seconds: Double, _ work: @escaping @Sendable () -> Outcome) -> Outcome? {
        final class Box: @unchecked Sendable { var outcome: Outcome? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.outcome = work()
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        return done.wait(timeout: .now() + seconds) == .success ? box.outcome : nil
    }

    func run() throws -> Summary {
        let kernels = try Resources.kernelsDirectory()
        var summary = Summary(seed: configuration.seed)
        var seen = Set<Int>()
        var pending: [(entry: SanitizedBatch.Entry, description: String, bytes: [UInt8])] = []
        var batches = 0
        TrapReporter.install()

        func finding(_ text: String, _ bytes: [UInt8], _ index: Int) {
            summary.findings.append(text)
            // Printed at once too: a later trap ends the process before the summary.
            FileHandle.standardError.write(Data("model fuzz finding: \(text)\n".utf8))
            if let directory = configuration.saveDirectory {
                try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: directory + "/mutant_\(configuration.seed)_\(index).tflite", contents: Data(bytes))
            }
        }

        func runBatch() throws {
            guard !pending.isEmpty else { return }
            let start = Date()
            defer { summary.sanitizerSeconds += Date().timeIntervalSince(start) }
            let dsp = batches % 2 == 1
            batches += 1
            let directory = try TestPaths.temporaryDirectory("fuzz")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let batch = SanitizedBatch(entries: pending.map(\.entry), flags: dsp ? ["-DMG_USE_DSP=1"] : [], timeout: 120)
            let (outputs, failures) = try batch.run(in: directory)
            if dsp { summary.ranDSP += outputs.count } else { summary.ranPortable += outputs.count }
            for failure in failures {
                let mutant = pending.first { $0.entry.model.name == failure.model }
                let index = Int(failure.model.dropFirst(2)) ?? -1
                finding("\(mutant?.description ?? failure.model): \(failure.stage): \(failure.detail)", mutant?.bytes ?? [], index)
            }
            pending.removeAll()
        }

        for index in configuration.first..<(configuration.first + configuration.mutants) {
            TrapReporter.set("mutant \(index) of seed \(configuration.seed) (while making it)")
            let (label, bytes, mutations) = mutant(index)
            let description = "mutant \(index) of seed \(configuration.seed) (\(label): \(mutations.joined(separator: "; ")))"
            TrapReporter.set(description)
            summary.mutants += 1
            let name = "fz\(index)"
            let start = Date()
            let outcome = Self.withinBudget(configuration.budget) { Self.importAndCompile(bytes, name: name, kernels: kernels) }
            summary.compileSeconds += Date().timeIntervalSince(start)
            guard let outcome else {
                finding("\(description): import and compile took over \(configuration.budget) s", bytes, index)
                break  // the stuck thread keeps a core busy: stop here
            }
            switch outcome {
            case .refused(let error):
                summary.refused[error.kind, default: 0] += 1
            case .otherError(let error):
                finding("\(description): refused without a MicrogenError: \(error)", bytes, index)
            case .built(let model, let reportProblem):
                summary.built += 1
                if let reportProblem { finding("\(description): \(reportProblem)", bytes, index) }
                // Mutants that change only a name or leave the program as it was compile to the same C.
                let source = model.files.filter { $0.name == name + ".c" || $0.name == name + ".h" }
                    .map { $0.contents.split(separator: "\n").filter { !$0.contains("_BUILD_ID ") }.joined(separator: "\n") }
                    .joined().replacingOccurrences(of: name, with: "@")
                guard seen.insert(source.hashValue).inserted else { continue }
                summary.distinct += 1
                let graph = model.graph
                let ioBytes = (graph.inputs + graph.outputs).reduce(0) { $0 + graph.tensors[$1].byteCount }
                guard model.plan.arenaSize + ioBytes <= Self.maxRunBytes, model.macs <= Self.maxRunMACs else {
                    summary.tooLargeToRun += 1
                    continue
                }
                pending.append((SanitizedBatch.Entry(model: model, inputs: nil), description, bytes))
                if pending.count >= configuration.batchSize { try runBatch() }
            }
        }
        try runBatch()
        TrapReporter.set("the model fuzzer's summary (after every mutant)")
        return summary
    }
}

import Foundation
import MicrogenIR
import MicrogenCodegen
@testable import MicrogenHost
@testable import MicrogenProject

/// Many compiled models in ONE host program built with AddressSanitizer and UndefinedBehaviorSanitizer
/// (every generated symbol carries its model's prefix, so their sources share one translation
/// unit): one compiler run checks dozens of models. Each model runs with its arena, inputs and
/// outputs allocated at exactly their planned sizes, so ASan's redzones on either side are the
/// guard zones: any byte read or written outside the plan stops the program.
struct SanitizedBatch {
    struct Entry {
        var model: CompiledModel
        /// The input bytes; nil fills every input with seeded data in C (finite floats in [-4, 4)).
        var inputs: [[UInt8]]?
    }

    /// What went wrong with one model of the batch.
    struct Failure: Error, CustomStringConvertible {
        var model: String
        var stage: String
        var detail: String
        var description: String { "\(model): \(stage): \(detail)" }
    }

    static let sanitizerFlags = ["-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]

    var entries: [Entry]
    /// Extra compiler flags, e.g. `-DMG_USE_DSP=1` for the SIMD kernels through their C emulation.
    var flags: [String] = []
    /// Seconds the program may run before it counts as hung.
    var timeout = 300

    /// Builds and runs the batch. Models the compiler refuses are reported and left out of the
    /// next build; a model that fails at run time is reported and the same program goes on with
    /// the model after it, so one bad model hides none of the others. Returns each model's
    /// outputs (by model name) and the failures.
    func run(in directory: String) throws -> (outputs: [String: [[UInt8]]], failures: [Failure]) {
        var batch = entries
        var failures: [Failure] = []
        while true {
            switch try compile(batch, in: directory) {
            case .failure(let culprits, let log):
                for i in culprits.sorted() {
                    failures.append(Failure(model: batch[i].model.name, stage: "compile \(flags)", detail: diagnostics(of: batch[i].model.name, in: log)))
                }
                batch = batch.enumerated().filter { !culprits.contains($0.offset) }.map(\.element)
                if batch.isEmpty { return ([:], failures) }
            case .success(let executable):
                var outputs: [String: [[UInt8]]] = [:]
                var first = 0
                while first < batch.count {
                    let (ran, failure) = try execute(executable, batch, from: first, in: directory)
                    outputs.merge(ran) { a, _ in a }
                    guard let failure else { break }
                    failures.append(failure.failure)
                    first = failure.index + 1
                }
                return (outputs, failures)
            }
        }
    }

    private enum Compiled {
        case success(String)
        /// The models the compiler's diagnostics point at, and the diagnostics.
        case failure(culprits: Set<Int>, log: String)
    }

    private func compile(_ batch: [Entry], in directory: String) throws -> Compiled {
        for entry in batch { try ModelBuilder.write(entry.model, to: directory) }
        let main = directory + "/batch_main.c"
        try driver(batch).write(toFile: main, atomically: true, encoding: .utf8)
        let executable = directory + "/batch"
        try? FileManager.default.removeItem(atPath: executable)
        let compiler = ProcessInfo.processInfo.environment["CC"] ?? "cc"
        let build = try runProcess(compiler, HostProgram.strictFlags.filter { $0 != "-O2" } + ["-O1"] + Self.sanitizerFlags + flags
                                   + ["-I", directory, main, "-o", executable, "-lm"])
        if build.status == 0 { return .success(executable) }
        // Every model whose sources a diagnostic points at leaves the batch at once (one rebuild, not one per model).
        let culprits = Set(batch.indices.filter { !diagnostics(of: batch[$0].model.name, in: build.standardError).isEmpty })
        guard !culprits.isEmpty else { throw Failure(model: "batch", stage: "compile", detail: String(build.standardError.prefix(3000))) }
        return .failure(culprits: culprits, log: build.standardError)
    }

    /// The compiler's lines about one model's files (and the lines that follow them), at most 3000 characters.
    private func diagnostics(of model: String, in log: String) -> String {
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false)
        var picked: [Substring] = []
        for (i, line) in lines.enumerated() where line.contains("/\(model).c:") || line.contains("/\(model).h:") {
            picked += lines[i..<min(i + 4, lines.count)]
        }
        return String(picked.joined(separator: "\n").prefix(3000))
    }

    /// Runs models `first...` of the batch: their outputs, and the first model that failed.
    private func execute(_ executable: String, _ batch: [Entry], from first: Int, in directory: String) throws
        -> (outputs: [String: [[UInt8]]], failure: (index: Int, failure: Failure)?) {
        let fm = FileManager.default
        let outputDirectory = directory + "/out"
        try? fm.removeItem(atPath: outputDirectory)
        try fm.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        let result = try runProcess("env", ["ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0", "UBSAN_OPTIONS=print_stacktrace=1",
                                            "timeout", String(timeout), executable, outputDirectory, String(first)])
        // The driver prints "ok <i>" after model i, so the first model without one is the culprit.
        let finished = Set(result.standardOutput.split(separator: "\n").compactMap { $0.hasPrefix("ok ") ? Int($0.dropFirst(3)) : nil })
        var outputs: [String: [[UInt8]]] = [:]
        for (i, entry) in batch.enumerated() where finished.contains(i) {
            outputs[entry.model.name] = entry.model.graph.outputs.indices.map {
                [UInt8](fm.contents(atPath: outputDirectory + "/\(entry.model.name)_output\($0).bin") ?? Data())
            }
        }
        let culprit = (first..<batch.count).first { !finished.contains($0) }
        if result.status == 0, culprit == nil { return (outputs, nil) }
        let index = culprit ?? batch.count - 1
        let what = result.status == 124 ? "no result within \(timeout) s" : "status \(result.status)"
        return (outputs, (index, Failure(model: batch[index].model.name, stage: "run \(flags)",
                                         detail: "\(what)\n" + String(result.standardError.prefix(4000)))))
    }

    /// The unity source: every model's C, then one function per model that allocates its
    /// buffers at exactly their sizes, fills the inputs, invokes, saves the outputs and frees.
    private func driver(_ batch: [Entry]) -> String {
        var text = """
        /* Sanitizer batch generated by the microgen tests. */
        #define _POSIX_C_SOURCE 200112L
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        """
        for entry in batch { text += "#include \"\(entry.model.name).c\"\n" }
        text += """

        /* Helpers are inline so a batch that does not need one does not warn. */
        /* Exactly `bytes` bytes, 16-aligned: ASan poisons everything after them. */
        static inline void *exact(size_t bytes)
        {
            void *p = NULL;
            if (posix_memalign(&p, 16, bytes ? bytes : 1) != 0) { fputs("out of memory\\n", stderr); exit(3); }
            return p;
        }

        static uint64_t fill_state = 0x2545F4914F6CDD1Dull;
        static inline uint32_t fill_next(void)
        {
            fill_state = fill_state * 6364136223846793005ull + 1442695040888963407ull;
            return (uint32_t)(fill_state >> 33);
        }

        static inline void fill(void *p, size_t bytes, int is_float)
        {
            if (is_float) {
                float *f = p;
                for (size_t i = 0; i < bytes / sizeof(float); i++) f[i] = (float)(fill_next() % 8001u) / 1000.0f - 4.0f;
            } else {
                uint8_t *b = p;
                for (size_t i = 0; i < bytes; i++) b[i] = (uint8_t)fill_next();
            }
        }

        static inline void save(const char *dir, const char *name, int index, const void *data, size_t bytes)
        {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s_output%d.bin", dir, name, index);
            FILE *f = fopen(path, "wb");
            if (f == NULL) { fprintf(stderr, "cannot write %s\\n", path); exit(4); }
            if (fwrite(data, 1, bytes, f) != bytes) exit(4);
            fclose(f);
        }

        """
        for (i, entry) in batch.enumerated() {
            let model = entry.model, m = model.prefix.uppercased()
            let graph = model.graph
            text += "\nstatic int run_\(i)(const char *dir)\n{\n    (void)dir; /* unused when the model has no outputs */\n"
            text += "    void *arena = exact(\(m)_ARENA_SIZE);\n"
            for (k, t) in graph.inputs.enumerated() {
                text += "    void *in\(k) = exact(\(m)_INPUT\(k)_SIZE);\n"
                if let data = entry.inputs?[k] {
                    text += "    static const uint8_t in\(k)_data[\(max(data.count, 1))] = {\(data.isEmpty ? "0" : data.map(String.init).joined(separator: ","))};\n"
                    text += "    memcpy(in\(k), in\(k)_data, \(m)_INPUT\(k)_SIZE);\n"
                } else {
                    text += "    fill(in\(k), \(m)_INPUT\(k)_SIZE, \(graph.tensors[t].dataType == .float32 ? 1 : 0));\n"
                }
            }
            for k in graph.outputs.indices { text += "    void *out\(k) = exact(\(m)_OUTPUT\(k)_SIZE);\n" }
            let arguments = graph.inputs.indices.map { "in\($0)" } + graph.outputs.indices.map { "out\($0)" } + ["arena"]
            text += "    int status = \(model.prefix)_invoke(\(arguments.joined(separator: ", ")));\n"
            for k in graph.outputs.indices { text += "    save(dir, \"\(model.name)\", \(k), out\(k), \(m)_OUTPUT\(k)_SIZE);\n" }
            for name in arguments { text += "    free(\(name));\n" }
            text += "    return status;\n}\n"
        }
        text += "\ntypedef int (*model_run)(const char *dir);\nstatic const model_run runs[] = {"
        text += batch.indices.map { "run_\($0)" }.joined(separator: ", ") + "};\n"
        text += """

        /* usage: batch OUTPUT_DIR FIRST: runs models FIRST... and prints "ok <i>" after each. */
        int main(int argc, char **argv)
        {
            if (argc < 3) return 2;
            for (int i = atoi(argv[2]); i < (int)(sizeof runs / sizeof runs[0]); i++) {
                if (runs[i](argv[1]) != 0) { fprintf(stderr, "model %d returned an error\\n", i); return 1; }
                printf("ok %d\\n", i);
                fflush(stdout);
            }
            return 0;
        }

        """
        return text
    }
}

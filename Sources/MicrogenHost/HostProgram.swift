import Foundation
import MicrogenIR
import MicrogenProject
import MicrogenCodegen

/// A compiled model built into a native program for this machine, so it can be run on `.npy`
/// inputs. This is the "host" board: the same generated C the firmware uses.
public struct HostProgram: Sendable {
    public let model: CompiledModel
    public let directory: String
    public let executable: String
    public let traces: Bool

    /// Compiler flags for generated code: it must build warning-free at this strictness.
    public static let strictFlags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]

    /// The harness's file, beside the model's (so no model may be called "host_main").
    public static let harnessFileName = "host_main.c"

    /// Writes the model's C and a small harness into `directory` and compiles them with `$CC`
    /// (default `cc`). With `traces`, the program also writes every operator's output.
    /// `extraFlags` go after the environment's (e.g. `-DMG_USE_DSP=1`).
    public static func build(_ model: CompiledModel, in directory: String, traces: Bool = false, extraFlags: [String] = []) throws -> HostProgram {
        try ModelBuilder.write(model, to: directory)
        let harness = directory + "/" + harnessFileName
        do {
            try harnessSource(model).write(toFile: harness, atomically: true, encoding: .utf8)
        } catch {
            throw MicrogenError(.io, "cannot write \(harness): \(error.localizedDescription)")
        }
        let executable = directory + "/\(model.name)_host"
        let compiler = ProcessInfo.processInfo.environment["CC"] ?? "cc"
        // MICROGEN_HOST_CFLAGS adds flags, e.g. -DMG_USE_DSP=1 to test the SIMD kernels' path on the host.
        let extra = (ProcessInfo.processInfo.environment["MICROGEN_HOST_CFLAGS"] ?? "").split(separator: " ").map(String.init)
        var arguments = strictFlags + extra + extraFlags + ["-I", directory, directory + "/\(model.name).c", harness, "-o", executable, "-lm"]
        if traces { arguments.insert("-DMG_TRACE", at: 0) }
        let result = try runProcess(compiler, arguments)
        guard result.status == 0 else {
            throw MicrogenError(.toolchain, "\(compiler) failed on the generated C (in \(directory)):\n\(result.standardError.prefix(4000))")
        }
        return HostProgram(model: model, directory: directory, executable: executable, traces: traces)
    }

    /// Runs one inference. Inputs must match the model's inputs in count, dtype and element count.
    /// With `traceDirectory`, every operator's output lands there as `t<tensor>.bin`.
    /// `reshapeInputs` as in `DeviceConnection.infer`.
    public func run(_ inputs: [NpyArray], traceDirectory: String? = nil, reshapeInputs: Bool = false) throws -> [NpyArray] {
        let graph = model.graph
        let inputs = try conformInputs(inputs, to: graph, modelName: model.name, reshape: reshapeInputs)
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("microgen-run-\(UUID().uuidString)").path
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: scratch) }

        var arguments: [String] = []
        for (i, array) in inputs.enumerated() {
            let path = scratch + "/input\(i).bin"
            _ = fm.createFile(atPath: path, contents: Data(array.data))
            arguments.append(path)
        }
        for i in graph.outputs.indices { arguments.append(scratch + "/output\(i).bin") }
        if let traceDirectory {
            guard traces else { throw MicrogenError(.invalidArgument, "this program was built without traces") }
            try fm.createDirectory(atPath: traceDirectory, withIntermediateDirectories: true)
            arguments.append(traceDirectory)
        }
        let result = try runProcess(executable, arguments)
        guard result.status == 0 else {
            throw MicrogenError(.toolchain, "the host program for \(model.name) failed (status \(result.status)): \(result.standardError)")
        }
        return try graph.outputs.enumerated().map { i, tensorIndex in
            let tensor = graph.tensors[tensorIndex]
            guard let data = fm.contents(atPath: scratch + "/output\(i).bin"), data.count == tensor.byteCount else {
                throw MicrogenError(.toolchain, "the host program did not write output \(i)")
            }
            return NpyArray(dataType: tensor.dataType, shape: tensor.shape, data: [UInt8](data))
        }
    }

    /// Reads a traced tensor written by `run(_:traceDirectory:)`.
    public func tracedTensor(_ tensorIndex: Int, in traceDirectory: String) -> NpyArray? {
        let tensor = model.graph.tensors[tensorIndex]
        guard let data = FileManager.default.contents(atPath: traceDirectory + "/t\(tensorIndex).bin") else { return nil }
        return NpyArray(dataType: tensor.dataType, shape: tensor.shape, data: [UInt8](data))
    }

    static func harnessSource(_ model: CompiledModel) -> String {
        let m = "MG_\(model.name.uppercased())"
        let inputs = model.graph.inputs.count, outputs = model.graph.outputs.count
        var text = """
        /* Host harness generated by microgen: runs \(model.name) once.
         * usage: prog input0.bin ... output0.bin ... [trace_dir] */
        #include "\(model.name).h"
        #include <stdio.h>
        #include <stdlib.h>

        static uint8_t arena[\(m)_ARENA_SIZE + 16] __attribute__((aligned(16)));

        #ifdef MG_TRACE
        static const char *trace_dir;
        void mg_trace_op(const char *model, int operator_index, int tensor_index, const void *data, size_t bytes)
        {
            char path[4096];
            (void)model;
            (void)operator_index;
            if (trace_dir == NULL) return;
            snprintf(path, sizeof path, "%s/t%d.bin", trace_dir, tensor_index);
            FILE *f = fopen(path, "wb");
            if (f == NULL) return;
            fwrite(data, 1, bytes, f);
            fclose(f);
        }
        #endif

        static int load(const char *path, uint8_t *dst, size_t bytes)
        {
            FILE *f = fopen(path, "rb");
            if (f == NULL) { fprintf(stderr, "cannot open %s\\n", path); return 1; }
            size_t got = fread(dst, 1, bytes, f);
            fclose(f);
            if (got != bytes) { fprintf(stderr, "%s: expected %zu bytes, got %zu\\n", path, bytes, got); return 1; }
            return 0;
        }

        static int save(const char *path, const uint8_t *src, size_t bytes)
        {
            FILE *f = fopen(path, "wb");
            if (f == NULL) { fprintf(stderr, "cannot write %s\\n", path); return 1; }
            size_t put = fwrite(src, 1, bytes, f);
            fclose(f);
            return put == bytes ? 0 : 1;
        }

        int main(int argc, char **argv)
        {
            if (argc < \(inputs + outputs + 1)) { fprintf(stderr, "usage: %s \(String(repeating: "INPUT ", count: inputs))\(String(repeating: "OUTPUT ", count: outputs))[TRACE_DIR]\\n", argv[0]); return 2; }
            (void)load; /* unused by a model without inputs */
            (void)save;
        #ifdef MG_TRACE
            if (argc > \(inputs + outputs + 1)) trace_dir = argv[\(inputs + outputs + 1)];
        #endif

        """
        for i in 0..<inputs {
            text += "    if (load(argv[\(1 + i)], arena + \(m)_INPUT\(i)_OFFSET, \(m)_INPUT\(i)_SIZE)) return 1;\n"
        }
        text += "    if (mg_\(model.name)_run(arena) != 0) { fprintf(stderr, \"run failed\\n\"); return 1; }\n"
        for i in 0..<outputs {
            text += "    if (save(argv[\(1 + inputs + i)], arena + \(m)_OUTPUT\(i)_OFFSET, \(m)_OUTPUT\(i)_SIZE)) return 1;\n"
        }
        text += "    return 0;\n}\n"
        return text
    }
}

import ArgumentParser
import Foundation
import MicrogenIR
import MicrogenProject
import MicrogenHost

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on a board over RPC, and write or check its outputs.",
        discussion: """
        Builds the model for the board, starts it (a native program for --board host, QEMU for an
        emulated board, or a real board on --port), checks over RPC that the device runs this model
        with these input types and shapes, uploads the inputs, runs, and reads the outputs back.
        Inputs and outputs are NumPy .npy files (int8 or float32, as the model says). Each input
        must have the model input's dtype and shape; --reshape-inputs accepts another shape with
        the same element count. A model without inputs runs with no --input.

        With --expect (or expected outputs in --cases) the outputs are compared: int8 must match
        exactly, float32 within 1e-4 relative or 1e-5 absolute. The max difference and mismatch
        count are printed, and the exit status is 1 on any mismatch.

        --cases DIR runs every caseK_input0.npy (caseK_input1.npy, ...) in DIR in one session and
        compares with caseK_output0.npy where present: the layout of models/mlperf/vectors.

        Examples:
          microgen run kws.tflite --board host --input in.npy --output out.npy
          microgen run kws.tflite --board cortex-m7 --input in.npy --expect ref.npy
          microgen run kws.tflite --board cortex-m4 --cases vectors/kws_ref_model
          microgen run kws.tflite --board host --input in.npy --dump-intermediates dump/
        """
    )

    @Argument(help: "The model file (.tflite).")
    var model: String

    @OptionGroup var device: DeviceOptions

    @Option(name: .shortAndLong, help: "An input .npy, once per model input, in order.")
    var input: [String] = []

    @Option(name: .shortAndLong, help: "Where to write an output .npy, once per model output, in order.")
    var output: [String] = []

    @Option(help: "A reference .npy to compare each output with, in order.")
    var expect: [String] = []

    @Option(help: "A directory of cases (caseK_input0.npy, and caseK_output0.npy to compare with).")
    var cases: String?

    @Option(help: "Host board only: write every operator's output tensor to this directory as t<tensor-index>.npy.")
    var dumpIntermediates: String?

    @Flag(help: "Read an input .npy whose shape differs from the model input's but has the same element count in the model's shape (otherwise refused).")
    var reshapeInputs: Bool = false

    func validate() throws {
        if cases != nil && (!input.isEmpty || !expect.isEmpty || !output.isEmpty) {
            throw ValidationError("give either --cases or --input/--output/--expect, not both")
        }
        if dumpIntermediates != nil && device.board != "host" { throw ValidationError("--dump-intermediates works on --board host only") }
    }

    func run() throws {
        try reportingErrors {
            let progress = ProgressLine()
            if let dumpIntermediates {
                try dump(to: dumpIntermediates)
                return
            }
            let runCases = try cases.map(loadCases) ?? [RunCase(label: "", inputs: try input.map { try Npy.read(path: $0) },
                                                                expected: try expect.map { try Npy.read(path: $0) })]
            var failed = 0
            try device.withConnection(model: model, progress: progress) { connection in
                let (unitName, perTick) = connection.unit
                for (k, runCase) in runCases.enumerated() {
                    if runCases.count > 1 { progress.step("case \(k + 1) of \(runCases.count)") }
                    let result = try connection.infer(runCase.inputs, reshapeInputs: reshapeInputs)
                    let label = runCase.label.isEmpty ? "" : "\(runCase.label) "
                    if cases == nil {
                        for (array, path) in zip(result.outputs, output) { try Npy.write(array, path: path) }
                    }
                    for (i, reference) in runCase.expected.enumerated() {
                        let comparison = try OutputComparison(actual: result.outputs[i], expected: reference)
                        print("\(label)output \(i): \(comparison.summary)")
                        if !comparison.passed { failed += 1 }
                    }
                    if runCase.expected.isEmpty && output.isEmpty {
                        for (i, array) in result.outputs.enumerated() { print("\(label)output \(i) \(describe(array))") }
                    }
                    let count = Double(result.timings.totalTicks) * perTick / Double(max(result.timings.runs, 1))
                    print("\(label)\(grouped(Int(count.rounded()))) \(unitName) per inference on \(connection.boardName)")
                }
            }
            if runCases.count > 1 { print("\(runCases.count - failed) of \(runCases.count) cases match") }
            if failed > 0 { throw ExitCode.failure }
        }
    }

    struct RunCase {
        var label: String
        var inputs: [NpyArray]
        var expected: [NpyArray]
    }

    /// caseK_inputN.npy and caseK_outputN.npy files, K and N from 0 up.
    private func loadCases(_ directory: String) throws -> [RunCase] {
        let fm = FileManager.default
        var result: [RunCase] = []
        while true {
            let k = result.count
            func files(_ kind: String) -> [String] {
                var paths: [String] = []
                while fm.fileExists(atPath: "\(directory)/case\(k)_\(kind)\(paths.count).npy") { paths.append("\(directory)/case\(k)_\(kind)\(paths.count).npy") }
                return paths
            }
            let inputs = files("input")
            if inputs.isEmpty { break }
            result.append(RunCase(label: "case \(k):", inputs: try inputs.map { try Npy.read(path: $0) },
                                  expected: try files("output").map { try Npy.read(path: $0) }))
        }
        guard !result.isEmpty else {
            throw MicrogenError(.invalidArgument, "no case0_input0.npy in \(directory)")
        }
        return result
    }

    private func describe(_ array: NpyArray) -> String {
        let values = array.doubles()
        let shown = values.prefix(16).map { array.dataType == .float32 ? String(format: "%.6g", $0) : String(Int($0)) }
        return "\(array.dataType) \(array.shape.shapeString): [\(shown.joined(separator: ", "))\(values.count > 16 ? ", ..." : "")]"
    }

    /// The host board's debug build: every operator's output written as it is produced.
    private func dump(to destination: String) throws {
        let compiled = try ModelBuilder.compile(path: model, name: device.name, keepInputs: device.keepInputs)
        let inputs = try input.map { try Npy.read(path: $0) }
        let fm = FileManager.default
        let directory = device.buildDir ?? fm.temporaryDirectory.appendingPathComponent("microgen-trace-\(UUID().uuidString)").path
        defer { if device.buildDir == nil { try? fm.removeItem(atPath: directory) } }
        let program = try HostProgram.build(compiled, in: directory, traces: true)
        let traceDirectory = directory + "/trace"
        let outputs = try program.run(inputs, traceDirectory: traceDirectory, reshapeInputs: reshapeInputs)
        for (array, path) in zip(outputs, output) { try Npy.write(array, path: path) }
        for (i, path) in expect.enumerated() {
            print("output \(i): \(try OutputComparison(actual: outputs[i], expected: Npy.read(path: path)).summary)")
        }
        try fm.createDirectory(atPath: destination, withIntermediateDirectories: true)
        var written = 0
        for index in compiled.graph.tensors.indices {
            guard let array = program.tracedTensor(index, in: traceDirectory) else { continue }
            try Npy.write(array, path: destination + "/t\(index).npy")
            written += 1
        }
        note("wrote \(written) intermediate tensors to \(destination)")
    }
}

import ArgumentParser
import Foundation
import MicrogenIR
import MicrogenProject
import MicrogenHost

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Build a model for a board, run it on inputs, and write or check the outputs.",
        discussion: """
        On --board host the generated C is compiled with the host C compiler ($CC, default cc)
        and run as a native program. Inputs and outputs are NumPy .npy files whose dtype matches
        the model (int8 or float32) and whose element count matches the tensor.

        With --expect, the outputs are compared with reference .npy files: int8 must match exactly,
        float32 within 1e-4 relative or 1e-5 absolute. The max difference and the mismatch count
        are printed, and the exit status is 1 on a mismatch.

        Examples:
          microgen run kws.tflite --board host --input in.npy --output out.npy
          microgen run kws.tflite --board host --input in.npy --expect ref.npy
          microgen run kws.tflite --board host --input in.npy --dump-intermediates dump/
        """
    )

    @Argument(help: "The model file (.tflite).")
    var model: String

    @Option(help: "The board to run on. Available now: host.")
    var board: String = "host"

    @Option(name: .shortAndLong, help: "An input .npy, once per model input, in order.")
    var input: [String] = []

    @Option(name: .shortAndLong, help: "Where to write an output .npy, once per model output, in order.")
    var output: [String] = []

    @Option(help: "A reference .npy to compare each output with, in order.")
    var expect: [String] = []

    @Option(help: "Write every operator's output tensor to this directory as t<tensor-index>.npy.")
    var dumpIntermediates: String?

    @Option(help: "Keep the generated C and the host program in this directory (default: a temporary one).")
    var buildDir: String?

    @Option(help: "The C name of the model (default: from the file name).")
    var name: String?

    func run() throws {
        try reportingErrors {
            guard board == "host" else {
                throw MicrogenError(.invalidArgument, "board '\(board)' is not supported yet; available: host")
            }
            let compiled = try ModelBuilder.compile(path: model, name: name)
            let graph = compiled.graph
            guard input.count == graph.inputs.count else {
                throw MicrogenError(.invalidArgument, "\(model) has \(graph.inputs.count) input(s); give --input once for each (got \(input.count))")
            }
            guard output.count <= graph.outputs.count, expect.count <= graph.outputs.count else {
                throw MicrogenError(.invalidArgument, "\(model) has \(graph.outputs.count) output(s); too many --output or --expect")
            }
            let inputs = try input.map { try Npy.read(path: $0) }
            let references = try expect.map { try Npy.read(path: $0) }

            let fm = FileManager.default
            let directory = buildDir ?? fm.temporaryDirectory.appendingPathComponent("microgen-host-\(UUID().uuidString)").path
            defer { if buildDir == nil { try? fm.removeItem(atPath: directory) } }
            let program = try HostProgram.build(compiled, in: directory, traces: dumpIntermediates != nil)
            let traceDirectory = dumpIntermediates.map { _ in directory + "/trace" }
            let outputs = try program.run(inputs, traceDirectory: traceDirectory)

            for (array, path) in zip(outputs, output) { try Npy.write(array, path: path) }
            if let dumpIntermediates, let traceDirectory { try saveTraces(program, from: traceDirectory, to: dumpIntermediates) }

            var failed = false
            for (i, reference) in references.enumerated() {
                let comparison = try OutputComparison(actual: outputs[i], expected: reference)
                print("output \(i): \(comparison.summary)")
                failed = failed || !comparison.passed
            }
            if output.isEmpty && expect.isEmpty {
                for (i, array) in outputs.enumerated() {
                    let values = array.doubles()
                    let shown = values.prefix(16).map { array.dataType == .float32 ? String(format: "%.6g", $0) : String(Int($0)) }
                    print("output \(i) \(array.dataType) \(array.shape.shapeString): [\(shown.joined(separator: ", "))\(values.count > 16 ? ", ..." : "")]")
                }
            }
            if failed { throw ExitCode.failure }
        }
    }

    private func saveTraces(_ program: HostProgram, from traceDirectory: String, to destination: String) throws {
        try? FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        let tensors = program.model.graph.tensors.indices
        var written = 0
        for index in tensors {
            guard let array = program.tracedTensor(index, in: traceDirectory) else { continue }
            try Npy.write(array, path: destination + "/t\(index).npy")
            written += 1
        }
        note("wrote \(written) intermediate tensors to \(destination)")
    }
}

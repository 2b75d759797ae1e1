import Foundation
import XCTest
import MicrogenIR
import MicrogenCompiler
import MicrogenCodegen
@testable import MicrogenHost
@testable import MicrogenProject

/// In-place execution: an activation (TANH/LOGISTIC), an int8 requantization (QUANTIZE), ADD,
/// a MUL by a broadcast constant, and a SOFTMAX reached through a RESHAPE each write over the
/// input that dies there. The arena shrinks, and every output and every intermediate tensor is bit for bit
/// what the same model computes with a buffer per tensor. (The kernels themselves are checked
/// against TensorFlow Lite Micro by OperatorFixtureTests, so equal bits here mean the in-place
/// plan is exact.)
final class InPlaceExecutionTests: XCTestCase {
    // Tensor indices of the test graph.
    private let input = 0, offsets = 1, factors = 2, widened = 3, activation = 4, requantized = 5, widened2 = 6, sum = 7,
                scale = 8, product = 9, flat = 10, probabilities = 11

    /// input → ADD per-channel offsets → TANH/LOGISTIC → (QUANTIZE, int8 only) ─┐
    /// input → MUL per-channel factors ──────────────────────────────────────────┴→ ADD → MUL by a
    /// per-channel constant → RESHAPE → SOFTMAX.
    ///
    /// The first ADD and MUL broadcast a narrow input to 8 channels (a model input is never
    /// overwritten), so the ADD where three wide tensors meet sets the peak unless it runs in
    /// place. No operator here needs scratch memory, so nothing else sets the peak.
    private func graph(_ dataType: DataType) -> Graph {
        let isInt8 = dataType == .int8
        let channels = 8
        func quant(_ scale: Float, _ zero: Int) -> Quantization? { isInt8 ? Quantization(scale: scale, zeroPoint: zero) : nil }
        func constant(_ values: (Int) -> Int) -> [UInt8] {
            (0..<channels).flatMap { i in isInt8 ? [UInt8(truncatingIfNeeded: values(i))] : littleEndianBytes(Float(values(i)) / 50) }
        }
        let shape = [1, 6, 6, channels]
        let tensors = [
            Tensor(name: "input", dataType: dataType, shape: [1, 6, 6, 1], quantization: quant(0.05, 3)),
            Tensor(name: "offsets", dataType: dataType, shape: [channels], quantization: quant(0.02, 0), data: constant { 15 * $0 - 60 }),
            Tensor(name: "factors", dataType: dataType, shape: [channels], quantization: quant(0.02, 0), data: constant { 90 - 25 * $0 }),
            Tensor(name: "widened", dataType: dataType, shape: shape, quantization: quant(0.02, -10)),
            Tensor(name: "activation", dataType: dataType, shape: shape, quantization: quant(1.0 / 128, 0)),
            Tensor(name: "requantized", dataType: dataType, shape: shape, quantization: quant(0.01, 5)),
            Tensor(name: "widened2", dataType: dataType, shape: shape, quantization: quant(0.03, 2)),
            Tensor(name: "sum", dataType: dataType, shape: shape, quantization: quant(0.04, -3)),
            Tensor(name: "scale", dataType: dataType, shape: [channels], quantization: quant(0.02, 0), data: constant { 20 * $0 - 70 }),
            Tensor(name: "product", dataType: dataType, shape: shape, quantization: quant(0.05, 1)),
            Tensor(name: "flat", dataType: dataType, shape: [1, 36 * channels], quantization: quant(0.05, 1)),
            Tensor(name: "probabilities", dataType: dataType, shape: [1, 36 * channels], quantization: quant(1.0 / 256, -128)),
        ]
        let plain = OperatorOptions.elementwise(activation: .none)
        var ops = [
            Operator(kind: .add, inputs: [input, offsets], outputs: [widened], options: plain),
            Operator(kind: isInt8 ? .tanh : .logistic, inputs: [widened], outputs: [activation]),
            Operator(kind: .quantize, inputs: [activation], outputs: [requantized]),
            Operator(kind: .mul, inputs: [input, factors], outputs: [widened2], options: plain),
            Operator(kind: .add, inputs: [requantized, widened2], outputs: [sum], options: plain),
            Operator(kind: .mul, inputs: [sum, scale], outputs: [product], options: plain),
            Operator(kind: .reshape, inputs: [product], outputs: [flat], options: .reshape(newShape: [1, 36 * channels])),
            Operator(kind: .softmax, inputs: [flat], outputs: [probabilities], options: .softmax(beta: 1)),
        ]
        if !isInt8 {
            // float32 has no requantization: the ADD reads the activation directly.
            ops.remove(at: 2)
            ops[3].inputs = [activation, widened2]
        }
        return Graph(name: "inplace", tensors: tensors, operators: ops, inputs: [input], outputs: [probabilities])
    }

    private func build(_ graph: Graph, inPlace: Bool) throws -> (model: CompiledModel, program: HostProgram, directory: String) {
        let options = CompileOptions(name: "inplace", kernelsDirectory: try Resources.kernelsDirectory(), inPlace: inPlace)
        let compiled = try ModelCompiler.compile(graph, options: options)
        let directory = try TestPaths.temporaryDirectory("inplace")
        return (compiled, try HostProgram.build(compiled, in: directory, traces: true), directory)
    }

    func testInPlaceExecutionShrinksTheArenaAndChangesNoBit() throws {
        var rng = SplitMix64(seed: 29)
        for dataType in [DataType.int8, .float32] {
            let graph = graph(dataType)
            let separate = try build(graph, inPlace: false)
            let shared = try build(graph, inPlace: true)
            defer {
                try? FileManager.default.removeItem(atPath: separate.directory)
                try? FileManager.default.removeItem(atPath: shared.directory)
            }
            let at = shared.model.tensorOffsets
            let intermediate = dataType == .int8 ? requantized : activation
            XCTAssertEqual(at[activation], at[widened], "\(dataType): the activation overwrites its input")
            if dataType == .int8 { XCTAssertEqual(at[requantized], at[activation], "QUANTIZE overwrites its input") }
            XCTAssertTrue(at[sum] == at[intermediate] || at[sum] == at[widened2], "\(dataType): ADD overwrites an input")
            XCTAssertEqual(at[product], at[sum], "\(dataType): MUL overwrites its unbroadcast input")
            XCTAssertEqual(at[probabilities], at[product], "\(dataType): SOFTMAX overwrites its input (through the RESHAPE)")
            XCTAssertNotEqual(at[widened], at[input], "\(dataType): the model input is never overwritten")
            XCTAssertLessThan(shared.model.plan.arenaSize, separate.model.plan.arenaSize, "\(dataType)")
            XCTAssertLessThan(shared.model.plan.arenaSize, shared.model.plan.lowerBound, "\(dataType): below the no-copy bound")
            XCTAssertEqual(shared.model.plan.lowerBound, separate.model.plan.lowerBound)

            for trial in 0..<3 {
                let inputArray = dataType == .int8
                    ? NpyArray(dataType: .int8, shape: [1, 6, 6, 1], data: (0..<36).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                    : NpyArray(dataType: .float32, shape: [1, 6, 6, 1], data: (0..<36).flatMap { _ in
                        littleEndianBytes(Float(Int(rng.next() % 2001)) / 200 - 5) })
                let traceA = separate.directory + "/trace\(trial)", traceB = shared.directory + "/trace\(trial)"
                let expected = try separate.program.run([inputArray], traceDirectory: traceA)
                let actual = try shared.program.run([inputArray], traceDirectory: traceB)
                XCTAssertEqual(actual, expected, "\(dataType) trial \(trial): in-place execution changed the output")
                for tensor in Set(graph.operators.flatMap(\.outputs)).sorted() {
                    let a = separate.program.tracedTensor(tensor, in: traceA), b = shared.program.tracedTensor(tensor, in: traceB)
                    XCTAssertNotNil(a, "tensor \(tensor) was not traced")
                    XCTAssertEqual(a, b, "\(dataType) trial \(trial): tensor \(tensor) (\(graph.tensors[tensor].name)) differs")
                }
            }
        }
    }
}

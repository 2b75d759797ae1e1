import Foundation
import XCTest
import MicrogenIR
import MicrogenCompiler
import MicrogenCodegen
@testable import MicrogenHost
@testable import MicrogenProject

/// In-place depthwise and pointwise convolution (the TinyEngine tricks): the 3x3 depthwise kernel
/// writes each output channel over the input channel it has just copied into its plane, and a
/// 1x1 convolution with no more output than input channels writes a block of pixels over the
/// pixels it has just gathered. Each must shrink the arena and change no bit: the same model run
/// with a buffer per tensor is the reference (the kernels themselves are checked against TFLite
/// Micro by OperatorFixtureTests and ReferenceModelTests).
final class InPlaceConvolutionTests: XCTestCase {
    /// input → 1x1 8→16 (grows: not in place) → depthwise 3x3 stride 1 SAME → depthwise 3x3
    /// stride 2 VALID (smaller: not in place) → 1x1 16→12 (smaller: not in place) → 1x1 12→12
    /// → output. Without in-place execution the peak is the two 16-channel images of the first
    /// depthwise convolution; with it, the input and the first image.
    private func graph(seed: UInt64) -> Graph {
        var rng = SplitMix64(seed: seed)
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: Int(rng.next() % 255) - 127) } }
        func biases(_ count: Int) -> [UInt8] { (0..<count).flatMap { _ in littleEndianBytes(Int32(Int(rng.next() % 4001) - 2000)) } }
        func perChannel(_ channels: Int, axis: Int) -> Quantization {
            Quantization(scales: (0..<channels).map { Float(3 + $0 % 5) / 1000 }, zeroPoints: [Int](repeating: 0, count: channels), axis: axis)
        }
        func biasQuant(_ channels: Int) -> Quantization {
            Quantization(scales: (0..<channels).map { Float(3 + $0 % 5) / 100_000 }, zeroPoints: [Int](repeating: 0, count: channels))
        }
        let tensors = [
            /* 0 */ Tensor(name: "input", dataType: .int8, shape: [1, 9, 10, 8], quantization: Quantization(scale: 0.02, zeroPoint: -5)),
            /* 1 */ Tensor(name: "expand_w", dataType: .int8, shape: [16, 1, 1, 8], quantization: perChannel(16, axis: 0), data: bytes(128)),
            /* 2 */ Tensor(name: "expand_b", dataType: .int32, shape: [16], quantization: biasQuant(16), data: biases(16)),
            /* 3 */ Tensor(name: "expanded", dataType: .int8, shape: [1, 9, 10, 16], quantization: Quantization(scale: 0.03, zeroPoint: 4)),
            /* 4 */ Tensor(name: "dw1_w", dataType: .int8, shape: [1, 3, 3, 16], quantization: perChannel(16, axis: 3), data: bytes(144)),
            /* 5 */ Tensor(name: "dw1_b", dataType: .int32, shape: [16], quantization: biasQuant(16), data: biases(16)),
            /* 6 */ Tensor(name: "dw1", dataType: .int8, shape: [1, 9, 10, 16], quantization: Quantization(scale: 0.025, zeroPoint: -7)),
            /* 7 */ Tensor(name: "dw2_w", dataType: .int8, shape: [1, 3, 3, 16], quantization: perChannel(16, axis: 3), data: bytes(144)),
            /* 8 */ Tensor(name: "dw2_b", dataType: .int32, shape: [16], quantization: biasQuant(16), data: biases(16)),
            /* 9 */ Tensor(name: "dw2", dataType: .int8, shape: [1, 4, 4, 16], quantization: Quantization(scale: 0.04, zeroPoint: 2)),
            /* 10 */ Tensor(name: "narrow_w", dataType: .int8, shape: [12, 1, 1, 16], quantization: perChannel(12, axis: 0), data: bytes(192)),
            /* 11 */ Tensor(name: "narrow_b", dataType: .int32, shape: [12], quantization: biasQuant(12), data: biases(12)),
            /* 12 */ Tensor(name: "narrow", dataType: .int8, shape: [1, 4, 4, 12], quantization: Quantization(scale: 0.05, zeroPoint: -3)),
            /* 13 */ Tensor(name: "mix_w", dataType: .int8, shape: [12, 1, 1, 12], quantization: perChannel(12, axis: 0), data: bytes(144)),
            /* 14 */ Tensor(name: "mix_b", dataType: .int32, shape: [12], quantization: biasQuant(12), data: biases(12)),
            /* 15 */ Tensor(name: "output", dataType: .int8, shape: [1, 4, 4, 12], quantization: Quantization(scale: 0.06, zeroPoint: 1)),
        ]
        func conv(_ input: Int, _ weights: Int, _ output: Int) -> Operator {
            Operator(kind: .conv2D, inputs: [input, weights, weights + 1], outputs: [output],
                     options: .conv2D(Conv2DOptions(padding: .valid, strideW: 1, strideH: 1, activation: .relu)))
        }
        func depthwise(_ input: Int, _ weights: Int, _ output: Int, _ padding: Padding, _ stride: Int) -> Operator {
            Operator(kind: .depthwiseConv2D, inputs: [input, weights, weights + 1], outputs: [output],
                     options: .depthwiseConv2D(DepthwiseConv2DOptions(padding: padding, strideW: stride, strideH: stride,
                                                                      depthMultiplier: 1, activation: .relu6)))
        }
        let ops = [conv(0, 1, 3), depthwise(3, 4, 6, .same, 1), depthwise(6, 7, 9, .valid, 2), conv(9, 10, 12), conv(12, 13, 15)]
        return Graph(name: "inplace_conv", tensors: tensors, operators: ops, inputs: [0], outputs: [15])
    }

    private func build(_ graph: Graph, inPlace: Bool, flags: [String]) throws -> (model: CompiledModel, program: HostProgram, directory: String) {
        let options = CompileOptions(name: "inplace_conv", kernelsDirectory: try Resources.kernelsDirectory(), inPlace: inPlace)
        let compiled = try ModelCompiler.compile(graph, options: options)
        let directory = try TestPaths.temporaryDirectory("inplace-conv")
        return (compiled, try HostProgram.build(compiled, in: directory, traces: true, extraFlags: flags), directory)
    }

    func testDepthwiseAndPointwiseRunInPlaceAndChangeNoBit() throws {
        var rng = SplitMix64(seed: 41)
        // The portable C and the SIMD path (emulated on the host) of every kernel.
        for flags in [[], ["-DMG_USE_DSP=1"]] {
            let graph = graph(seed: 7)
            let separate = try build(graph, inPlace: false, flags: flags)
            let shared = try build(graph, inPlace: true, flags: flags)
            defer {
                try? FileManager.default.removeItem(atPath: separate.directory)
                try? FileManager.default.removeItem(atPath: shared.directory)
            }
            let at = shared.model.tensorOffsets
            XCTAssertNotEqual(at[3], at[0], "the model input is never overwritten")
            XCTAssertEqual(at[6], at[3], "depthwise stride 1 overwrites its input")
            XCTAssertEqual(at[15], at[12], "1x1 12→12 overwrites its input")
            XCTAssertNotEqual(separate.model.tensorOffsets[6], separate.model.tensorOffsets[3])
            XCTAssertLessThan(shared.model.plan.plannedLowerBound, shared.model.plan.lowerBound, "\(flags): the peak drops")
            XCTAssertLessThan(shared.model.plan.arenaSize, separate.model.plan.arenaSize, "\(flags): the arena shrinks")

            for trial in 0..<3 {
                let input = NpyArray(dataType: .int8, shape: [1, 9, 10, 8], data: (0..<720).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                let traceA = separate.directory + "/trace\(trial)", traceB = shared.directory + "/trace\(trial)"
                let expected = try separate.program.run([input], traceDirectory: traceA)
                let actual = try shared.program.run([input], traceDirectory: traceB)
                XCTAssertEqual(actual, expected, "\(flags) trial \(trial): in-place execution changed the output")
                for tensor in [3, 6, 9, 12, 15] {
                    let a = separate.program.tracedTensor(tensor, in: traceA), b = shared.program.tracedTensor(tensor, in: traceB)
                    XCTAssertNotNil(a, "tensor \(tensor) was not traced")
                    XCTAssertEqual(a, b, "\(flags) trial \(trial): tensor \(tensor) (\(graph.tensors[tensor].name)) differs")
                }
            }
        }
    }

    /// On the MLPerf models the passes apply wherever the shapes allow; on kws the arena drops
    /// well below the no-copy bound (on vww the peak is a 1x1 convolution that widens 8 to 16
    /// channels, which cannot run in place). QemuModelTests runs every vector of these builds on
    /// cortex-m7.
    func testMLPerfModelsRunDepthwiseAndPointwiseInPlace() throws {
        for (model, expectedMinimum) in [("kws_ref_model", 8), ("vww_96_int8", 13)] {
            let compiled = try ModelBuilder.compile(path: TestPaths.models + "/\(model).tflite")
            let g = compiled.graph
            let inPlace = g.operators.filter { op in
                [.depthwiseConv2D, .conv2D].contains(op.kind) && compiled.tensorOffsets[op.outputs[0]] == compiled.tensorOffsets[op.inputs[0]]
            }
            XCTAssertGreaterThanOrEqual(inPlace.count, expectedMinimum, "\(model): convolutions run in place")
            if model == "kws_ref_model" {
                XCTAssertLessThan(compiled.plan.plannedLowerBound, compiled.plan.lowerBound, "\(model): below the no-copy bound")
                XCTAssertLessThan(compiled.plan.arenaSize, compiled.plan.lowerBound / 3 * 2, "\(model): a third of the arena saved")
            }
        }
    }
}

import Foundation
import XCTest
import MicrogenIR
import MicrogenCompiler
import MicrogenCodegen
@testable import MicrogenHost
@testable import MicrogenProject

/// Folding a standalone RELU/RELU6 into its producer removes an operator (and never grows the arena) and
/// changes no output bit. (The standalone kernels themselves are checked against TFLite Micro
/// by OperatorFixtureTests, so equal outputs here mean the fold is exact.)
final class ActivationFoldingTests: XCTestCase {
    private func convThenActivation(_ activation: OpKind, dataType: DataType) -> Graph {
        var rng = SplitMix64(seed: 7)
        let isInt8 = dataType == .int8
        func quant(_ scale: Float, _ zero: Int) -> Quantization? { isInt8 ? Quantization(scale: scale, zeroPoint: zero) : nil }
        let weightsCount = 4 * 3 * 3 * 3
        var weights: [UInt8] = []
        for _ in 0..<weightsCount {
            let draw = Int(rng.next() % 255) - 127
            if isInt8 {
                weights.append(UInt8(truncatingIfNeeded: draw))
            } else {
                weights += littleEndianBytes(Float(draw) / 128)
            }
        }
        var bias: [UInt8] = []
        for i in 0..<4 {
            bias += isInt8 ? littleEndianBytes(Int32(i * 50 - 100)) : littleEndianBytes(Float(i))
        }
        let tensors = [
            Tensor(name: "input", dataType: dataType, shape: [1, 6, 6, 3], quantization: quant(0.05, 3)),
            Tensor(name: "weights", dataType: dataType, shape: [4, 3, 3, 3],
                   quantization: isInt8 ? Quantization(scales: [0.01, 0.02, 0.015, 0.03], zeroPoints: [0, 0, 0, 0], axis: 0) : nil, data: weights),
            Tensor(name: "bias", dataType: isInt8 ? .int32 : .float32, shape: [4],
                   quantization: isInt8 ? Quantization(scales: [0.0005, 0.001, 0.00075, 0.0015], zeroPoints: [0, 0, 0, 0], axis: 0) : nil, data: bias),
            Tensor(name: "conv", dataType: dataType, shape: [1, 6, 6, 4], quantization: quant(0.02, -10)),
            Tensor(name: "output", dataType: dataType, shape: [1, 6, 6, 4], quantization: quant(0.02, -10)),
        ]
        let conv = Operator(kind: .conv2D, inputs: [0, 1, 2], outputs: [3],
                            options: .conv2D(Conv2DOptions(padding: .same, strideW: 1, strideH: 1, activation: .none)))
        return Graph(name: "fold", tensors: tensors, operators: [conv, Operator(kind: activation, inputs: [3], outputs: [4])], inputs: [0], outputs: [4])
    }

    private func run(_ graph: Graph, fold: Bool, input: NpyArray) throws -> (operators: Int, arena: Int, output: NpyArray) {
        let options = CompileOptions(name: "fold", kernelsDirectory: try Resources.kernelsDirectory(), foldActivations: fold)
        let compiled = try ModelCompiler.compile(graph, options: options)
        let directory = try TestPaths.temporaryDirectory("fold")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = try HostProgram.build(compiled, in: directory).run([input])[0]
        return (compiled.operators.count, compiled.plan.arenaSize, output)
    }

    func testFoldingIsExactAndSavesAnOperator() throws {
        var rng = SplitMix64(seed: 11)
        for dataType in [DataType.int8, .float32] {
            for activation in [OpKind.relu, .relu6] {
                let graph = convThenActivation(activation, dataType: dataType)
                let input = dataType == .int8
                    ? NpyArray(dataType: .int8, shape: [1, 6, 6, 3], data: (0..<108).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                    : NpyArray(dataType: .float32, shape: [1, 6, 6, 3], data: (0..<108).flatMap { _ in
                        littleEndianBytes(Float(Int(rng.next() % 2001)) / 100 - 10) })
                let folded = try run(graph, fold: true, input: input)
                let unfolded = try run(graph, fold: false, input: input)
                XCTAssertEqual(folded.operators, 1, "\(dataType) \(activation)")
                XCTAssertEqual(unfolded.operators, 2)
                XCTAssertLessThanOrEqual(folded.arena, unfolded.arena)
                XCTAssertEqual(folded.output, unfolded.output, "\(dataType) \(activation): folding changed the output")
            }
        }
    }

    func testActivationWithDifferentQuantizationIsNotFolded() {
        var graph = convThenActivation(.relu, dataType: .int8)
        graph.tensors[4].quantization = Quantization(scale: 0.04, zeroPoint: -128)
        XCTAssertEqual(foldStandaloneActivations(graph).operators.count, 2)
    }
}

func littleEndianBytes(_ value: Int32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
func littleEndianBytes(_ value: Float) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * UInt32($0))) } }

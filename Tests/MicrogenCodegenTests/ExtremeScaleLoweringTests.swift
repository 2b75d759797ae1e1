import Foundation
import MicrogenIR
import XCTest
@testable import MicrogenCodegen

/// Issue 10: every operator that derives a multiplier from scales or float options, over a grid
/// of scales spanning the whole range import accepts (2^-126 to 2^60) and the extreme options,
/// compiles or is refused with a MicrogenError: never a Swift trap (a trap ends this process,
/// which fails the run). Shifts stay within QuantizedMultiplier.shiftRange by construction.
final class ExtremeScaleLoweringTests: XCTestCase {
    static let scales: [Float] = [Float.leastNormalMagnitude, 1e-20, 0.003, 1, 1e10, 0x1p60]
    static let kernels = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../templates/runtime/kernels").standardized.path

    func testNoScaleCombinationTraps() throws {
        var compiled = 0, refused = 0
        for make in Self.graphs {
            for a in Self.scales {
                for b in Self.scales {
                    let graph = make(a, b)
                    do {
                        _ = try ModelCompiler.compile(graph, options: CompileOptions(name: "extreme", kernelsDirectory: Self.kernels))
                        compiled += 1
                    } catch let error as MicrogenError {
                        XCTAssertFalse(error.message.isEmpty)
                        refused += 1
                    }
                }
            }
        }
        // Both outcomes occur: the grid reaches the refusals and the bounded (clamped) results.
        XCTAssertGreaterThan(compiled, 100)
        XCTAssertGreaterThan(refused, 10)
    }

    func testLeakyReluWhoseFloatMultiplierOverflowsIsRefusedByName() {
        let graph = Self.unary(.leakyRelu, .leakyRelu(alpha: 0x1p20), input: 0x1p60, output: Float.leastNormalMagnitude)
        XCTAssertThrowsError(try ModelCompiler.checkOperators(graph)) { error in
            let message = (error as? MicrogenError)?.message ?? ""
            XCTAssertTrue(message.contains("LEAKY_RELU"), message)
            XCTAssertTrue(message.contains("too large") || message.contains("inf"), message)
        }
    }

    func testHardSwishWhoseFloatMultiplierOverflowsIsRefusedByName() {
        let graph = Self.unary(.hardSwish, .none, input: 0x1p60, output: Float.leastNormalMagnitude)
        XCTAssertThrowsError(try ModelCompiler.checkOperators(graph)) { error in
            XCTAssertTrue(((error as? MicrogenError)?.message ?? "").contains("HARD_SWISH"), "\(error)")
        }
    }

    // MARK: graphs

    typealias Make = @Sendable (Float, Float) -> Graph

    static func q(_ scale: Float, _ zeroPoint: Int = 0) -> Quantization { Quantization(scale: scale, zeroPoint: zeroPoint) }

    static func int32Bytes(_ values: [Int32]) -> [UInt8] { values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } } }

    static func weights(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0 * 37 - 90)) } }

    static func unary(_ kind: OpKind, _ options: OperatorOptions, input: Float, output: Float, outputZeroPoint: Int = -2,
                      shape: [Int] = [1, 8], outputShape: [Int]? = nil, extra: [Tensor] = []) -> Graph {
        let tensors = [Tensor(name: "in", dataType: .int8, shape: shape, quantization: q(input, 1)),
                       Tensor(name: "out", dataType: .int8, shape: outputShape ?? shape, quantization: q(output, outputZeroPoint))] + extra
        return Graph(name: "extreme", tensors: tensors,
                     operators: [Operator(kind: kind, inputs: [0] + extra.indices.map { $0 + 2 }, outputs: [1], options: options)],
                     inputs: [0], outputs: [1])
    }

    /// A weighted operator: input scale `a`, weight scale `b`, output scale 0.05 (and the same
    /// with output scale `a` below, so both ratios are covered).
    static func weighted(_ kind: OpKind, _ options: OperatorOptions, input: Float, weight: Float, output: Float) -> Graph {
        let (inShape, wShape, outShape, channels): ([Int], [Int], [Int], Int)
        switch kind {
        case .conv2D: (inShape, wShape, outShape, channels) = ([1, 2, 2, 4], [2, 1, 1, 4], [1, 2, 2, 2], 2)
        case .depthwiseConv2D: (inShape, wShape, outShape, channels) = ([1, 2, 2, 4], [1, 1, 1, 4], [1, 2, 2, 4], 4)
        default: (inShape, wShape, outShape, channels) = ([1, 4], [3, 4], [1, 3], 3)
        }
        let wScales = [Float](repeating: weight, count: kind == .fullyConnected ? 1 : channels)
        let filter = Tensor(name: "w", dataType: .int8, shape: wShape,
                            quantization: Quantization(scales: wScales, zeroPoints: wScales.map { _ in 0 }, axis: kind == .depthwiseConv2D ? 3 : 0),
                            data: weights(wShape.reduce(1, *)))
        let bias = Tensor(name: "b", dataType: .int32, shape: [channels], quantization: q(1),
                          data: int32Bytes((0..<channels).map { Int32($0 * 1000 - 700) }))
        return unary(kind, options, input: input, output: output, shape: inShape, outputShape: outShape, extra: [filter, bias])
    }

    static let graphs: [Make] = {
        var list: [Make] = []
        let conv = OperatorOptions.conv2D(Conv2DOptions(padding: .same, strideW: 1, strideH: 1, activation: .relu6))
        let depthwise = OperatorOptions.depthwiseConv2D(DepthwiseConv2DOptions(padding: .same, strideW: 1, strideH: 1, depthMultiplier: 1, activation: .relu))
        let fc = OperatorOptions.fullyConnected(FullyConnectedOptions(activation: .reluN1To1))
        for (kind, options) in [(OpKind.conv2D, conv), (.depthwiseConv2D, depthwise), (.fullyConnected, fc)] {
            list.append { weighted(kind, options, input: $0, weight: $1, output: 0.05) }
            list.append { weighted(kind, options, input: 0.05, weight: $0, output: $1) }
        }
        for alpha: Float in [0x1p20, -0x1p20, 0.1] {
            list.append { unary(.leakyRelu, .leakyRelu(alpha: alpha), input: $0, output: $1) }
        }
        // SOFTMAX, LOGISTIC and TANH have fixed output quantization: vary the input scale and beta.
        list.append { unary(.softmax, .softmax(beta: $1), input: $0, output: 1.0 / 256, outputZeroPoint: -128) }
        list.append { a, _ in unary(.logistic, .none, input: a, output: 1.0 / 256, outputZeroPoint: -128) }
        list.append { a, _ in unary(.tanh, .none, input: a, output: 1.0 / 128, outputZeroPoint: 0) }
        list.append { unary(.hardSwish, .none, input: $0, output: $1) }
        list.append { unary(.relu, .none, input: $0, output: $1) }
        list.append { unary(.relu6, .none, input: $0, output: $1) }
        list.append { unary(.quantize, .none, input: $0, output: $1) }
        let axes = Tensor(name: "axes", dataType: .int32, shape: [2], data: int32Bytes([1, 2]))
        list.append { unary(.mean, .reducer(keepDims: false), input: $0, output: $1, shape: [1, 3, 5, 4], outputShape: [1, 4], extra: [axes]) }
        for kind in [OpKind.add, .sub, .mul] {
            list.append { a, b in
                let other = Tensor(name: "other", dataType: .int8, shape: [1, 8], quantization: q(b, 3))
                return unary(kind, .elementwise(activation: .none), input: a, output: 0.05, extra: [other])
            }
            list.append { a, b in
                let other = Tensor(name: "other", dataType: .int8, shape: [1, 8], quantization: q(0.05, 3))
                return unary(kind, .elementwise(activation: .relu), input: a, output: b, extra: [other])
            }
        }
        return list
    }()
}

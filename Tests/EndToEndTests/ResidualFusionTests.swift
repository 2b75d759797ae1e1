import Foundation
import XCTest
import MicrogenIR
import MicrogenCompiler
import MicrogenCodegen
@testable import MicrogenHost
@testable import MicrogenProject

/// A residual ADD fused into the convolution that feeds it: the convolution's result is never
/// stored and the sum is written over the residual. Bit for bit what the two operators compute
/// separately (the reference run below), on both host code paths (portable and the emulated SIMD
/// one); and the arena shrinks. pretrainedResnet_quant's three fused blocks, which use both
/// convolution schemes ("times 256" at the arena's peak, blocks elsewhere), are checked against
/// TFLite Micro by ReferenceModelTests and, on cortex-m7 and m4, by QemuModelTests.
final class ResidualFusionTests: XCTestCase {
    enum Shortcut: CaseIterable { case identity, projection, fromTheConvolutionsOwnInput }

    /// input → 1x1 conv 8→16 → x → 3x3 conv → 3x3 conv ─┐
    ///                         x → (shortcut) ───────────┴→ ADD (+ReLU) → 1x1 conv → output
    /// The shortcut is x itself, a 1x1 conv of x, or (not a real block, but legal) the second
    /// convolution's own input, which it reads at other positions than it writes: then the sum
    /// cannot be written over the residual, but the fusion must still be exact.
    private func graph(_ shortcut: Shortcut, seed: UInt64) -> Graph {
        var rng = SplitMix64(seed: seed)
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: Int(rng.next() % 255) - 127) } }
        func biases(_ count: Int) -> [UInt8] { (0..<count).flatMap { _ in littleEndianBytes(Int32(Int(rng.next() % 4001) - 2000)) } }
        func weights(_ name: String, _ shape: [Int]) -> Tensor {
            Tensor(name: name, dataType: .int8, shape: shape,
                   quantization: Quantization(scales: (0..<shape[0]).map { Float(2 + $0 % 5) / 1000 }, zeroPoints: [Int](repeating: 0, count: shape[0])),
                   data: bytes(shape.reduce(1, *)))
        }
        func bias(_ name: String, _ count: Int) -> Tensor {
            Tensor(name: name, dataType: .int32, shape: [count],
                   quantization: Quantization(scales: (0..<count).map { Float(2 + $0 % 5) / 50_000 }, zeroPoints: [Int](repeating: 0, count: count)),
                   data: biases(count))
        }
        func image(_ name: String, _ scale: Float, _ zero: Int) -> Tensor {
            Tensor(name: name, dataType: .int8, shape: [1, 7, 9, 16], quantization: Quantization(scale: scale, zeroPoint: zero))
        }
        let tensors = [
            /* 0 */ Tensor(name: "input", dataType: .int8, shape: [1, 7, 9, 8], quantization: Quantization(scale: 0.03, zeroPoint: -4)),
            /* 1 */ weights("w0", [16, 1, 1, 8]), /* 2 */ bias("b0", 16), /* 3 */ image("x", 0.035, -128),
            /* 4 */ weights("w1", [16, 3, 3, 16]), /* 5 */ bias("b1", 16), /* 6 */ image("a1", 0.04, -128),
            /* 7 */ weights("w2", [16, 3, 3, 16]), /* 8 */ bias("b2", 16), /* 9 */ image("a2", 0.05, 3),
            /* 10 */ weights("ws", [16, 1, 1, 16]), /* 11 */ bias("bs", 16), /* 12 */ image("shortcut", 0.045, -2),
            /* 13 */ image("sum", 0.06, -128),
            /* 14 */ weights("w3", [16, 1, 1, 16]), /* 15 */ bias("b3", 16), /* 16 */ image("output", 0.05, 0),
        ]
        func conv(_ input: Int, _ w: Int, _ output: Int, _ padding: Padding, _ activation: FusedActivation) -> Operator {
            Operator(kind: .conv2D, inputs: [input, w, w + 1], outputs: [output],
                     options: .conv2D(Conv2DOptions(padding: padding, strideW: 1, strideH: 1, activation: activation)))
        }
        var ops = [conv(0, 1, 3, .valid, .relu), conv(3, 4, 6, .same, .relu), conv(6, 7, 9, .same, .none)]
        let residual: Int
        switch shortcut {
        case .identity: residual = 3
        case .projection: residual = 12; ops.append(conv(3, 10, 12, .valid, .none))
        case .fromTheConvolutionsOwnInput: residual = 6
        }
        ops += [Operator(kind: .add, inputs: [residual, 9], outputs: [13], options: .elementwise(activation: .relu)),
                conv(13, 14, 16, .valid, .none)]
        return Graph(name: "residual", tensors: tensors, operators: ops, inputs: [0], outputs: [16])
    }

    private func build(_ graph: Graph, fuse: Bool, flags: [String]) throws -> (model: CompiledModel, program: HostProgram, directory: String) {
        let options = CompileOptions(name: "residual", kernelsDirectory: try Resources.kernelsDirectory(), fuseResidualAdds: fuse)
        let compiled = try ModelCompiler.compile(graph, options: options)
        let directory = try TestPaths.temporaryDirectory("residual")
        return (compiled, try HostProgram.build(compiled, in: directory, extraFlags: flags), directory)
    }

    func testFusedResidualAddIsExactAndSavesAnImage() throws {
        var rng = SplitMix64(seed: 5)
        for shortcut in Shortcut.allCases {
            for flags in [[], ["-DMG_USE_DSP=1"]] {
                let graph = graph(shortcut, seed: 11)
                let separate = try build(graph, fuse: false, flags: flags)
                let fused = try build(graph, fuse: true, flags: flags)
                defer {
                    try? FileManager.default.removeItem(atPath: separate.directory)
                    try? FileManager.default.removeItem(atPath: fused.directory)
                }
                let label = "\(shortcut), \(flags)"
                XCTAssertEqual(fused.model.fusedTensors, [9], "\(label): the main path's last convolution takes the ADD")
                XCTAssertEqual(fused.model.graph.operators.count, graph.operators.count - 1, label)
                XCTAssertFalse(fused.model.graph.operators.contains { $0.kind == .add }, label)
                XCTAssertTrue(fused.model.files.contains { $0.contents.contains("residual_add = &") }, label)
                if shortcut == .fromTheConvolutionsOwnInput {
                    XCTAssertNotEqual(fused.model.tensorOffsets[13], fused.model.tensorOffsets[6], "\(label): not over a tensor it still reads")
                } else {
                    let residual = shortcut == .identity ? 3 : 12
                    XCTAssertEqual(fused.model.tensorOffsets[13], fused.model.tensorOffsets[residual], "\(label): the sum overwrites the residual")
                    XCTAssertLessThan(fused.model.plan.arenaSize, separate.model.plan.arenaSize, "\(label): the arena shrinks")
                }
                for trial in 0..<3 {
                    let input = NpyArray(dataType: .int8, shape: [1, 7, 9, 8], data: (0..<504).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                    XCTAssertEqual(try fused.program.run([input]), try separate.program.run([input]), "\(label) trial \(trial)")
                }
            }
        }
    }
}

import Foundation
import XCTest
import MicrogenIR
@testable import MicrogenHost
@testable import MicrogenProject

/// Every operator against single-operator models run through TensorFlow Lite Micro
/// (Tests/Fixtures/ops, made by tools/refgen). int8 must match bit for bit; float32 within
/// 1e-4 relative or 1e-5 absolute.
final class OperatorFixtureTests: XCTestCase {
    func testConv2D() throws { try checkFixtures(of: "conv_2d") }
    func testDepthwiseConv2D() throws { try checkFixtures(of: "depthwise_conv_2d") }
    func testFullyConnected() throws { try checkFixtures(of: "fully_connected") }
    func testAveragePool2D() throws { try checkFixtures(of: "average_pool_2d") }
    func testMaxPool2D() throws { try checkFixtures(of: "max_pool_2d") }
    func testReshape() throws { try checkFixtures(of: "reshape") }
    func testSqueeze() throws { try checkFixtures(of: "squeeze") }
    func testSoftmax() throws { try checkFixtures(of: "softmax") }
    func testAdd() throws { try checkFixtures(of: "add") }
    func testSub() throws { try checkFixtures(of: "sub") }
    func testMul() throws { try checkFixtures(of: "mul") }
    func testLogistic() throws { try checkFixtures(of: "logistic") }
    func testTanh() throws { try checkFixtures(of: "tanh") }
    func testRelu() throws { try checkFixtures(of: "relu") }
    func testRelu6() throws { try checkFixtures(of: "relu6") }
    func testLeakyRelu() throws { try checkFixtures(of: "leaky_relu") }
    func testHardSwish() throws { try checkFixtures(of: "hard_swish") }
    func testQuantize() throws { try checkFixtures(of: "quantize") }
    func testDequantize() throws { try checkFixtures(of: "dequantize") }
    func testPad() throws { try checkFixtures(of: "pad") }
    func testConcatenation() throws { try checkFixtures(of: "concatenation") }
    func testMean() throws { try checkFixtures(of: "mean") }
    func testTranspose() throws { try checkFixtures(of: "transpose") }
    func testStridedSlice() throws { try checkFixtures(of: "strided_slice") }

    /// Runs every variant of one operator and reports all failures together.
    private func checkFixtures(of op: String) throws {
        let directory = TestPaths.fixtures + "/ops/" + op
        let variants = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.sorted() ?? []
        XCTAssertFalse(variants.isEmpty, "no reference fixtures in \(directory): run tools/refgen/make_op_fixtures.py")
        var failures: [String] = []
        for variant in variants {
            do {
                if let problem = try runFixture(directory + "/" + variant) { failures.append("\(variant): \(problem)") }
            } catch {
                failures.append("\(variant): \(error)")
            }
        }
        XCTAssert(failures.isEmpty, "\(failures.count) of \(variants.count) \(op) variants failed:\n" + failures.joined(separator: "\n"))
    }

    /// nil when the fixture passes, else what went wrong.
    private func runFixture(_ path: String) throws -> String? {
        let (program, buildDirectory) = try buildHostProgram(model: path + "/model.tflite")
        defer { try? FileManager.default.removeItem(atPath: buildDirectory) }
        var inputs: [NpyArray] = []
        while FileManager.default.fileExists(atPath: path + "/input\(inputs.count).npy") {
            inputs.append(try Npy.read(path: path + "/input\(inputs.count).npy"))
        }
        let outputs = try program.run(inputs)
        let expected = try Npy.read(path: path + "/output0.npy")
        XCTAssertEqual(outputs[0].dataType, expected.dataType, path)
        let comparison = try OutputComparison(actual: outputs[0], expected: expected)
        return comparison.passed ? nil : comparison.summary
    }
}

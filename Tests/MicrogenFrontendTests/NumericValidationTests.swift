import MicrogenIR
import XCTest
@testable import MicrogenFrontend

/// Issue 10: scales, zero points and float options are checked at import, before anything
/// converts them, with one line naming the tensor or operator. Issue 11: a 1-D bias whose
/// per-channel quantized_dimension was copied from its filter imports, as TFLM runs it.
final class NumericValidationTests: XCTestCase {
    func testNonFiniteAndAbsurdScalesAreRefusedWithTheTensorNamed() {
        // Tensor 1 is the per-channel filter, 2 the bias, 0 the input (int8 activation).
        let cases: [(tensor: Int, scales: [Float], text: String)] = [
            (1, [0.1, .nan, 0.3], "tensor 1 'filter' has scale 1 of 3 nan"),
            (1, [0.1, 0.2, .infinity], "tensor 1 'filter' has scale 2 of 3 inf"),
            (2, [0.05, -.infinity, 0.15], "tensor 2 'bias' has scale 1 of 3 -inf"),
            (2, [0.05, 0.1, 1e38], "tensor 2 'bias' has scale 2 of 3 1e+38"),
            (1, [1e-45, 0.2, 0.3], "tensor 1 'filter' has scale 0 of 3 1e-45"),
            (1, [0.1, 0, 0.3], "tensor 1 'filter' has scale 1 of 3 0.0"),
            (1, [0.1, -0.2, 0.3], "tensor 1 'filter' has scale 1 of 3 -0.2"),
            (0, [1e-45], "tensor 0 'input' has scale 1e-45"),
            (0, [1e38], "tensor 0 'input' has scale 1e+38"),
        ]
        for c in cases {
            var model = TestModel.conv()
            model.tensors[c.tensor].scales = c.scales
            let message = assertImportFails(model.bytes(), kind: .malformedModel, c.text, "finite, from 2^-126 to 2^60")
            XCTAssertFalse(message.contains("\n"), message)
        }
    }

    func testNaNActivationScaleIsRefusedByTheActivationCheck() {
        var model = TestModel.conv()
        model.tensors[3].scales = [.nan]
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 3 'output' has scale nan")
    }

    func testEveryBadParameterIsCountedInOneLine() {
        var model = TestModel.conv()
        model.tensors[1].scales = [.nan, .nan, .nan]
        model.tensors[2].scales = [.infinity, 0.1, 0.1]
        let message = assertImportFails(model.bytes(), kind: .malformedModel, "tensor 1 'filter' has scale 0 of 3 nan",
                                        "and 1 more bad quantization parameters")
        XCTAssertFalse(message.contains("\n"), message)
    }

    func testZeroPointsMustFitTheirType() {
        var model = TestModel.conv()
        model.tensors[1].zeroPoints = [0, 200, 0]
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 1 'filter' has zero point 200, outside its int8 range -128...127")
        model = TestModel.conv()
        model.tensors[2].zeroPoints = [0, 0, 1 << 40]
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 2 'bias' has zero point 1099511627776, outside its int32 range")
    }

    func testFloatOptionsMustBeFiniteAndSane() {
        for (value, text) in [(Float.nan, "nan"), (.infinity, "inf"), (-.infinity, "-inf"), (1e30, "1e+30")] {
            let softmax = TestModel.single(builtin: 25, optionsType: 9, options: FBTable([0: .float32(value)]))
            assertImportFails(softmax.bytes(), kind: .malformedModel, "operator 0 (SOFTMAX) has beta \(text)", "finite and at most 2^20")
            let leaky = TestModel.single(builtin: 98, optionsType: 75, options: FBTable([0: .float32(value)]))
            assertImportFails(leaky.bytes(), kind: .malformedModel, "operator 0 (LEAKY_RELU) has alpha \(text)", "finite and at most 2^20")
        }
    }

    func testOrdinaryOptionsAndExtremeButFiniteScalesImport() throws {
        let leaky = TestModel.single(builtin: 98, optionsType: 75, options: FBTable([0: .float32(-0.3)]))
        XCTAssertEqual(try importTest(leaky).operators[0].options, .leakyRelu(alpha: -0.3))
        var model = TestModel.conv()
        model.tensors[1].scales = [Float.leastNormalMagnitude, 0x1p60, 0.3]
        XCTAssertEqual(try importTest(model).tensors[1].quantization?.scales, [Float.leastNormalMagnitude, 0x1p60, 0.3])
    }

    /// Issue 11: the converter copies a DEPTHWISE_CONV_2D filter's quantized_dimension (3) onto
    /// its 1-D bias; TFLM ignores bias quantization and runs the model.
    func testOneDimensionalBiasWithItsFiltersQuantizedDimensionImports() throws {
        var model = TestModel.conv()
        model.tensors[2].quantizedDimension = 3
        let bias = try importTest(model).tensors[2]
        XCTAssertEqual(bias.quantization, Quantization(scales: [0.05, 0.1, 0.15], zeroPoints: [0, 0, 0], axis: 0))
        // A 1-D tensor whose scale count is not its length is still malformed.
        model.tensors[2].scales = [0.05, 0.1]
        model.tensors[2].zeroPoints = [0, 0]
        assertImportFails(model.bytes(), kind: .malformedModel, "tensor 2 'bias' has 2 per-channel scales along quantized_dimension 3")
    }
}

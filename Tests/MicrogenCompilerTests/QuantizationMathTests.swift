import XCTest
import MicrogenIR
@testable import MicrogenCompiler

final class QuantizationMathTests: XCTestCase {
    func testPowersOfTwoAreExact() throws {
        // 2^k = 0.5 · 2^(k+1): the Q31 multiplier of 0.5 is 2^30.
        XCTAssertEqual(try QuantizedMultiplier(0.5), QuantizedMultiplier(multiplier: 1 << 30, shift: 0))
        XCTAssertEqual(try QuantizedMultiplier(1.0), QuantizedMultiplier(multiplier: 1 << 30, shift: 1))
        XCTAssertEqual(try QuantizedMultiplier(0.125), QuantizedMultiplier(multiplier: 1 << 30, shift: -2))
        XCTAssertEqual(try QuantizedMultiplier(0), QuantizedMultiplier(multiplier: 0, shift: 0))
    }

    func testMultiplierReconstructsTheRealValue() throws {
        for real in [0.0003, 0.0123, 0.3, 0.7071, 1.5, 3.0e-7] {
            let q = try QuantizedMultiplier(real)
            XCTAssertGreaterThanOrEqual(q.multiplier, 1 << 30)
            let back = Double(q.multiplier) * pow(2.0, Double(q.shift - 31))
            XCTAssertEqual(back, real, accuracy: real * 1e-9)
        }
    }

    func testNegativeMultipliersKeepTheirSign() throws {
        // LEAKY_RELU with a negative alpha: -0.75 = -0.75 · 2^0.
        XCTAssertEqual(try QuantizedMultiplier(-0.75), QuantizedMultiplier(multiplier: -1_610_612_736, shift: 0))
        XCTAssertEqual(try QuantizedMultiplier(-0.5).multiplier, -(1 << 30))
    }

    func testRoundingUpToOneMovesToTheNextExponent() throws {
        // Just below 1.0: the mantissa rounds to 2^31, which must become 2^30 with shift + 1.
        let q = try QuantizedMultiplier(1.0 - 1e-12)
        XCTAssertEqual(q, QuantizedMultiplier(multiplier: 1 << 30, shift: 1))
    }

    func testNonFiniteMultipliersAreRefusedNotTrapped() {
        for real in [Double.nan, .infinity, -.infinity] {
            XCTAssertThrowsError(try QuantizedMultiplier(real)) { error in
                XCTAssertEqual((error as? MicrogenError)?.kind, .malformedModel)
            }
        }
    }

    func testShiftsAreBoundedAsTFLMBoundsThem() throws {
        // Below 2^-32 the right shift would exceed 31: TFLM flushes the multiplier to zero.
        XCTAssertEqual(try QuantizedMultiplier(0x1p-33), QuantizedMultiplier(multiplier: 0, shift: 0))
        XCTAssertEqual(try QuantizedMultiplier(Double.leastNonzeroMagnitude), QuantizedMultiplier(multiplier: 0, shift: 0))
        // 2^-32 = 0.5 · 2^-31 is the smallest that keeps its value.
        XCTAssertEqual(try QuantizedMultiplier(0x1p-32), QuantizedMultiplier(multiplier: 1 << 30, shift: -31))
        // 2^29 = 0.5 · 2^30 still fits; from 2^30 on the shift saturates at 30 with INT32_MAX.
        XCTAssertEqual(try QuantizedMultiplier(0x1p29), QuantizedMultiplier(multiplier: 1 << 30, shift: 30))
        XCTAssertEqual(try QuantizedMultiplier(0x1p30), QuantizedMultiplier(multiplier: Int32.max, shift: 30))
        XCTAssertEqual(try QuantizedMultiplier(Double.greatestFiniteMagnitude), QuantizedMultiplier(multiplier: Int32.max, shift: 30))
        XCTAssertEqual(try QuantizedMultiplier(-1e300), QuantizedMultiplier(multiplier: -Int32.max, shift: 30))
    }

    func testActivationRangeOfATinyScaleClampsInsteadOfTrapping() throws {
        // 6 / 1e-45 is infinite in float: the bound clamps to int8's range.
        let range = try quantizedActivationRange(.relu6, scale: 1e-45, zeroPoint: 0)
        XCTAssertEqual(range.min, 0)
        XCTAssertEqual(range.max, 127)
    }

    func testActivationRanges() throws {
        XCTAssertEqual(try quantizedActivationRange(.none, scale: 0.1, zeroPoint: 3).min, -128)
        XCTAssertEqual(try quantizedActivationRange(.relu, scale: 0.1, zeroPoint: 3).min, 3)
        // RELU6 with scale 0.05, zero point -128: 6 / 0.05 = 120 → -8.
        let relu6 = try quantizedActivationRange(.relu6, scale: 0.05, zeroPoint: -128)
        XCTAssertEqual(relu6.min, -128)
        XCTAssertEqual(relu6.max, -8)
        let unit = try quantizedActivationRange(.reluN1To1, scale: 0.01, zeroPoint: 0)
        XCTAssertEqual(unit.min, -100)
        XCTAssertEqual(unit.max, 100)
        XCTAssertThrowsError(try quantizedActivationRange(.tanh, scale: 1, zeroPoint: 0))
    }

    func testSamePaddingPutsTheOddPixelAfter() {
        // 49 rows, 10-row filter, stride 2: 25 outputs need 9 rows of padding, 4 before.
        let p = spatialPadding(.same, inputSize: 49, filterSize: 10, stride: 2)
        XCTAssertEqual(p.outputSize, 25)
        XCTAssertEqual(p.total, 9)
        XCTAssertEqual(p.before, 4)
        let valid = spatialPadding(.valid, inputSize: 10, filterSize: 3, stride: 1, dilation: 2)
        XCTAssertEqual(valid.outputSize, 6)
        XCTAssertEqual(valid.before, 0)
    }
}

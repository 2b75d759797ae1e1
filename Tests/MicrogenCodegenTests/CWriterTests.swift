import XCTest
@testable import MicrogenCodegen

final class CWriterTests: XCTestCase {
    func testFloatLiteralsAreExactHexFloats() {
        XCTAssertEqual(CWriter.floatLiteral(1.0), "0x1.000000p0f")
        XCTAssertEqual(CWriter.floatLiteral(-0.75), "-0x1.800000p-1f")
        XCTAssertEqual(CWriter.floatLiteral(0), "0.0f")
        XCTAssertEqual(CWriter.floatLiteral(Float.leastNonzeroMagnitude), "0x0.000002p-126f")
    }

    func testInt32MinNeedsAMacro() {
        XCTAssertEqual(CWriter.integerLiteral(Int32.min, cType: "int32_t"), "INT32_MIN")
        XCTAssertEqual(CWriter.integerLiteral(Int32(-5), cType: "int32_t"), "-5")
    }
}

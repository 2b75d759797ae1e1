import XCTest
@testable import MicrogenProject

final class TemplateRendererTests: XCTestCase {
    func testNothingIsHtmlEscaped() throws {
        let text = try TemplateRenderer.render(text: "#include \"{{header}}\"\n{{#regions}}{{name}} <{{size}}> {{/regions}}",
                                               ["header": "a&b.h", "regions": [["name": "FLASH", "size": 1024], ["name": "RAM", "size": 512]]])
        XCTAssertEqual(text, "#include \"a&b.h\"\nFLASH <1024> RAM <512> ")
    }
}

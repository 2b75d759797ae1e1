import XCTest
import MicrogenIR

/// The escaping every piece of model text goes through on its way to C, a terminal or a chart.
final class UntrustedTextTests: XCTestCase {
    /// Names that end a comment, splice a line, open a comment, make a trigraph, or drive a terminal.
    static let hostile: [String] = [
        "*\\\r/\r#include <stdlib.h>\r__attribute__((constructor)) static void f(void) { system(\"id\"); } /*",
        "*??/\r/ int injected;", "a\\\nb", "a\rb", "in/*put", "out*/put", "??/", "???=??(", "x??", "/", "*", "?",
        "\u{1B}[31mred\u{1B}[0m", "name\u{202E}gnp.exe", "caf\u{E9} \u{4E2D}", "a\u{0}b", "\u{7F}\u{85}\u{2028}", "",
        String(repeating: "long/", count: 100),
    ]

    func testCommentTextIsPrintableAsciiWithoutDelimitersOrSplices() {
        for text in Self.hostile {
            let safe = UntrustedText.cComment(text)
            XCTAssertTrue(safe.utf8.allSatisfy { (0x20...0x7E).contains($0) }, "\(safe.debugDescription) from \(text.debugDescription)")
            for forbidden in ["\\", "/*", "*/", "??"] {
                XCTAssertFalse(safe.contains(forbidden), "\(forbidden) in \(safe.debugDescription) from \(text.debugDescription)")
            }
            for delimiter: Character in ["*", "/", "?"] {
                XCTAssertFalse(safe.first == delimiter || safe.last == delimiter, "\(safe.debugDescription) touches the comment's delimiters")
            }
            // Bounded: the limit, and at most one space for every character and both ends.
            XCTAssertLessThanOrEqual(safe.count, 2 * UntrustedText.commentLimit + 2, safe)
        }
    }

    func testCommentTextKeepsOrdinaryNamesAndShowsWhatItReplaced() {
        XCTAssertEqual(UntrustedText.cComment("model/conv2d/Relu;StatefulPartitionedCall:0"), "model/conv2d/Relu;StatefulPartitionedCall:0")
        XCTAssertEqual(UntrustedText.cComment("a*/b/*c??/d"), "a* /b/ *c? ?/d")
        XCTAssertEqual(UntrustedText.cComment("*\\\r/"), " *<U+005C><U+000D>/ ")
        XCTAssertEqual(UntrustedText.cComment("\u{1B}[0m caf\u{E9}"), "<U+001B>[0m caf<U+00E9>")
        XCTAssertEqual(UntrustedText.cComment(String(repeating: "a", count: 64)), String(repeating: "a", count: 64))
        XCTAssertEqual(UntrustedText.cComment(String(repeating: "a", count: 100)), String(repeating: "a", count: 61) + "...")
        // An escape is never cut in half by the limit.
        XCTAssertEqual(UntrustedText.cComment(String(repeating: "a", count: 60) + "\u{1B}"), String(repeating: "a", count: 60) + "...")
    }

    func testStringContentsEscapeQuotesBackslashesTrigraphsAndEveryOtherByte() {
        XCTAssertEqual(UntrustedText.cStringContents("kws_ref_model"), "kws_ref_model")
        XCTAssertEqual(UntrustedText.cStringContents("a\"b\\c??/\n\u{E9}"), "a\\042b\\134c\\077\\077/\\012\\303\\251")
        // Octal escapes are three digits, so a digit after one is not swallowed into it.
        XCTAssertEqual(UntrustedText.cStringContents("\u{0}7"), "\\0007")
    }

    func testIdentifiersComeFromAnAllowList() {
        XCTAssertEqual(UntrustedText.cIdentifier("kws_ref_model"), "kws_ref_model")
        XCTAssertEqual(UntrustedText.cIdentifier("vww-96 int8"), "vww_96_int8")
        XCTAssertEqual(UntrustedText.cIdentifier("96model"), "m_96model")
        XCTAssertEqual(UntrustedText.cIdentifier("..."), "model")
        XCTAssertEqual(UntrustedText.cIdentifier(""), "model")
        XCTAssertEqual(UntrustedText.cIdentifier("__My__Net__"), "my_net")
        XCTAssertEqual(UntrustedText.cIdentifier("a\u{0}b\"c;system(1)"), "a_b_c_system_1")
        XCTAssertEqual(UntrustedText.cIdentifier("caf\u{E9}\u{202E}"), "caf")
    }

    func testTerminalTextHasNoControlOrBidiCharacters() {
        XCTAssertEqual(UntrustedText.terminal("\u{1B}[31mred\u{1B}[0m"), "<U+001B>[31mred<U+001B>[0m")
        XCTAssertEqual(UntrustedText.terminal("name\u{202E}gnp.exe\u{2066}"), "name<U+202E>gnp.exe<U+2066>")
        XCTAssertEqual(UntrustedText.terminal("a\rb\nc\td\u{0}\u{7F}\u{9B}"), "a<U+000D>b<U+000A>c<U+0009>d<U+0000><U+007F><U+009B>")
        XCTAssertEqual(UntrustedText.terminal("caf\u{E9} \u{4E2D} a/b"), "caf\u{E9} \u{4E2D} a/b", "readable text stays")
        XCTAssertEqual(UntrustedText.terminal("0123456789", limit: 10), "0123456789")
        XCTAssertEqual(UntrustedText.terminal("0123456789a", limit: 10), "0123456...")
        XCTAssertEqual(UntrustedText.terminalLines("line 1\n\tline 2\r\u{1B}c"), "line 1\n\tline 2<U+000D><U+001B>c")
        for text in Self.hostile {
            let shown = UntrustedText.terminal(text)
            XCTAssertFalse(shown.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) },
                           shown.debugDescription)
        }
    }

    func testMarkupEscapesEntitiesAndCharactersXMLForbids() {
        XCTAssertEqual(UntrustedText.markup("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
        XCTAssertEqual(UntrustedText.markup("t\u{0}\u{1B}\nnext"), "t&lt;U+0000&gt;&lt;U+001B&gt;\nnext")
    }
}

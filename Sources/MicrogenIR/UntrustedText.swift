/// Text microgen does not control — tensor names and the model's file name from a model file,
/// names a device reports — made safe for the one place it goes. Such text reaches generated C,
/// a terminal or an SVG/HTML page only through these functions: a model file is untrusted input,
/// and nothing in it may become code, a terminal command or markup.
///
/// Characters that cannot be shown safely are written as `<U+XXXX>` (the Unicode code point), so
/// the reader still sees that they were there; no escape uses a backslash.
public enum UntrustedText {
    /// How many characters of a name a C comment shows, "..." included.
    public static let commentLimit = 64

    // MARK: - C

    /// Text for inside a C comment (`/* ... */`). Only printable ASCII (0x20-0x7E) survives, and
    /// never a backslash (with a newline or carriage return after it, a line splice) nor a `/*`,
    /// `*/` or `??` (a trigraph start: `??/` is a backslash under -std=c99): a space goes between
    /// such pairs. The result never starts or ends with `*`, `/` or `?`, so it is safe next to the
    /// comment's own delimiters, and it is at most `limit` characters before that spacing.
    public static func cComment(_ text: String, limit: Int = commentLimit) -> String {
        let pieces = text.unicodeScalars.lazy.map { scalar -> String in
            (0x20...0x7E).contains(scalar.value) && scalar != "\\" ? String(Character(scalar)) : codePoint(scalar)
        }
        var out = ""
        for character in bounded(pieces, limit: limit) {
            if let last = out.last, ["*/", "/*", "??"].contains(String([last, character])) { out.append(" ") }
            out.append(character)
        }
        let delimiters: Set<Character> = ["*", "/", "?"]
        if let first = out.first, delimiters.contains(first) { out = " " + out }
        if let last = out.last, delimiters.contains(last) { out += " " }
        return out
    }

    /// The contents of a C string literal (what goes between the quotes): printable ASCII as is,
    /// except `"`, `\` and `?` (trigraphs), and every other byte of the UTF-8 as a three-digit
    /// octal escape, which cannot run into the characters after it.
    public static func cStringContents(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if (0x20...0x7E).contains(byte) && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "?") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let octal = String(byte, radix: 8)
                out += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
            }
        }
        return out
    }

    /// A C identifier made from any text: ASCII letters and digits kept (lower case), every run
    /// of anything else one underscore, none at either end, "m_" before a leading digit, and
    /// "model" for text with no letter or digit.
    public static func cIdentifier(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9") {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty && !out.hasSuffix("_") {
                out += "_"
            }
        }
        while out.hasSuffix("_") { out.removeLast() }
        if out.isEmpty { out = "model" }
        if let first = out.unicodeScalars.first, first >= "0" && first <= "9" { out = "m_" + out }
        return out.lowercased()
    }

    // MARK: - Terminal and markup

    /// One line for a terminal: control characters (escape sequences, carriage returns, newlines,
    /// NUL), bidirectional overrides and other invisible format characters are written as
    /// `<U+XXXX>`; other Unicode text is kept. With `limit`, at most that many characters
    /// ("..." included).
    public static func terminal(_ text: String, limit: Int? = nil) -> String {
        bounded(text.unicodeScalars.lazy.map { isVisible($0) ? String(Character($0)) : codePoint($0) }, limit: limit ?? Int.max)
    }

    /// Lines for a terminal (an error message with a compiler's output, say): as `terminal`, but
    /// newlines and tabs stay.
    public static func terminalLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.split(separator: "\t", omittingEmptySubsequences: false).map { terminal(String($0)) }.joined(separator: "\t") }
            .joined(separator: "\n")
    }

    /// Text for XML or HTML, in an element or a quoted attribute: `&`, `<`, `>`, `"` and `'` as
    /// entities, and what `terminalLines` escapes (which includes every character XML forbids).
    public static func markup(_ text: String) -> String {
        var out = ""
        for character in terminalLines(text) {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    // MARK: - Helpers

    /// Controls (C0, DEL, C1), format characters (bidi overrides, zero-width joiners), line and
    /// paragraph separators, private-use, surrogate and unassigned code points are not shown as
    /// they are; everything else is.
    private static func isVisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned: return false
        default: return true
        }
    }

    private static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "<U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + ">"
    }

    /// The pieces joined, or when they are longer than `limit` characters, as many whole pieces
    /// as fit before "..." (an escape is never cut in half). Stops reading at the limit.
    private static func bounded(_ pieces: some Sequence<String>, limit: Int) -> String {
        var kept: [String] = [], count = 0
        for piece in pieces {
            if count + piece.count > limit {
                while let last = kept.last, count > max(limit - 3, 0) {
                    kept.removeLast()
                    count -= last.count
                }
                return kept.joined() + "..."
            }
            kept.append(piece)
            count += piece.count
        }
        return kept.joined()
    }
}

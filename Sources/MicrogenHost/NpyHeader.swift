import MicrogenIR

/// The header of a `.npy` file: a Python dict literal with exactly the keys 'descr' (a string),
/// 'fortran_order' (True or False) and 'shape' (a tuple of non-negative integers), then spaces
/// and a newline. Parsed token by token, so a missing space, another key order or double quotes
/// read as NumPy reads them, and anything else is refused rather than half-read.
struct NpyHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// Longest dimension text accepted (Int.max has 19 digits; NumPy may add an 'L').
    private static let maxDigits = 20

    static func parse(_ text: String) throws -> NpyHeader {
        var parser = Parser(characters: Array(text))
        var descr: String?, fortranOrder: Bool?, shape: [Int]?
        try parser.expect("{")
        while true {
            parser.skipSpaces()
            if parser.take("}") { break }
            let key = try parser.string()
            try parser.expect(":")
            switch key {
            case "descr" where descr == nil: descr = try parser.string()
            case "fortran_order" where fortranOrder == nil: fortranOrder = try parser.boolean()
            case "shape" where shape == nil: shape = try parser.tuple()
            default:
                throw bad("key '\(shown(key))' is repeated or not one of descr, fortran_order, shape")
            }
            parser.skipSpaces()
            if parser.take(",") { continue }
            try parser.expect("}")
            break
        }
        parser.skipSpaces()
        guard parser.atEnd else { throw bad("unexpected text after the dict") }
        guard let descr, let fortranOrder, let shape else {
            let missing = [("descr", descr == nil), ("fortran_order", fortranOrder == nil), ("shape", shape == nil)].filter(\.1).map(\.0)
            throw bad("it has no \(missing.joined(separator: ", "))")
        }
        return NpyHeader(descr: descr, fortranOrder: fortranOrder, shape: shape)
    }

    /// Text from the file cut short and kept printable, for messages.
    static func shown(_ text: String) -> String {
        let printable = String(text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
        return printable.count <= 32 ? printable : printable.prefix(29) + "..."
    }

    static func bad(_ what: String) -> MicrogenError {
        MicrogenError(.invalidArgument, "malformed .npy header: \(what)")
    }

    private struct Parser {
        let characters: [Character]
        var position = 0

        var atEnd: Bool { position == characters.count }

        mutating func skipSpaces() {
            while position < characters.count, characters[position] == " " || characters[position] == "\n" || characters[position] == "\t" {
                position += 1
            }
        }

        mutating func take(_ c: Character) -> Bool {
            skipSpaces()
            guard position < characters.count, characters[position] == c else { return false }
            position += 1
            return true
        }

        mutating func expect(_ c: Character) throws {
            guard take(c) else { throw NpyHeader.bad("expected '\(c)' at character \(position)") }
        }

        /// A quoted string without escapes (NumPy's keys and dtype strings have none).
        mutating func string() throws -> String {
            skipSpaces()
            guard position < characters.count, let quote = characters[position] == "'" || characters[position] == "\"" ? characters[position] : nil else {
                throw NpyHeader.bad("expected a quoted string at character \(position)")
            }
            position += 1
            let start = position
            while position < characters.count, characters[position] != quote {
                if characters[position] == "\\" { throw NpyHeader.bad("escapes in strings are not supported") }
                position += 1
            }
            guard position < characters.count else { throw NpyHeader.bad("unterminated string") }
            let value = String(characters[start..<position])
            position += 1
            return value
        }

        mutating func boolean() throws -> Bool {
            skipSpaces()
            for (word, value) in [("True", true), ("False", false)] where characters[position...].starts(with: word) {
                position += word.count
                return value
            }
            throw NpyHeader.bad("fortran_order must be True or False")
        }

        /// (), (5,) or (2, 3): non-negative integers, an optional trailing comma.
        mutating func tuple() throws -> [Int] {
            try expect("(")
            var dims: [Int] = []
            while true {
                skipSpaces()
                if take(")") { return dims }
                let start = position
                while position < characters.count, characters[position].isASCII, characters[position].isNumber { position += 1 }
                let digits = String(characters[start..<position])
                guard !digits.isEmpty, digits.count <= NpyHeader.maxDigits, let dim = Int(digits) else {
                    throw NpyHeader.bad(digits.isEmpty ? "the shape must hold non-negative integers" : "dimension \(NpyHeader.shown(digits)) is too large")
                }
                _ = take("L")
                dims.append(dim)
                if take(",") { continue }
                try expect(")")
                return dims
            }
        }
    }
}

import Foundation

/// Code bytes per source file, from the ELF's DWARF line table (`objdump --dwarf=decodedline`):
/// every address range the table maps to a file counts for that file. The kernels are inlined
/// into the model's run function, so no symbol has a kernel's size; the line table still says
/// which kernel header every instruction came from, which answers "which kernel costs the flash?".
public enum SourceCodeSize {
    /// Bytes per file name (the base name: `mg_conv_fast.h`, `kws.c`, `mg_rpc.c`, ...), or nil when
    /// objdump is missing or fails (a nicety, never a reason to fail a build).
    public static func measure(elfPath: String) -> [String: UInt64]? {
        guard let result = try? runProcess(objdump(), ["--dwarf=decodedline", elfPath]), result.status == 0 else { return nil }
        let sizes = parse(result.standardOutput)
        return sizes.isEmpty ? nil : sizes
    }

    /// Parses the decoded line table: rows "file line address [view] [stmt]", in address order
    /// within a sequence, a sequence ending at a row whose line is "-". Each row's file owns the
    /// bytes up to the next row's address.
    static func parse(_ text: String) -> [String: UInt64] {
        var sizes: [String: UInt64] = [:]
        var previous: (address: UInt64, file: String)?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, fields[2].hasPrefix("0x"), let address = UInt64(fields[2].dropFirst(2), radix: 16) else { continue }
            let file = String(fields[0]), lineNumber = fields[1]
            if let previous, address >= previous.address { sizes[previous.file, default: 0] += address - previous.address }
            previous = lineNumber == "-" ? nil : (address, file)
        }
        return sizes.filter { $0.value > 0 }
    }

    static func objdump() -> String {
        for candidate in ["/usr/bin/arm-none-eabi-objdump", "/usr/local/bin/arm-none-eabi-objdump"]
            where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "arm-none-eabi-objdump"
    }
}

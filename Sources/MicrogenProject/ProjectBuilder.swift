import Foundation
import MicrogenIR

/// One allocated section of a firmware ELF (from `readelf -S`).
public struct FirmwareSection: Sendable, Equatable {
    public var name: String
    public var address: UInt64
    public var size: UInt64
    /// Occupies flash (PROGBITS) rather than only RAM (NOBITS).
    public var hasContents: Bool
    public var writable: Bool
    public var executable: Bool
}

/// Where a firmware's bytes went, measured from its ELF.
public struct FirmwareSize: Sendable, Equatable {
    /// Code: the vector table, .text and the unwind tables.
    public var text: UInt64
    public var rodata: UInt64
    /// Initialized data (RAM, with a copy in flash).
    public var data: UInt64
    /// Zeroed data, not counting the arena and the stack.
    public var bss: UInt64
    public var arena: UInt64
    public var stack: UInt64
    public var sections: [FirmwareSection]
    public var regions: [RegionUse]

    public struct RegionUse: Sendable, Equatable {
        public var region: Board.MemoryRegion
        public var used: UInt64
        public var free: Int64 { Int64(region.length) - Int64(used) }
    }

    public var flash: UInt64 { text + rodata + data }
    public var ram: UInt64 { data + bss + arena + stack }

    /// A few lines for the terminal: each region's use against its size, then the sections.
    public func render() -> String {
        var lines: [String] = []
        let width = max(6, regions.map(\.region.name.count).max() ?? 0)
        for use in regions {
            let percent = use.region.length > 0 ? 100 * Double(use.used) / Double(use.region.length) : 0
            let name = use.region.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let kind = use.region.kind.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
            let usedText = MemoryBudget.format(use.used), sizeText = MemoryBudget.format(use.region.length)
            let pad = { (text: String) in String(repeating: " ", count: max(0, 11 - text.count)) + text }
            lines.append("\(name)  \(kind)\(pad(usedText)) of\(pad(sizeText)) bytes (" + String(format: "%5.1f%%", percent) + ")")
        }
        lines.append("text \(MemoryBudget.format(text)), rodata \(MemoryBudget.format(rodata)), data \(MemoryBudget.format(data)), bss \(MemoryBudget.format(bss)), arena \(MemoryBudget.format(arena)), stack \(MemoryBudget.format(stack)) bytes")
        return lines.joined(separator: "\n")
    }
}

/// A firmware built by `make`.
public struct FirmwareBuild: Sendable {
    public var project: FirmwareProject
    public var size: FirmwareSize
    /// What make printed (compiler commands, the size summary).
    public var log: String

    public var elfPath: String { project.elfPath }
}

/// Runs `make` on an emitted project and measures the result against the board.
public enum ProjectBuilder {
    /// `make` in the project directory. `extraCFlags` go to `EXTRA_CFLAGS` (tests add -Werror).
    /// A region overflow reported by the linker becomes `.doesNotFit` with the bytes over.
    public static func build(_ project: FirmwareProject, extraCFlags: [String] = [], jobs: Int = 2) throws -> FirmwareBuild {
        var arguments = ["-C", project.directory, "-j\(max(1, jobs))"]
        if !extraCFlags.isEmpty { arguments.append("EXTRA_CFLAGS=" + extraCFlags.joined(separator: " ")) }
        arguments.append("all")
        let result = try runProcess("make", arguments)
        let log = result.standardOutput + result.standardError
        guard result.status == 0 else {
            if let overflow = regionOverflow(in: log) {
                throw MicrogenError(.doesNotFit, "model \(project.modelName) does not fit board \(project.board.name): \(overflow) (see \(project.directory)/linker.ld)")
            }
            throw MicrogenError(.toolchain, "make failed for \(project.modelName) on \(project.board.name) (in \(project.directory)):\n\(String(log.suffix(4000)))")
        }
        let size = try measure(elf: project.elfPath, board: project.board)
        return FirmwareBuild(project: project, size: size, log: log)
    }

    /// "region `RAM' overflowed by 1234 bytes" → "region RAM overflowed by 1,234 bytes".
    static func regionOverflow(in log: String) -> String? {
        var found: [String] = []
        for line in log.split(separator: "\n") where line.contains("overflowed by") {
            guard let range = line.range(of: #"region [`']?(\w+)'? overflowed by (\d+) bytes"#, options: .regularExpression) else { continue }
            let text = String(line[range])
            let words = text.split(separator: " ")
            let region = words[1].trimmingCharacters(in: CharacterSet(charactersIn: "`'"))
            let bytes = UInt64(words[4]) ?? 0
            let entry = "region \(region) is over by \(MemoryBudget.format(bytes)) bytes"
            if !found.contains(entry) { found.append(entry) }
        }
        return found.isEmpty ? nil : found.joined(separator: "; ")
    }

    /// Reads the ELF's sections and load segments with `readelf`, sums them by kind and by
    /// region, and checks that every allocated section lies inside a region of the right kind
    /// and every loaded byte inside a flash region.
    public static func measure(elf: String, board: Board) throws -> FirmwareSize {
        let sections = try readSections(elf: elf)
        let segments = try readLoadSegments(elf: elf)
        var size = FirmwareSize(text: 0, rodata: 0, data: 0, bss: 0, arena: 0, stack: 0, sections: sections, regions: [])
        var used: [String: UInt64] = [:]
        for section in sections where section.size > 0 {
            switch section.name {
            case ".rodata": size.rodata += section.size
            case ".data": size.data += section.size
            case ".bss": size.bss += section.size
            case ".mg_arena": size.arena += section.size
            case ".stack": size.stack += section.size
            default:
                if section.writable { size.bss += section.size } else if section.executable || section.name.hasPrefix(".ARM") || section.name == ".isr_vector" {
                    size.text += section.size
                } else {
                    size.rodata += section.size
                }
            }
            guard let region = board.memory.first(where: { $0.contains(section.address, size: section.size) }) else {
                throw MicrogenError(.doesNotFit, "\(elf): section \(section.name) (\(hex(section.address)), \(section.size) bytes) lies outside every memory region of board \(board.name)")
            }
            let wanted: Board.MemoryRegion.Kind = section.writable ? .ram : .flash
            guard region.kind == wanted else {
                throw MicrogenError(.doesNotFit, "\(elf): section \(section.name) is in \(region.name) (\(region.kind.rawValue)) but belongs in \(wanted.rawValue)")
            }
            used[region.name, default: 0] += section.size
        }
        for segment in segments where segment.fileSize > 0 {
            guard let region = board.memory.first(where: { $0.kind == .flash && $0.contains(segment.physicalAddress, size: segment.fileSize) }) else {
                throw MicrogenError(.doesNotFit, "\(elf): \(segment.fileSize) bytes load at \(hex(segment.physicalAddress)), outside the flash regions of board \(board.name)")
            }
            // Initialized data also takes flash: its load image.
            if segment.physicalAddress != segment.virtualAddress { used[region.name, default: 0] += segment.fileSize }
        }
        size.regions = board.memory.map { FirmwareSize.RegionUse(region: $0, used: used[$0.name] ?? 0) }
        return size
    }

    static func readelf() -> String {
        let fm = FileManager.default
        for candidate in ["/usr/bin/arm-none-eabi-readelf", "/usr/local/bin/arm-none-eabi-readelf"] where fm.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "arm-none-eabi-readelf"
    }

    static func readSections(elf: String) throws -> [FirmwareSection] {
        let result = try runProcess(readelf(), ["-S", "-W", elf])
        guard result.status == 0 else { throw MicrogenError(.toolchain, "readelf -S failed on \(elf): \(result.standardError)") }
        return parseSections(result.standardOutput)
    }

    /// Parses `readelf -S -W`: `[Nr] Name Type Addr Off Size ES Flg Lk Inf Al` (Flg may be empty).
    static func parseSections(_ text: String) -> [FirmwareSection] {
        var sections: [FirmwareSection] = []
        for line in text.split(separator: "\n") {
            guard let close = line.firstIndex(of: "]"), line.trimmingCharacters(in: .whitespaces).hasPrefix("[") else { continue }
            let fields = line[line.index(after: close)...].split(separator: " ").map(String.init)
            guard fields.count >= 9, fields[0] != "Name", let address = UInt64(fields[2], radix: 16),
                  let size = UInt64(fields[4], radix: 16) else { continue }
            let flags = fields.count >= 10 ? fields[6] : ""
            guard flags.contains("A") else { continue }
            sections.append(FirmwareSection(name: fields[0], address: address, size: size, hasContents: fields[1] != "NOBITS",
                                            writable: flags.contains("W"), executable: flags.contains("X")))
        }
        return sections
    }

    struct LoadSegment: Equatable {
        var virtualAddress: UInt64
        var physicalAddress: UInt64
        var fileSize: UInt64
        var memorySize: UInt64
    }

    static func readLoadSegments(elf: String) throws -> [LoadSegment] {
        let result = try runProcess(readelf(), ["-l", "-W", elf])
        guard result.status == 0 else { throw MicrogenError(.toolchain, "readelf -l failed on \(elf): \(result.standardError)") }
        return parseLoadSegments(result.standardOutput)
    }

    /// Parses the LOAD lines of `readelf -l -W`: `LOAD Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align`.
    static func parseLoadSegments(_ text: String) -> [LoadSegment] {
        func number(_ field: String) -> UInt64? { UInt64(field.hasPrefix("0x") ? String(field.dropFirst(2)) : field, radix: 16) }
        var segments: [LoadSegment] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 6, fields[0] == "LOAD", let virtual = number(fields[2]), let physical = number(fields[3]),
                  let fileSize = number(fields[4]), let memorySize = number(fields[5]) else { continue }
            segments.append(LoadSegment(virtualAddress: virtual, physicalAddress: physical, fileSize: fileSize, memorySize: memorySize))
        }
        return segments
    }

    static func hex(_ value: UInt64) -> String { String(format: "0x%08llX", value) }
}

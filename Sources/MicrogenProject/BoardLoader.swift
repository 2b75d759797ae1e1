import Foundation
import MicrogenIR

/// Reads and checks a board description (`boards/<name>.json`). Every error names the file and
/// the field, e.g. `boards/x.json: memory[1].origin: expected an address such as "0x20000000"`.
public enum BoardLoader {
    /// Cores whose start-up code microgen can generate (Thumb-2, ARMv7-M or ARMv8-M Mainline).
    public static let supportedCores: Set<String> = ["cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85"]

    public static func load(path: String) throws -> Board {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MicrogenError(.io, "cannot read board file \(path)")
        }
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let board = try parse(data, source: path)
        guard board.name == stem else {
            throw MicrogenError(.invalidArgument, "\(path): name \"\(board.name)\" must match the file name (\(stem).json)")
        }
        return board
    }

    /// Parses and validates one board description.
    public static func parse(_ data: Data, source: String = "board") throws -> Board {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw MicrogenError(.invalidArgument, "\(source): not valid JSON: \(error.localizedDescription)")
        }
        let json = Field(value: root, path: "", source: source)
        var board = try read(json.object())
        board.sourcePath = source
        try validate(board, source: source)
        return board
    }

    // MARK: - Reading

    private static func read(_ o: Object) throws -> Board {
        let name = try o["name"].string()
        let gccField = try o["gcc"].object()
        let gcc = Board.GCCFlags(cpu: try gccField["cpu"].string(), fpu: try gccField.optional("fpu")?.string(),
                                 floatABI: try gccField["float_abi"].string())
        var memory: [Board.MemoryRegion] = []
        for region in try o["memory"].array() {
            let r = try region.object()
            let kindName = try r["kind"].string()
            guard let kind = Board.MemoryRegion.Kind(rawValue: kindName) else {
                throw try r["kind"].error("expected \"flash\" or \"ram\", found \"\(kindName)\"")
            }
            memory.append(Board.MemoryRegion(name: try r["name"].string(), kind: kind, origin: try r["origin"].address(),
                                             length: try r["length"].size(), note: try r.optional("note")?.string()))
        }
        let firstFlash = memory.first { $0.kind == .flash }?.name ?? ""
        let firstRAM = memory.first { $0.kind == .ram }?.name ?? ""
        var placement = Board.Placement(code: firstFlash, data: firstRAM, stack: firstRAM, arena: firstRAM)
        if let p = try o.optional("placement")?.object() {
            placement.code = try p.optional("code")?.string() ?? placement.code
            placement.data = try p.optional("data")?.string() ?? placement.data
            placement.stack = try p.optional("stack")?.string() ?? placement.stack
            placement.arena = try p.optional("arena")?.string() ?? placement.arena
        }
        let counterField = try o["counter"].object()
        let counter: Board.Counter
        switch try counterField["kind"].string() {
        case "dwt": counter = .dwt
        case "systick": counter = .systick
        case "timer": counter = .timer(base: try counterField["base"].address())
        case let other: throw try counterField["kind"].error("expected \"dwt\", \"systick\" or \"timer\", found \"\(other)\"")
        }
        var qemu: Board.Qemu?
        if let q = try o.optional("qemu")?.object() {
            qemu = Board.Qemu(machine: try q["machine"].string(),
                              extraArguments: try q.optional("extra_arguments")?.array().map { try $0.string() } ?? [])
        }
        var flash: Board.FlashTool?
        if let f = try o.optional("flash")?.object() {
            flash = Board.FlashTool(tool: try f["tool"].string(), arguments: try f["arguments"].array().map { try $0.string() },
                                    note: try f.optional("note")?.string())
        }
        return Board(name: name, description: try o["description"].string(), core: try o["core"].string(), gcc: gcc,
                     clockHz: try o["clock_hz"].integer(), clockNote: try o.optional("clock_note")?.string(),
                     memory: memory, placement: placement, stackSize: try o["stack_size"].integer(),
                     caches: try o.optional("caches")?.bool() ?? false, uart: try readUART(o["uart"].object()),
                     counter: counter, qemu: qemu, flash: flash)
    }

    private static func readUART(_ u: Object) throws -> Board.UART {
        let familyName = try u["family"].string()
        guard let family = Board.UART.Family(rawValue: familyName) else {
            let known = Board.UART.Family.allCases.map(\.rawValue).joined(separator: ", ")
            throw try u["family"].error("unknown UART family \"\(familyName)\" (known: \(known); each has a driver in templates/ports/<family>/)")
        }
        var pins: [Board.UART.Pin] = []
        for field in try u.optional("pins")?.array() ?? [] {
            let p = try field.object()
            let port: String
            if let number = try? p["port"].integer() { port = String(number) } else { port = try p["port"].string() }
            pins.append(Board.UART.Pin(signal: try p["signal"].string(), port: port, pin: try p["pin"].integer(),
                                       alternateFunction: try p.optional("af")?.integer()))
        }
        var setup: [Board.UART.SetupStep] = []
        for field in try u.optional("setup")?.array() ?? [] {
            let s = try field.object()
            let opName = try s["op"].string()
            guard let op = Board.UART.SetupStep.Operation(rawValue: opName) else {
                let known = Board.UART.SetupStep.Operation.allCases.map(\.rawValue).joined(separator: ", ")
                throw try s["op"].error("expected one of \(known), found \"\(opName)\"")
            }
            setup.append(Board.UART.SetupStep(operation: op, address: try s["address"].address(), value: try s["value"].address(),
                                              why: try s.optional("why")?.string() ?? ""))
        }
        return Board.UART(family: family, name: try u["name"].string(), kind: try u.optional("kind")?.string(),
                          base: try u["base"].address(), baud: try u["baud"].integer(),
                          clockHz: try u.optional("clock_hz")?.integer(), gpioBase: try u.optional("gpio_base")?.address(),
                          pins: pins, setup: setup, baudRegister: try u.optional("baud_register")?.address(),
                          note: try u.optional("note")?.string())
    }

    // MARK: - Validation

    private static func validate(_ b: Board, source: String) throws {
        func fail(_ field: String, _ message: String) -> MicrogenError {
            MicrogenError(.invalidArgument, "\(source): \(field): \(message)")
        }
        guard b.name.range(of: "^[a-z0-9][a-z0-9._-]*$", options: .regularExpression) != nil else {
            throw fail("name", "\"\(b.name)\" must be lower-case letters, digits, '.', '_' or '-'")
        }
        guard supportedCores.contains(b.core) else {
            throw fail("core", "\"\(b.core)\" is not supported (supported: \(supportedCores.sorted().joined(separator: ", ")))")
        }
        guard ["soft", "softfp", "hard"].contains(b.gcc.floatABI) else {
            throw fail("gcc.float_abi", "expected \"soft\", \"softfp\" or \"hard\", found \"\(b.gcc.floatABI)\"")
        }
        guard b.clockHz > 0 else { throw fail("clock_hz", "must be positive") }

        guard b.memory.contains(where: { $0.kind == .flash }) else { throw fail("memory", "needs at least one region of kind \"flash\"") }
        guard b.memory.contains(where: { $0.kind == .ram }) else { throw fail("memory", "needs at least one region of kind \"ram\"") }
        for (i, region) in b.memory.enumerated() {
            guard region.name.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil else {
                throw fail("memory[\(i)].name", "\"\(region.name)\" must be an identifier (it names a linker script region)")
            }
            guard region.length > 0 else { throw fail("memory[\(i)].length", "must be positive") }
            guard region.end <= 0x1_0000_0000 else {
                throw fail("memory[\(i)]", "\(region.name) ends past the 4 GB address space")
            }
            for other in b.memory[..<i] {
                if other.name == region.name { throw fail("memory[\(i)].name", "\(region.name) appears twice") }
                if region.origin < other.end && other.origin < region.end {
                    throw fail("memory[\(i)]", "\(region.name) overlaps \(other.name)")
                }
            }
        }
        let roles: [(String, String, Board.MemoryRegion.Kind)] = [
            ("code", b.placement.code, .flash), ("data", b.placement.data, .ram),
            ("stack", b.placement.stack, .ram), ("arena", b.placement.arena, .ram),
        ]
        for (role, name, kind) in roles {
            guard let region = b.region(named: name) else {
                throw fail("placement.\(role)", "no memory region named \"\(name)\" (regions: \(b.memory.map(\.name).joined(separator: ", ")))")
            }
            guard region.kind == kind else { throw fail("placement.\(role)", "\(name) is \(region.kind.rawValue), expected \(kind.rawValue)") }
        }
        guard b.stackSize >= 1024, b.stackSize % 8 == 0 else {
            throw fail("stack_size", "must be a multiple of 8 and at least 1024 bytes, found \(b.stackSize)")
        }
        guard UInt64(b.stackSize) < b.stackRegion.length else {
            throw fail("stack_size", "\(b.stackSize) bytes do not fit in \(b.stackRegion.name) (\(b.stackRegion.length) bytes)")
        }

        let uart = b.uart
        guard uart.baud > 0 else { throw fail("uart.baud", "must be positive") }
        if let clock = uart.clockHz, clock <= 0 { throw fail("uart.clock_hz", "must be positive") }
        for signal in ["tx", "rx"] where uart.family != .cmsdk {
            guard uart.pin(signal) != nil else { throw fail("uart.pins", "needs a pin with signal \"\(signal)\"") }
        }
        for (i, pin) in uart.pins.enumerated() {
            guard ["tx", "rx"].contains(pin.signal) else { throw fail("uart.pins[\(i)].signal", "expected \"tx\" or \"rx\"") }
            guard (0...31).contains(pin.pin) else { throw fail("uart.pins[\(i)].pin", "must be 0..31") }
        }
        switch uart.family {
        case .cmsdk:
            guard (uart.clockHz ?? b.clockHz) / uart.baud >= 16 else {
                throw fail("uart.baud", "the CMSDK UART's divider (clock / baud) must be at least 16")
            }
        case .stm32:
            guard let kind = uart.kind, ["usart", "lpuart"].contains(kind) else {
                throw fail("uart.kind", "an stm32 UART is \"usart\" or \"lpuart\"")
            }
            guard uart.gpioBase != nil else { throw fail("uart.gpio_base", "an stm32 UART needs the address of GPIOA") }
            for (i, pin) in uart.pins.enumerated() {
                guard pin.port.count == 1, ("A"..."K").contains(pin.port.uppercased()) else {
                    throw fail("uart.pins[\(i)].port", "expected a port letter A..K, found \"\(pin.port)\"")
                }
                guard let af = pin.alternateFunction, (0...15).contains(af) else {
                    throw fail("uart.pins[\(i)].af", "an stm32 pin needs its alternate function number (0..15)")
                }
            }
            let divider = try stm32BaudDivider(b)
            let minimum = kind == "lpuart" ? 0x300 : 16
            guard divider >= minimum, divider <= (kind == "lpuart" ? 0xFFFFF : 0xFFFF) else {
                throw fail("uart.baud", "\(uart.baud) baud from a \(uart.clockHz ?? b.clockHz) Hz clock gives BRR = \(divider), out of range for a \(kind)")
            }
        case .nrf52:
            guard uart.baudRegister != nil else {
                throw fail("uart.baud_register", "an nrf52 UARTE needs the BAUDRATE register value for \(uart.baud) baud")
            }
            for (i, pin) in uart.pins.enumerated() where Int(pin.port) == nil || !(0...1).contains(Int(pin.port)!) {
                throw fail("uart.pins[\(i)].port", "an nrf52 port is 0 or 1")
            }
        }
        if case .timer = b.counter, uart.family != .cmsdk {
            throw fail("counter.kind", "\"timer\" is the CMSDK APB timer, only on cmsdk boards")
        }
        if let flash = b.flash, flash.tool.isEmpty { throw fail("flash.tool", "must not be empty") }
        if let qemu = b.qemu, qemu.machine.isEmpty { throw fail("qemu.machine", "must not be empty") }
        if let qemu = b.qemu, qemu.extraArguments.contains(where: { $0.lowercased().contains("semihosting") }) {
            throw fail("qemu.extra_arguments", "must not enable semihosting: it would give the firmware the host's shell and files")
        }
    }

    /// BRR for an STM32 USART (clock / baud, rounded) or LPUART (256 * clock / baud, rounded).
    public static func stm32BaudDivider(_ b: Board) throws -> Int {
        let clock = UInt64(b.uart.clockHz ?? b.clockHz), baud = UInt64(b.uart.baud)
        let scale: UInt64 = b.uart.kind == "lpuart" ? 256 : 1
        return Int((clock * scale + baud / 2) / baud)
    }
}

// MARK: - A small JSON walker that knows where it is

private struct Field {
    let value: Any
    let path: String
    let source: String

    func error(_ message: String) -> MicrogenError {
        MicrogenError(.invalidArgument, "\(source): \(path.isEmpty ? "top level" : path): \(message)")
    }

    func object() throws -> Object {
        guard let dictionary = value as? [String: Any] else { throw error("expected an object") }
        return Object(dictionary: dictionary, path: path, source: source)
    }

    func array() throws -> [Field] {
        guard let array = value as? [Any] else { throw error("expected an array") }
        return array.enumerated().map { Field(value: $1, path: "\(path)[\($0)]", source: source) }
    }

    func string() throws -> String {
        guard let string = value as? String else { throw error("expected a string") }
        return string
    }

    func bool() throws -> Bool {
        guard let flag = value as? Bool else { throw error("expected true or false") }
        return flag
    }

    func integer() throws -> Int {
        if let number = value as? NSNumber, let exact = Int(exactly: number.doubleValue) { return exact }
        throw error("expected an integer")
    }

    /// A number, or a string in hex ("0x20000000") or decimal.
    func address() throws -> UInt64 {
        if let number = value as? NSNumber, let exact = UInt64(exactly: number.doubleValue) { return exact }
        if let text = value as? String, let parsed = Self.parseNumber(text) { return parsed }
        throw error("expected an address such as \"0x20000000\"")
    }

    /// A number, or a string with an optional K or M suffix ("512K", "4M", "0x40000").
    func size() throws -> UInt64 {
        if let number = value as? NSNumber, let exact = UInt64(exactly: number.doubleValue) { return exact }
        if let text = value as? String {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            let multipliers: [Character: UInt64] = ["K": 1024, "M": 1024 * 1024]
            if let last = trimmed.uppercased().last, let multiplier = multipliers[last],
               let base = Self.parseNumber(String(trimmed.dropLast())) {
                return base * multiplier
            }
            if let parsed = Self.parseNumber(trimmed) { return parsed }
        }
        throw error("expected a size such as \"512K\", \"4M\" or a number of bytes")
    }

    static func parseNumber(_ text: String) -> UInt64? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasPrefix("0x") { return UInt64(t.dropFirst(2).replacingOccurrences(of: "_", with: ""), radix: 16) }
        return UInt64(t)
    }
}

private struct Object {
    let dictionary: [String: Any]
    let path: String
    let source: String

    func error(_ message: String) -> MicrogenError {
        MicrogenError(.invalidArgument, "\(source): \(path.isEmpty ? "top level" : path): \(message)")
    }

    private func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// A required field; reading it from a missing key throws "missing".
    subscript(key: String) -> Field {
        get throws {
            guard let value = dictionary[key], !(value is NSNull) else {
                throw MicrogenError(.invalidArgument, "\(source): \(childPath(key)): missing")
            }
            return Field(value: value, path: childPath(key), source: source)
        }
    }

    /// An optional field: nil when absent or null.
    func optional(_ key: String) -> Field? {
        guard let value = dictionary[key], !(value is NSNull) else { return nil }
        return Field(value: value, path: childPath(key), source: source)
    }
}

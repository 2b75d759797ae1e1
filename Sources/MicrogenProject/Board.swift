import Foundation

/// One target board: the core and its compiler flags, the memory map, the clock, the serial line
/// the RPC server talks over, the counter that times operators, how to run it under QEMU (if it
/// can be) and how to flash it. Loaded from `boards/<name>.json` (format: `boards/README.md`).
public struct Board: Sendable, Equatable {
    public var name: String
    public var description: String
    /// The core, e.g. "cortex-m7". Reported by the firmware in INFO.
    public var core: String
    public var gcc: GCCFlags
    /// The core clock the firmware runs at (the reset clock on real boards: no PLL set-up).
    public var clockHz: Int
    public var clockNote: String?
    public var memory: [MemoryRegion]
    public var placement: Placement
    public var stackSize: Int
    /// Turn on the Cortex-M7 instruction and data caches at start-up.
    public var caches: Bool
    public var uart: UART
    public var counter: Counter
    /// How QEMU emulates this board; nil for hardware only.
    public var qemu: Qemu?
    /// The tool and arguments that program the board; nil for emulated boards.
    public var flash: FlashTool?
    /// The file the board was read from, for error messages.
    public var sourcePath: String?

    public struct GCCFlags: Sendable, Equatable {
        public var cpu: String
        public var fpu: String?
        /// "soft", "softfp" or "hard".
        public var floatABI: String

        public init(cpu: String, fpu: String? = nil, floatABI: String) {
            self.cpu = cpu
            self.fpu = fpu
            self.floatABI = floatABI
        }

        /// The flags every compile and link step gets.
        public var flags: [String] {
            var flags = ["-mcpu=\(cpu)", "-mthumb"]
            if let fpu { flags.append("-mfpu=\(fpu)") }
            flags.append("-mfloat-abi=\(floatABI)")
            return flags
        }
    }

    public struct MemoryRegion: Sendable, Equatable {
        public enum Kind: String, Sendable { case flash, ram }
        /// The linker script's name for it (an identifier).
        public var name: String
        public var kind: Kind
        public var origin: UInt64
        public var length: UInt64
        public var note: String?

        public init(name: String, kind: Kind, origin: UInt64, length: UInt64, note: String? = nil) {
            self.name = name
            self.kind = kind
            self.origin = origin
            self.length = length
            self.note = note
        }

        public var end: UInt64 { origin + length }

        public func contains(_ address: UInt64, size: UInt64) -> Bool {
            address >= origin && address + size <= end
        }
    }

    /// Which region holds what: code and constants (a flash region), initialized and zeroed data,
    /// the stack and the model's arena (RAM regions).
    public struct Placement: Sendable, Equatable {
        public var code: String
        public var data: String
        public var stack: String
        public var arena: String

        public init(code: String, data: String, stack: String, arena: String) {
            self.code = code
            self.data = data
            self.stack = stack
            self.arena = arena
        }
    }

    public struct UART: Sendable, Equatable {
        /// The driver under `templates/ports/<family>/`.
        public enum Family: String, Sendable, CaseIterable {
            /// Arm CMSDK APB UART (the MPS2/MPS3 FPGA images, and QEMU's models of them).
            case cmsdk
            /// STM32 USART/LPUART with the ISR/RDR/TDR register layout (F7, H7, L4, G4, ...).
            case stm32
            /// nRF52 UARTE (EasyDMA).
            case nrf52
        }

        public struct Pin: Sendable, Equatable {
            /// "tx" or "rx".
            public var signal: String
            /// The GPIO port: a letter on STM32 ("A" = 0), a number on nRF52.
            public var port: String
            public var pin: Int
            /// STM32 alternate function number.
            public var alternateFunction: Int?

            public init(signal: String, port: String, pin: Int, alternateFunction: Int? = nil) {
                self.signal = signal
                self.port = port
                self.pin = pin
                self.alternateFunction = alternateFunction
            }

            /// The port's index (A → 0, B → 1, ... or the number itself).
            public var portIndex: Int {
                if let number = Int(port) { return number }
                guard let scalar = port.uppercased().unicodeScalars.first else { return 0 }
                return Int(scalar.value) - Int(UnicodeScalar("A").value)
            }
        }

        /// One register access done before the UART is used: clock enables, power switches.
        public struct SetupStep: Sendable, Equatable {
            public enum Operation: String, Sendable, CaseIterable {
                /// `*address |= value`
                case set
                /// `*address &= ~value`
                case clear
                /// `*address = value`
                case write
                /// wait until `(*address & value) == value`
                case wait
            }
            public var operation: Operation
            public var address: UInt64
            public var value: UInt64
            public var why: String

            public init(operation: Operation, address: UInt64, value: UInt64, why: String) {
                self.operation = operation
                self.address = address
                self.value = value
                self.why = why
            }
        }

        public var family: Family
        /// The peripheral's name in the datasheet, e.g. "USART3".
        public var name: String
        /// STM32: "usart" or "lpuart" (the LPUART's baud divider is 256 times finer).
        public var kind: String?
        public var base: UInt64
        public var baud: Int
        /// The UART's kernel clock; the core clock when not given.
        public var clockHz: Int?
        /// STM32: the address of GPIOA (ports are 0x400 apart).
        public var gpioBase: UInt64?
        public var pins: [Pin]
        public var setup: [SetupStep]
        /// nRF52: the BAUDRATE register value for `baud`.
        public var baudRegister: UInt64?
        public var note: String?

        public init(family: Family, name: String, kind: String? = nil, base: UInt64, baud: Int, clockHz: Int? = nil,
                    gpioBase: UInt64? = nil, pins: [Pin] = [], setup: [SetupStep] = [], baudRegister: UInt64? = nil, note: String? = nil) {
            self.family = family
            self.name = name
            self.kind = kind
            self.base = base
            self.baud = baud
            self.clockHz = clockHz
            self.gpioBase = gpioBase
            self.pins = pins
            self.setup = setup
            self.baudRegister = baudRegister
            self.note = note
        }

        public func pin(_ signal: String) -> Pin? { pins.first { $0.signal == signal } }
    }

    public enum Counter: Sendable, Equatable {
        /// DWT CYCCNT (true cycles); falls back to SysTick when CYCCNT does not advance (QEMU).
        case dwt
        /// SysTick at the core clock, extended to 32 bits by its overflow interrupt.
        case systick
        /// The family's 32-bit timer at `base` (CMSDK APB timer).
        case timer(base: UInt64)

        public var kind: String {
            switch self {
            case .dwt: "dwt"
            case .systick: "systick"
            case .timer: "timer"
            }
        }
    }

    public struct Qemu: Sendable, Equatable {
        /// `-M` machine, e.g. "mps2-an500".
        public var machine: String
        /// More arguments for qemu-system-arm, after the standard ones.
        public var extraArguments: [String]

        public init(machine: String, extraArguments: [String] = []) {
            self.machine = machine
            self.extraArguments = extraArguments
        }
    }

    public struct FlashTool: Sendable, Equatable {
        public var tool: String
        /// Arguments; `{elf}`, `{bin}` and `{hex}` stand for the firmware images.
        public var arguments: [String]
        public var note: String?

        public init(tool: String, arguments: [String], note: String? = nil) {
            self.tool = tool
            self.arguments = arguments
            self.note = note
        }
    }

    public init(name: String, description: String, core: String, gcc: GCCFlags, clockHz: Int, clockNote: String? = nil,
                memory: [MemoryRegion], placement: Placement, stackSize: Int, caches: Bool = false, uart: UART,
                counter: Counter, qemu: Qemu?, flash: FlashTool?, sourcePath: String? = nil) {
        self.name = name
        self.description = description
        self.core = core
        self.gcc = gcc
        self.clockHz = clockHz
        self.clockNote = clockNote
        self.memory = memory
        self.placement = placement
        self.stackSize = stackSize
        self.caches = caches
        self.uart = uart
        self.counter = counter
        self.qemu = qemu
        self.flash = flash
        self.sourcePath = sourcePath
    }

    public var isEmulated: Bool { qemu != nil }

    public func region(named name: String) -> MemoryRegion? { memory.first { $0.name == name } }

    public var codeRegion: MemoryRegion { region(named: placement.code)! }
    public var dataRegion: MemoryRegion { region(named: placement.data)! }
    public var stackRegion: MemoryRegion { region(named: placement.stack)! }
    public var arenaRegion: MemoryRegion { region(named: placement.arena)! }

    public var flashBytes: UInt64 { memory.filter { $0.kind == .flash }.reduce(0) { $0 + $1.length } }
    public var ramBytes: UInt64 { memory.filter { $0.kind == .ram }.reduce(0) { $0 + $1.length } }

    /// Under QEMU with `-icount shift=0` one instruction takes 1 ns of virtual time, so a counter
    /// at the core clock advances once per 1e9 / clock_hz instructions: 40 at 25 MHz (mps2),
    /// 50 at 20 MHz (AN505), 31.25 at 32 MHz (AN547). Returned as a reduced fraction.
    public var qemuInstructionsPerTick: (numerator: Int, denominator: Int) {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let g = gcd(1_000_000_000, clockHz)
        return (1_000_000_000 / g, clockHz / g)
    }
}

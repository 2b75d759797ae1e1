import Foundation
import MicrogenIR
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A serial port (a UART adapter, a board's USB CDC port) in raw mode, 8N1, no flow control.
public final class SerialTransport: Transport {
    public let path: String
    public let baudRate: Int
    public var name: String { "\(path) at \(baudRate) baud" }

    private var fd: Int32
    private var closed = false

    /// The rates this driver can set, from the standard termios table.
    public static let standardBaudRates: [Int] = speeds.map(\.rate)

    /// The termios speed of `baudRate`, or a refusal naming the rates this driver can set.
    @discardableResult
    public static func speed(_ baudRate: Int) throws -> speed_t {
        guard let speed = speeds.first(where: { $0.rate == baudRate })?.speed else {
            throw MicrogenError(.invalidArgument, "\(baudRate) baud is not a standard rate; use one of \(standardBaudRates.map(String.init).joined(separator: ", "))")
        }
        return speed
    }

    /// Opens `path`, discards anything already buffered and switches the line to raw 8N1 at
    /// `baudRate`. Throws a `MicrogenError` that says what to do about a missing port, a
    /// permission problem, a busy port or an unsupported rate.
    public init(path: String, baudRate: Int = 115_200) throws {
        let speed = try SerialTransport.speed(baudRate)
        self.path = path
        self.baudRate = baudRate
        // Non-blocking: opening must not wait for carrier detect, and reads are paced by poll(2).
        let opened = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK)
        guard opened >= 0 else { throw SerialTransport.openError(path, errno) }
        fd = opened
        do {
            try configure(speed: speed)
        } catch {
            PosixIO.closeDescriptor(fd)
            closed = true
            throw error
        }
    }

    deinit {
        close()
    }

    public func write(_ bytes: [UInt8]) throws {
        guard !closed else { throw MicrogenError(.io, "\(name) is closed") }
        // Without flow control a write only waits for the UART to drain: 10 s is far beyond that.
        if let failure = PosixIO.writeAll(fd, bytes, timeout: 10) {
            throw MicrogenError(.io, "cannot write to \(name): \(failure) (was the device unplugged?)")
        }
    }

    public func read(maxCount: Int, deadline: Deadline) throws -> [UInt8] {
        guard !closed else { throw MicrogenError(.io, "\(name) is closed") }
        switch PosixIO.read(fd, maxCount: maxCount, deadline: deadline, zeroMeansNoData: true) {
        case .bytes(let bytes): return bytes
        case .timedOut: return []
        case .closed(let reason): throw MicrogenError(.io, "\(name) went away (\(reason)); was the device unplugged or reset?")
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        PosixIO.closeDescriptor(fd)
    }

    private func configure(speed: speed_t) throws {
        var settings = termios()
        guard tcgetattr(fd, &settings) == 0 else {
            let code = errno
            if code == ENOTTY {
                throw MicrogenError(.invalidArgument, "\(path) is not a serial port (not a terminal device)")
            }
            throw MicrogenError(.io, "cannot read the settings of \(path): \(PosixIO.errorText(code))")
        }
        cfmakeraw(&settings)
        // 8 data bits, no parity, one stop bit, no hardware flow control; ignore modem lines.
        settings.c_cflag &= ~tcflag_t(CSIZE | PARENB | CSTOPB)
        settings.c_cflag &= ~tcflag_t(SerialTransport.hardwareFlowControl)
        settings.c_cflag |= tcflag_t(CS8 | CLOCAL | CREAD)
        settings.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY)
        // Reads return at once with what is there; poll(2) does the waiting.
        withUnsafeMutableBytes(of: &settings.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        guard cfsetispeed(&settings, speed) == 0, cfsetospeed(&settings, speed) == 0,
              tcsetattr(fd, TCSANOW, &settings) == 0 else {
            throw MicrogenError(.io, "cannot set \(path) to \(baudRate) baud 8N1: \(PosixIO.errorText(errno))")
        }
        var applied = termios()
        if tcgetattr(fd, &applied) == 0, cfgetospeed(&applied) != speed {
            throw MicrogenError(.io, "\(path) does not accept \(baudRate) baud")
        }
        // Drop bytes from before we opened the port (a boot banner, an old session).
        tcflush(fd, TCIOFLUSH)
    }

    static func openError(_ path: String, _ code: Int32) -> MicrogenError {
        switch code {
        case ENOENT:
            return MicrogenError(.io, "serial port \(path) does not exist; is the board plugged in? (look for /dev/ttyACM* or /dev/ttyUSB* on Linux, /dev/cu.usbmodem* on macOS)")
        case EACCES, EPERM:
            return MicrogenError(.io, "permission denied opening \(path); on Linux add yourself to the group that owns it (usually dialout: sudo usermod -aG dialout $USER, then log in again)")
        case EBUSY:
            return MicrogenError(.io, "\(path) is busy: another program (a serial monitor, a debugger) has it open")
        case ENXIO, ENODEV:
            return MicrogenError(.io, "\(path) has no device behind it (unplugged?)")
        default:
            return MicrogenError(.io, "cannot open \(path): \(PosixIO.errorText(code))")
        }
    }

    #if os(Linux)
    private static let hardwareFlowControl = CRTSCTS
    private static let speeds: [(rate: Int, speed: speed_t)] = [
        (1200, speed_t(B1200)), (2400, speed_t(B2400)), (4800, speed_t(B4800)), (9600, speed_t(B9600)),
        (19_200, speed_t(B19200)), (38_400, speed_t(B38400)), (57_600, speed_t(B57600)),
        (115_200, speed_t(B115200)), (230_400, speed_t(B230400)), (460_800, speed_t(B460800)),
        (500_000, speed_t(B500000)), (576_000, speed_t(B576000)), (921_600, speed_t(B921600)),
        (1_000_000, speed_t(B1000000)), (1_500_000, speed_t(B1500000)), (2_000_000, speed_t(B2000000)),
        (3_000_000, speed_t(B3000000)), (4_000_000, speed_t(B4000000)),
    ]
    #else
    private static let hardwareFlowControl = CRTS_IFLOW | CCTS_OFLOW
    // On macOS a speed_t is the rate itself; above 230400 the driver decides what it accepts.
    private static let speeds: [(rate: Int, speed: speed_t)] = [1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200, 230_400]
        .map { (rate: $0, speed: speed_t($0)) }
    #endif
}

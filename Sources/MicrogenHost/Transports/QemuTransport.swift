import Foundation
import MicrogenIR
import MicrogenProject
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A firmware running in QEMU, its UART on QEMU's stdin/stdout: `qemu-system-arm -M <machine>
/// -icount shift=0 -display none -monitor none -serial stdio -no-reboot` (see `QemuCommand`, and
/// docs/qemu.md for why: binary-clean both ways, and QEMU holds input until the guest
/// reads it). A firmware that ends (a fault, or main returning) writes its `MG-FAULT` line if it
/// faulted, then its end-of-run record (`ExitRecord`), and requests a reset, which ends QEMU
/// (`-no-reboot`). QEMU runs without semihosting: the firmware cannot reach the host.
///
/// Reads watch the stream for those lines and turn them into an error with the decoded fault
/// registers or the firmware's status. QEMU is stopped on `close()`, when the transport is
/// released, and when the driver gets SIGINT, SIGTERM or SIGHUP.
public final class QemuTransport: Transport {
    public let name: String
    public let machine: String
    public let kernel: String
    private let process: ProcessTransport
    private var scanner = FaultLineScanner()
    private var exitScanner = ExitRecordScanner()
    private var closed = false

    /// Starts `kernel` (an ELF) on `board`'s QEMU machine.
    public convenience init(board: Board, kernel: String, qemu: String = QemuCommand.program) throws {
        guard let emulation = board.qemu else {
            throw MicrogenError(.invalidArgument, "board \(board.name) is real hardware, not emulated by QEMU: give --port with its serial device")
        }
        try self.init(machine: emulation.machine, kernel: kernel, extraArguments: emulation.extraArguments,
                      description: "\(board.name) in QEMU (\(emulation.machine))", qemu: qemu)
    }

    public init(machine: String, kernel: String, extraArguments: [String] = [], description: String? = nil,
                qemu: String = QemuCommand.program) throws {
        guard FileManager.default.fileExists(atPath: kernel) else {
            throw MicrogenError(.io, "firmware \(kernel) does not exist: build the project with make first")
        }
        self.machine = machine
        self.kernel = kernel
        self.name = description ?? "QEMU (\(machine))"
        QemuProcessRegistry.installSignalHandlers()
        do {
            process = try ProcessTransport(executable: qemu,
                                           arguments: QemuCommand.arguments(machine: machine, kernel: kernel, extra: extraArguments),
                                           name: name)
        } catch let error as MicrogenError {
            throw MicrogenError(error.kind, error.message + " (QEMU is needed to run emulated boards: apt-get install qemu-system-arm)")
        }
        QemuProcessRegistry.add(process.processID)
    }

    deinit {
        close()
    }

    /// The QEMU process, for tests and diagnostics.
    public var processID: pid_t { process.processID }

    public func write(_ bytes: [UInt8]) throws {
        do {
            try process.write(bytes)
        } catch {
            throw explain(error)
        }
    }

    public func read(maxCount: Int, deadline: Deadline) throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try process.read(maxCount: maxCount, deadline: deadline)
        } catch {
            throw explain(error)
        }
        scanner.feed(bytes)
        exitScanner.feed(bytes)
        if scanner.sawMarker { throw faultError(finishingWithin: 2.0) }
        if let record = exitScanner.record { throw MicrogenError(.io, "\(record) on \(name) (\(kernel))") }
        return bytes
    }

    public func close() {
        guard !closed else { return }
        closed = true
        // QEMU does not exit when its stdin closes: stop it now rather than after a grace period.
        if process.isRunning { kill(process.processID, SIGKILL) }
        process.close()
        QemuProcessRegistry.remove(process.processID)
    }

    /// Stops every QEMU this process started and has not closed (for a driver's own signal
    /// handler). Async-signal-safe.
    public static func stopAll() {
        QemuProcessRegistry.killAll()
    }

    // MARK: - Errors

    /// The rest of the fault line arrives right behind the marker, then QEMU exits.
    private func faultError(finishingWithin seconds: Double) -> MicrogenError {
        let deadline = Deadline.after(seconds: seconds)
        while scanner.report == nil && !deadline.hasPassed {
            guard let more = try? process.read(maxCount: 256, deadline: deadline), !more.isEmpty else { break }
            scanner.feed(more)
        }
        scanner.finish()
        let report = scanner.report.map { $0.description } ?? scanner.partialLine
        return MicrogenError(.io, "the firmware faulted on \(name) (\(kernel)): \(report)")
    }

    /// Adds what the fault line or the end-of-run record (if any) say to a transport error.
    private func explain(_ error: Error) -> Error {
        scanner.finish()
        exitScanner.finish()
        if let report = scanner.report {
            return MicrogenError(.io, "the firmware faulted on \(name) (\(kernel)): \(report.description)")
        }
        guard let error = error as? MicrogenError, let record = exitScanner.record else { return error }
        return MicrogenError(error.kind, error.message + " (\(record))")
    }
}

/// The QEMU processes alive right now, so a signal handler can stop them. A fixed table of
/// pids: a signal handler may only touch memory and call async-signal-safe functions.
enum QemuProcessRegistry {
    static let capacity = 64
    nonisolated(unsafe) static let pids: UnsafeMutablePointer<pid_t> = {
        let table = UnsafeMutablePointer<pid_t>.allocate(capacity: capacity)
        table.initialize(repeating: 0, count: capacity)
        return table
    }()
    nonisolated(unsafe) static var handlersInstalled = false
    static let lock = NSLock()

    static func add(_ pid: pid_t) {
        lock.lock()
        defer { lock.unlock() }
        for i in 0..<capacity where pids[i] == 0 {
            pids[i] = pid
            return
        }
    }

    static func remove(_ pid: pid_t) {
        lock.lock()
        defer { lock.unlock() }
        for i in 0..<capacity where pids[i] == pid { pids[i] = 0 }
    }

    static func killAll() {
        for i in 0..<capacity {
            let pid = pids[i]
            if pid > 0 { kill(pid, SIGKILL) }
        }
    }

    /// On SIGINT, SIGTERM or SIGHUP: kill every QEMU, then die of the signal as before.
    static func installSignalHandlers() {
        lock.lock()
        defer { lock.unlock() }
        guard !handlersInstalled else { return }
        handlersInstalled = true
        _ = pids
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { received in
                QemuProcessRegistry.killAll()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}

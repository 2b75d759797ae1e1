import XCTest
import MicrogenIR
@testable import MicrogenHost
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What is written comes back: for checking what the fault injector does to frames.
final class LoopbackTransport: Transport {
    var buffer: [UInt8] = []
    func write(_ bytes: [UInt8]) throws { buffer += bytes }
    func read(maxCount: Int, deadline: Deadline) throws -> [UInt8] {
        if buffer.isEmpty {
            PosixIO.sleep(until: deadline)
            return []
        }
        let count = min(maxCount, buffer.count)
        defer { buffer.removeFirst(count) }
        return Array(buffer[0..<count])
    }
    func close() {}
}

/// A pseudo-terminal pair: the master end, and the path of the slave end (a tty to open like a
/// serial port). The functions are looked up at run time because the Glibc module leaves them out.
private func openPseudoTerminal() -> (Int32, String)? {
    typealias IntFunction = @convention(c) (Int32) -> Int32
    typealias NameFunction = @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?
    guard let library = dlopen(nil, RTLD_NOW),
          let grant = dlsym(library, "grantpt"), let unlock = dlsym(library, "unlockpt"), let name = dlsym(library, "ptsname") else { return nil }
    let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
    guard master >= 0 else { return nil }
    guard unsafeBitCast(grant, to: IntFunction.self)(master) == 0, unsafeBitCast(unlock, to: IntFunction.self)(master) == 0,
          let path = unsafeBitCast(name, to: NameFunction.self)(master) else {
        close(master)
        return nil
    }
    return (master, String(cString: path))
}

private func seconds(since start: Deadline) -> Double {
    Double(Deadline.now.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

final class TransportTests: XCTestCase {
    // MARK: ProcessTransport

    func testProcessTransportCarriesBytesBothWaysAndHonoursTheDeadline() throws {
        let cat = try ProcessTransport(executable: "cat")
        defer { cat.close() }
        let bytes: [UInt8] = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
        try cat.write(bytes)
        var received: [UInt8] = []
        let deadline = Deadline.after(seconds: 2)
        while received.count < bytes.count && !deadline.hasPassed {
            received += try cat.read(maxCount: 300, deadline: deadline)
        }
        XCTAssertEqual(received, bytes)
        let start = Deadline.now
        XCTAssertEqual(try cat.read(maxCount: 10, deadline: .after(seconds: 0.15)), [])
        XCTAssertGreaterThanOrEqual(seconds(since: start), 0.15)
        XCTAssertLessThan(seconds(since: start), 0.4)
        XCTAssertTrue(cat.isRunning)
        cat.close()
        XCTAssertEqual(cat.exitDescription, "exited with status 0")
        XCTAssertThrowsError(try cat.write([1])) { XCTAssertTrue("\($0)".contains("is closed"), "\($0)") }
    }

    func testAChildThatDiesMidSessionIsReportedWithItsStatusAndStderr() throws {
        let child = try ProcessTransport(executable: "/bin/sh", arguments: ["-c", "read line; echo \"assertion failed: arena\" >&2; exit 3"], name: "the host firmware")
        defer { child.close() }
        try child.write(Array("hello\n".utf8))
        XCTAssertThrowsError(try child.read(maxCount: 10, deadline: .after(seconds: 5))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("the host firmware closed its output"), text)
            XCTAssertTrue(text.contains("exited with status 3"), text)
            XCTAssertTrue(text.contains("assertion failed: arena"), text)
        }
        // Writing to it now fails cleanly (EPIPE), it does not kill the driver with SIGPIPE.
        XCTAssertThrowsError(try child.write([UInt8](repeating: 0, count: 100_000))) { XCTAssertTrue("\($0)".contains("exited with status 3"), "\($0)") }

        let crashing = try ProcessTransport(executable: "/bin/sh", arguments: ["-c", "kill -SEGV $$"])
        defer { crashing.close() }
        XCTAssertThrowsError(try crashing.read(maxCount: 10, deadline: .after(seconds: 5))) { error in
            XCTAssertTrue("\(error)".contains("was killed by signal 11 (SIGSEGV)"), "\(error)")
        }
    }

    func testMissingProgramAndStubbornChild() throws {
        XCTAssertThrowsError(try ProcessTransport(executable: "/nonexistent/firmware")) { error in
            XCTAssertTrue("\(error)".contains("cannot start /nonexistent/firmware"), "\(error)")
        }
        // A child that ignores the end of its input is terminated by close().
        let sleeper = try ProcessTransport(executable: "sleep", arguments: ["30"])
        let start = Deadline.now
        sleeper.close()
        XCTAssertLessThan(seconds(since: start), 2)
        XCTAssertEqual(sleeper.exitDescription, "was killed by signal 15 (SIGTERM)")
    }

    // MARK: SerialTransport

    func testSerialTransportOverAPseudoTerminal() throws {
        let (master, path) = try XCTUnwrap(openPseudoTerminal(), "cannot open a pseudo-terminal (/dev/ptmx)")
        let serial = try SerialTransport(path: path, baudRate: 921_600)
        defer { serial.close() }
        XCTAssertEqual(serial.name, "\(path) at 921600 baud")

        // Raw mode: every byte value, flags and CR/LF included, passes untouched both ways.
        let everything: [UInt8] = (0..<256).map { UInt8($0) }
        try serial.write(everything)
        var received: [UInt8] = []
        let deadline = Deadline.after(seconds: 2)
        while received.count < everything.count && !deadline.hasPassed {
            if case .bytes(let bytes) = PosixIO.read(master, maxCount: 512, deadline: deadline) { received += bytes }
        }
        XCTAssertEqual(received, everything)
        _ = everything.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
        received = []
        while received.count < everything.count && !deadline.hasPassed {
            received += try serial.read(maxCount: 512, deadline: deadline)
        }
        XCTAssertEqual(received, everything)

        let start = Deadline.now
        XCTAssertEqual(try serial.read(maxCount: 10, deadline: .after(seconds: 0.1)), [])
        XCTAssertGreaterThanOrEqual(seconds(since: start), 0.1)

        // The other end goes away (a board unplugged).
        close(master)
        XCTAssertThrowsError(try serial.read(maxCount: 10, deadline: .after(seconds: 1))) { error in
            XCTAssertTrue("\(error)".contains("went away"), "\(error)")
        }
    }

    func testSerialErrorsSayWhatToDo() {
        XCTAssertThrowsError(try SerialTransport(path: "/dev/ttyDOESNOTEXIST")) {
            XCTAssertTrue("\($0)".contains("does not exist; is the board plugged in?"), "\($0)")
        }
        XCTAssertThrowsError(try SerialTransport(path: "/dev/null")) {
            XCTAssertTrue("\($0)".contains("/dev/null is not a serial port"), "\($0)")
        }
        XCTAssertThrowsError(try SerialTransport(path: "/dev/null", baudRate: 12345)) {
            XCTAssertTrue("\($0)".contains("12345 baud is not a standard rate; use one of 1200, 2400"), "\($0)")
        }
        // Running as root here, so EACCES cannot be provoked: check its message directly.
        XCTAssertTrue(SerialTransport.openError("/dev/ttyACM0", EACCES).message.contains("dialout"))
        XCTAssertTrue(SerialTransport.openError("/dev/ttyACM0", EBUSY).message.contains("busy"))
        XCTAssertTrue(SerialTransport.standardBaudRates.contains(115_200))
    }

    // MARK: FaultInjectingTransport

    private func frames(after rules: [FaultInjectingTransport.Rule], seed: UInt64 = 1, sending: [Frame]) throws -> (events: [FrameEvent], log: [String]) {
        let loop = LoopbackTransport()
        let line = try FaultInjectingTransport(wrapping: loop, seed: seed, rules: rules)
        for frame in sending { try line.write(frame.encoded()) }
        var decoder = FrameDecoder()
        var events: [FrameEvent] = []
        while true {
            let bytes = try line.read(maxCount: 7, deadline: .after(seconds: 0.01))
            if bytes.isEmpty { break }
            events += decoder.feed(bytes)
        }
        return (events, line.log)
    }

    func testEachFaultDoesWhatItSays() throws {
        let a = Frame(type: 0x81, seq: 1, payload: [1, 2, 3]), b = Frame(type: 0x82, seq: 2, payload: [4]), c = Frame(type: 0x83, seq: 3, payload: [])
        XCTAssertEqual(try frames(after: [], sending: [a, b, c]).events, [.frame(a), .frame(b), .frame(c)])

        for direction in FaultInjectingTransport.Direction.allCases {
            let duplicated = try frames(after: [.init(.duplicateFrame, direction, frames: [1])], sending: [a, b, c])
            XCTAssertEqual(duplicated.events, [.frame(a), .frame(b), .frame(b), .frame(c)])
            XCTAssertEqual(duplicated.log, ["duplicateFrame on \(direction) frame 1"])

            let stopped = try frames(after: [.init(.stopAnswering, direction, frames: [1])], sending: [a, b, c])
            XCTAssertEqual(stopped.events, direction == .fromDevice ? [.frame(a)] : [], "nothing gets through once stopped")

            for kind in [FaultInjectingTransport.Kind.flipBit, .dropByte, .truncateFrame, .insertGarbage] {
                for seed in UInt64(1)...10 {
                    let damaged = try frames(after: [.init(kind, direction, frames: [1])], seed: seed, sending: [a, b, c])
                    let good = damaged.events.compactMap { event -> Frame? in if case .frame(let f) = event { return f } else { return nil } }
                    XCTAssertEqual(good.first, a, "\(kind) \(direction) seed \(seed): \(damaged.events)")
                    XCTAssertEqual(good.last, c, "\(kind) \(direction) seed \(seed): \(damaged.events)")
                    if kind == .insertGarbage {
                        XCTAssertTrue(good.contains(b), "garbage before a frame must not hide it: \(damaged.events)")
                    } else {
                        XCTAssertFalse(good.contains(b), "\(kind) \(direction) seed \(seed): \(damaged.log) \(damaged.events)")
                        XCTAssertGreaterThan(damaged.events.count, good.count, "the damage is reported")
                    }
                }
            }
        }
        XCTAssertThrowsError(try FaultInjectingTransport(wrapping: LoopbackTransport(), seed: 1, rules: [.init(.restart, .toDevice, frames: [0])])) {
            XCTAssertTrue("\($0)".contains("needs a way to start the device again"), "\($0)")
        }
    }

    func testRestartStartsAFreshDeviceAndTheSameSeedRepeatsTheSameFaults() throws {
        var started = 0
        let line = try FaultInjectingTransport(seed: 5, rules: [.init(.restart, .toDevice, frames: [2])]) {
            started += 1
            return LoopbackTransport()
        }
        let frame = Frame(type: 1, seq: 1, payload: [])
        for _ in 0..<4 { try line.write(frame.encoded()) }
        XCTAssertEqual(started, 2)
        XCTAssertEqual(line.log, ["restart on toDevice frame 2"])

        let rules = [FaultInjectingTransport.Rule(.flipBit, .toDevice, probability: 0.5), .init(.insertGarbage, .fromDevice, probability: 0.5)]
        let many = (0..<20).map { Frame(type: 0x81, seq: UInt8($0), payload: [UInt8($0)]) }
        let first = try frames(after: rules, seed: 99, sending: many)
        let second = try frames(after: rules, seed: 99, sending: many)
        XCTAssertEqual(first.log, second.log)
        XCTAssertEqual(first.events, second.events)
        XCTAssertGreaterThan(first.log.count, 5)
    }
}

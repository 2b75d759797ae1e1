import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MicrogenIR
import MicrogenProject

/// The repository this test file lives in (for fixtures and templates).
let runtimeRepositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A fresh scratch directory, removed when the test ends.
func runtimeScratchDirectory(_ test: XCTestCase, _ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("mg-runtime-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// A frame of the RPC protocol (docs/protocol.md), as the test sees it. The test keeps its own
/// small encoder and decoder so it checks the C runtime against the document, not against
/// another implementation in this repository.
struct RuntimeFrame: Equatable {
    var type: UInt8
    var seq: UInt8
    var payload: [UInt8]

    var errorCode: UInt8? { type == 0xFF && !payload.isEmpty ? payload[0] : nil }
    var errorReason: String { type == 0xFF ? String(decoding: payload.dropFirst(2), as: UTF8.self) : "" }
}

enum RuntimeWire {
    static func crc16<S: Sequence>(_ bytes: S) -> UInt16 where S.Element == UInt8 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    /// The frame body before stuffing: type, seq, length, payload, crc. `length` overrides the
    /// length field (to test a disagreeing one).
    static func body(type: UInt8, seq: UInt8, payload: [UInt8], length: Int? = nil) -> [UInt8] {
        let declared = length ?? payload.count
        var body: [UInt8] = [type, seq, UInt8(declared & 0xFF), UInt8(declared >> 8 & 0xFF)] + payload
        let crc = crc16(body)
        body += [UInt8(crc & 0xFF), UInt8(crc >> 8)]
        return body
    }

    static func stuff(_ body: [UInt8]) -> [UInt8] {
        var wire: [UInt8] = [0x7E]
        for byte in body {
            if byte == 0x7E || byte == 0x7D { wire += [0x7D, byte ^ 0x20] } else { wire.append(byte) }
        }
        wire.append(0x7E)
        return wire
    }

    static func encode(type: UInt8, seq: UInt8, payload: [UInt8]) -> [UInt8] {
        stuff(body(type: type, seq: seq, payload: payload))
    }
}

/// Splits a byte stream into frames; anything malformed is a test failure, since the runtime
/// must only ever send well-formed frames.
struct RuntimeFrameDecoder {
    private var body: [UInt8] = []
    private var escaped = false
    private(set) var problems: [String] = []

    mutating func push(_ byte: UInt8) -> RuntimeFrame? {
        if byte == 0x7E {
            defer { body = []; escaped = false }
            guard !body.isEmpty else { return nil }
            guard body.count >= 6 else { problems.append("a frame of \(body.count) bytes"); return nil }
            let length = Int(body[2]) | Int(body[3]) << 8
            guard length == body.count - 6, length <= 256 else { problems.append("length field \(length) for \(body.count) bytes"); return nil }
            let crc = UInt16(body[body.count - 2]) | UInt16(body[body.count - 1]) << 8
            guard crc == RuntimeWire.crc16(body.dropLast(2)) else { problems.append("bad crc"); return nil }
            return RuntimeFrame(type: body[0], seq: body[1], payload: Array(body[4..<(body.count - 2)]))
        }
        if escaped {
            escaped = false
            guard byte == 0x5E || byte == 0x5D else { problems.append("bad escape"); return nil }
            body.append(byte ^ 0x20)
        } else if byte == 0x7D {
            escaped = true
        } else {
            body.append(byte)
        }
        return nil
    }
}

/// Little-endian reads from a reply payload.
struct RuntimeReader {
    let bytes: [UInt8]
    var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func u8() -> Int { defer { at += 1 }; return Int(bytes[at]) }
    mutating func u16() -> Int { u8() | u8() << 8 }
    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
    mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
    mutating func string() -> String {
        let n = u8()
        defer { at += n }
        return String(decoding: bytes[at..<(at + n)], as: UTF8.self)
    }
    var isAtEnd: Bool { at == bytes.count }
}

func runtimeLE16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
func runtimeLE32(_ value: Int) -> [UInt8] { runtimeLE16(value & 0xFFFF) + runtimeLE16(value >> 16 & 0xFFFF) }

/// A firmware program running as a child process: its stdin/stdout are the serial line.
final class RuntimeFirmwareProcess {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errorPath: String
    private var decoder = RuntimeFrameDecoder()
    private var pending: [RuntimeFrame] = []
    private var nextSeq: UInt8 = 1

    init(executable: String, scratch: String) throws {
        signal(SIGPIPE, SIG_IGN)
        errorPath = scratch + "/firmware.stderr"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.standardInput = input
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    var standardError: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }
    var framingProblems: [String] { decoder.problems }

    /// Writes to the program's stdin; a program that died shows up as a missing reply.
    func send(_ bytes: [UInt8]) {
        let fd = input.fileHandleForWriting.fileDescriptor
        var offset = 0
        while offset < bytes.count {
            let put = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if put < 0 && errno == EINTR { continue }
            if put <= 0 { return }
            offset += put
        }
    }

    /// The next frame from the firmware, or nil when none arrives before the deadline.
    func readFrame(timeout: TimeInterval = 10) -> RuntimeFrame? {
        if !pending.isEmpty { return pending.removeFirst() }
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while pending.isEmpty {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining, 1) * 1000))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let got = read(fd, &buffer, buffer.count)
            if got <= 0 { return nil }
            for byte in buffer[0..<got] {
                if let frame = decoder.push(byte) { pending.append(frame) }
            }
        }
        return pending.removeFirst()
    }

    /// Sends a request with a fresh seq and returns the reply, failing the test if none comes.
    func request(_ type: UInt8, _ payload: [UInt8] = [], file: StaticString = #filePath, line: UInt = #line) throws -> RuntimeFrame {
        let seq = nextSeq
        nextSeq &+= 1
        send(RuntimeWire.encode(type: type, seq: seq, payload: payload))
        let reply = try XCTUnwrap(readFrame(), "no reply to request 0x\(String(type, radix: 16))\n\(standardError)", file: file, line: line)
        XCTAssertEqual(reply.seq, seq, "reply seq", file: file, line: line)
        return reply
    }

    /// Closes the line and waits for the program to end; returns its exit status.
    func finish() -> Int32 {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The data of a little-endian `.npy` file (version 1 to 3), with its dtype descriptor.
func runtimeLoadNpy(_ path: String) throws -> (descr: String, data: [UInt8]) {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    guard bytes.count > 10, bytes[0] == 0x93, String(decoding: bytes[1..<6], as: UTF8.self) == "NUMPY" else {
        throw MicrogenError(.io, "\(path) is not a .npy file")
    }
    let headerLength: Int, start: Int
    if bytes[6] == 1 {
        headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        start = 10
    } else {
        headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        start = 12
    }
    let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
    guard let descrRange = header.range(of: "'descr': '") else { throw MicrogenError(.io, "\(path): no descr") }
    let descr = String(header[descrRange.upperBound...].prefix { $0 != "'" })
    return (descr, Array(bytes[(start + headerLength)...]))
}

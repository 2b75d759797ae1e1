#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small wrappers over file descriptor I/O shared by the process and serial transports.
enum PosixIO {
    enum ReadResult {
        case bytes([UInt8])
        /// The deadline passed with nothing to read.
        case timedOut
        /// The other end is gone: end of file, hang-up or an error (errno text).
        case closed(String)
    }

    /// Waits with poll(2) until `fd` is readable or `deadline` passes, then reads what is there.
    /// `zeroMeansNoData`: for a non-blocking tty, read() returning 0 means "nothing yet", not EOF.
    static func read(_ fd: Int32, maxCount: Int, deadline: Deadline, zeroMeansNoData: Bool = false) -> ReadResult {
        let capacity = max(1, maxCount)
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, deadline.pollTimeoutMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return .closed("poll failed: \(errorText(errno))")
            }
            if ready == 0 {
                if deadline.hasPassed { return .timedOut }
                continue
            }
            if pfd.revents & Int16(POLLNVAL) != 0 { return .closed("the descriptor is not open") }
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, capacity) }
            if count > 0 { return .bytes(Array(buffer[0..<count])) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                return .closed(errorText(errno))
            }
            // count == 0
            if pfd.revents & Int16(POLLHUP | POLLERR) != 0 || !zeroMeansNoData { return .closed("end of file") }
            if deadline.hasPassed { return .timedOut }
            usleep(1000)
        }
    }

    /// Writes every byte, waiting with poll(2) when the descriptor is non-blocking and full, at
    /// most `timeout` seconds in all. Returns nil on success, else why it failed.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], timeout: Double) -> String? {
        let deadline = Deadline.after(seconds: timeout)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + sent, bytes.count - sent) }
            if count > 0 {
                sent += count
                continue
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK { return errorText(errno) }
            if deadline.hasPassed { return "timed out after \(timeout) s with \(bytes.count - sent) of \(bytes.count) bytes unsent" }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pfd, 1, deadline.pollTimeoutMilliseconds)
        }
        return nil
    }

    static func closeDescriptor(_ fd: Int32) {
        _ = systemClose(fd)
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    static func sleep(until deadline: Deadline) {
        while !deadline.hasPassed {
            let micros = min(deadline.remainingSeconds * 1e6, 100_000)
            usleep(UInt32(max(micros, 100)))
        }
    }
}

// The module-level read/write, not a method of the same name.
@inline(__always) private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

@inline(__always) private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

@inline(__always) private func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}

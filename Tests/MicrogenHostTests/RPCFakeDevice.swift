import Foundation
import MicrogenIR
@testable import MicrogenHost

/// An in-process device that speaks the protocol like the C runtime: the tests' stand-in for a
/// firmware. Its "model" mixes the input bytes into the output deterministically, so a lost or
/// misplaced input byte shows up as a wrong output.
final class FakeDevice: Transport {
    struct Model {
        var name = "fake_model"
        var inputs: [TensorInfo] = [
            TensorInfo(direction: .input, index: 0, dtypeCode: 1, dims: [1, 20, 20, 1], scale: 0.25, zeroPoint: -3, size: 400),
            TensorInfo(direction: .input, index: 1, dtypeCode: 2, dims: [1, 3], scale: 0, zeroPoint: 0, size: 12),
        ]
        var outputs: [TensorInfo] = [
            TensorInfo(direction: .output, index: 0, dtypeCode: 1, dims: [1, 300], scale: 0.5, zeroPoint: 1, size: 300),
        ]
        var operators = 45
        var protocolVersion: UInt8 = 2
        var buildID: UInt32 = 0xB17D_0001
    }

    let model: Model
    var name: String { "the fake device" }
    /// Requests of these types are answered with this error instead.
    var refuse: [MessageType: RPCErrorCode] = [:]
    /// Replies of these types are cut to this many payload bytes (a device that disagrees on a layout).
    var shortReplies: [MessageType: Int] = [:]
    /// When false, requests are swallowed silently.
    var answering = true
    private(set) var requestsSeen: [RPCRequest] = []

    private var decoder = FrameDecoder()
    private var outbox: [UInt8] = []
    private var inputs: [[UInt8]]
    private var output: [[UInt8]]
    private var timings: [UInt64]
    private var runsCompleted: UInt32 = 0
    private var lastError: UInt8 = 0
    private var closed = false

    init(model: Model = Model()) {
        self.model = model
        inputs = model.inputs.map { [UInt8](repeating: 0, count: Int($0.size)) }
        output = model.outputs.map { [UInt8](repeating: 0, count: Int($0.size)) }
        timings = [UInt64](repeating: 0, count: model.operators)
    }

    /// What the fake model computes for these inputs.
    static func expectedOutputs(model: Model = Model(), inputs: [[UInt8]]) -> [[UInt8]] {
        model.outputs.map { tensor in
            (0..<Int(tensor.size)).map { i in
                var value = UInt8(truncatingIfNeeded: i) &* 31
                for (k, input) in inputs.enumerated() where !input.isEmpty {
                    value = value &+ input[(i * (k + 7)) % input.count] ^ input[(i + k) % input.count]
                }
                return value
            }
        }
    }

    func write(_ bytes: [UInt8]) throws {
        guard !closed else { throw MicrogenError(.io, "fake device closed") }
        for event in decoder.feed(bytes) {
            guard answering else { continue }
            switch event {
            case .frame(let frame): handle(frame)
            case .badCRC(let type, let seq): reply(error: .badCRC, type: type, seq: seq, reason: "bad crc")
            case .badFrame(let reason): reply(error: .badFrame, type: 0, seq: 0, reason: reason)
            case .frameTooLong: reply(error: .frameTooLong, type: 0, seq: 0, reason: "frame too long")
            }
        }
    }

    func read(maxCount: Int, deadline: Deadline) throws -> [UInt8] {
        guard !closed else { throw MicrogenError(.io, "fake device closed") }
        if outbox.isEmpty {
            PosixIO.sleep(until: deadline)
            return []
        }
        let count = min(maxCount, outbox.count)
        defer { outbox.removeFirst(count) }
        return Array(outbox[0..<count])
    }

    func close() {
        closed = true
    }

    private func handle(_ frame: Frame) {
        let request: RPCRequest
        do {
            request = try RPCRequest(type: frame.type, payload: frame.payload)
        } catch {
            let code: RPCErrorCode = MessageType(rawValue: frame.type) == nil ? .unknownMessage : .badLength
            return reply(error: code, type: frame.type, seq: frame.seq, reason: "\(error)")
        }
        requestsSeen.append(request)
        if let code = refuse[request.type] {
            return reply(error: code, type: frame.type, seq: frame.seq, reason: "refused on purpose")
        }
        var payload: [UInt8]
        switch request {
        case .echo(let bytes): payload = bytes
        case .info:
            payload = DeviceInfo(protocolVersion: model.protocolVersion, inputs: UInt8(model.inputs.count), outputs: UInt8(model.outputs.count),
                                 flags: 0, operators: UInt16(model.operators), arenaSize: 4096, counterHz: 1_000_000,
                                 instructionsPerTick: 0, buildID: model.buildID, modelName: model.name, board: "fake", core: "swift").encoded()
        case .tensorInfo(let direction, let index):
            let tensors = direction == .input ? model.inputs : model.outputs
            guard Int(index) < tensors.count else { return reply(error: .badIndex, type: frame.type, seq: frame.seq, reason: "no such tensor") }
            payload = tensors[Int(index)].encoded()
        case .writeInput(let index, let offset, let data):
            guard Int(index) < inputs.count else { return reply(error: .badIndex, type: frame.type, seq: frame.seq, reason: "no such input") }
            guard !data.isEmpty, Int(offset) + data.count <= inputs[Int(index)].count else {
                return reply(error: .badOffset, type: frame.type, seq: frame.seq, reason: "past the end of the input")
            }
            inputs[Int(index)].replaceSubrange(Int(offset)..<(Int(offset) + data.count), with: data)
            payload = WriteInputReply(index: index, offset: offset, written: UInt16(data.count)).encoded()
        case .run(let runs):
            guard runs >= 1 else { return reply(error: .badLength, type: frame.type, seq: frame.seq, reason: "runs must be at least 1") }
            output = FakeDevice.expectedOutputs(model: model, inputs: inputs)
            timings = (0..<model.operators).map { UInt64($0 + 1) * UInt64(runs) }
            runsCompleted += UInt32(runs)
            let total = timings.reduce(0, +) + 5 * UInt64(runs)
            payload = RunReply(runs: runs, operators: UInt16(model.operators), total: total).encoded()
        case .readTimings(let first, let count):
            guard count <= 30, Int(first) + Int(count) <= model.operators else {
                return reply(error: .badIndex, type: frame.type, seq: frame.seq, reason: "no such operator")
            }
            payload = TimingsReply(first: first, ticks: Array(timings[Int(first)..<(Int(first) + Int(count))])).encoded()
        case .readOutput(let index, let offset, let length):
            guard Int(index) < output.count else { return reply(error: .badIndex, type: frame.type, seq: frame.seq, reason: "no such output") }
            guard length >= 1, length <= 256, Int(offset) + Int(length) <= output[Int(index)].count else {
                return reply(error: .badOffset, type: frame.type, seq: frame.seq, reason: "past the end of the output")
            }
            payload = Array(output[Int(index)][Int(offset)..<(Int(offset) + Int(length))])
        case .status:
            payload = DeviceStatus(stackHighWater: 512, stackSize: 8192, runsCompleted: runsCompleted, lastError: lastError).encoded()
        }
        if let cut = shortReplies[request.type] { payload = Array(payload.prefix(cut)) }
        outbox += Frame(type: request.type.replyType, seq: frame.seq, payload: payload).encoded()
    }

    private func reply(error code: RPCErrorCode, type: UInt8, seq: UInt8, reason: String) {
        lastError = code.rawValue
        outbox += Frame(type: MessageType.error, seq: seq, payload: ErrorReply(code: code, requestType: type, reason: reason).encoded()).encoded()
    }
}

import MicrogenIR

/// What a firmware reports about itself: INFO plus TENSOR_INFO for every input and output.
public struct DeviceDescription: Sendable, Equatable {
    public var info: DeviceInfo
    public var inputs: [TensorInfo]
    public var outputs: [TensorInfo]
}

/// One RUN's measurements, as sums over `runs` inferences in counter ticks.
public struct RunTimings: Sendable, Equatable {
    public var runs: Int
    /// Ticks of whole inferences (the run function's own overhead included).
    public var totalTicks: UInt64
    /// Ticks per operator, in execution order.
    public var operatorTicks: [UInt64]

    public init(runs: Int, totalTicks: UInt64, operatorTicks: [UInt64]) {
        self.runs = runs
        self.totalTicks = totalTicks
        self.operatorTicks = operatorTicks
    }

    /// Ticks of one inference on average.
    public var ticksPerInference: Double { Double(totalTicks) / Double(max(runs, 1)) }
    /// Ticks of the run function outside any operator, summed over all runs.
    public var overheadTicks: UInt64 {
        let operators = operatorTicks.reduce(0, &+)
        return totalTicks >= operators ? totalTicks - operators : 0
    }
}

/// The outputs and timings of one checked inference (`DeviceSession.infer`).
public struct DeviceInference: Sendable, Equatable {
    public var outputs: [[UInt8]]
    public var timings: RunTimings
    public var status: DeviceStatus
}

/// A conversation with one firmware: checks what it runs, uploads inputs, runs, reads timings
/// and outputs. Every step names the request and the tensor when it fails.
public final class DeviceSession {
    public let client: RPCClient
    /// Filled by `info()` (and so by `verify`): the sizes the other steps check against.
    public private(set) var device: DeviceDescription?

    public init(client: RPCClient) {
        self.client = client
    }

    public convenience init(transport: any Transport, options: RPCClient.Options = RPCClient.Options()) {
        self.init(client: RPCClient(transport: transport, options: options))
    }

    public var transport: any Transport { client.transport }

    public func close() {
        client.transport.close()
    }

    /// INFO, then TENSOR_INFO for every input and output.
    @discardableResult
    public func info() throws -> DeviceDescription {
        try describe(try client.info())
    }

    /// TENSOR_INFO for every tensor INFO announced, checked for consistency.
    private func describe(_ info: DeviceInfo) throws -> DeviceDescription {
        let inputs = try (0..<info.inputs).map { try client.tensorInfo(.input, $0) }
        let outputs = try (0..<info.outputs).map { try client.tensorInfo(.output, $0) }
        for tensor in inputs + outputs {
            if let dataType = tensor.dataType {
                let expected = tensor.shape.reduce(1, *) * dataType.size
                guard Int(tensor.size) == expected else {
                    throw MicrogenError(.io, "\(transport.name): the device describes \(tensor.direction) \(tensor.index) as \(tensor.typeAndShape) but \(tensor.size) bytes (expected \(expected))")
                }
            }
        }
        let description = DeviceDescription(info: info, inputs: inputs, outputs: outputs)
        device = description
        return description
    }

    /// Reads what the device runs and refuses (with `MicrogenError(.mismatch, …)`) unless it speaks
    /// this protocol version (checked by `RPCClient.info`), runs the model `expectedName` (and build, when given), and its inputs
    /// have exactly these element types and shapes. The device reports only the first 32 bytes of
    /// a name, so the name is compared cut the same way; the build id tells builds apart.
    @discardableResult
    public func verify(expectedName: String, inputs expected: [(dataType: DataType, shape: [Int])], expectedBuildID: UInt32? = nil) throws -> DeviceDescription {
        let info = try client.info()
        let on = "the device on \(transport.name)"
        guard info.modelName == DeviceInfo.reported(expectedName) else {
            throw MicrogenError(.mismatch, "\(on) runs model '\(info.modelName)' (board \(info.board)) but you asked to run '\(expectedName)'; flash the firmware built for '\(expectedName)'")
        }
        if let expectedBuildID, info.buildID != expectedBuildID {
            throw MicrogenError(.mismatch, "\(on) runs a different build of '\(expectedName)' (build id 0x\(hex(info.buildID)), expected 0x\(hex(expectedBuildID))); flash the firmware built from this model")
        }
        let description = try describe(info)
        guard description.inputs.count == expected.count else {
            throw MicrogenError(.mismatch, "\(on): model '\(expectedName)' has \(description.inputs.count) input(s) on the device but \(expected.count) were given")
        }
        for (index, (tensor, want)) in zip(description.inputs, expected).enumerated() {
            guard let dataType = tensor.dataType, dataType == want.dataType, tensor.shape == want.shape else {
                throw MicrogenError(.mismatch, "\(on): input \(index) of '\(expectedName)' is \(tensor.typeAndShape) on the device but \(want.dataType) \(want.shape) was given")
            }
        }
        return description
    }

    /// Uploads all of input `index` in WRITE_INPUT chunks of at most 251 bytes.
    public func writeInput(_ index: Int, _ bytes: [UInt8]) throws {
        let tensor = try describedTensor(.input, index)
        guard bytes.count == Int(tensor.size) else {
            throw MicrogenError(.invalidArgument, "input \(index) is \(tensor.typeAndShape), \(tensor.size) bytes on the device, but \(bytes.count) bytes were given")
        }
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + RPCRequest.maxWriteChunk, bytes.count)
            try client.writeInput(index: UInt8(index), offset: UInt32(offset), data: Array(bytes[offset..<end]))
            offset = end
        }
    }

    /// Runs the model `runs` times and reads the per-operator sums. `timeout` bounds the RUN reply
    /// (default: the client's reply timeout); give it the expected run time plus a margin.
    public func run(runs: Int = 1, timeout: Double? = nil) throws -> RunTimings {
        try checkRuns(runs)
        let reply = try client.run(runs: UInt16(runs), timeout: timeout)
        if let device, reply.operators != device.info.operators {
            throw MicrogenError(.io, "\(transport.name): RUN reports \(reply.operators) operators but INFO said \(device.info.operators)")
        }
        var ticks: [UInt64] = []
        ticks.reserveCapacity(Int(reply.operators))
        while ticks.count < Int(reply.operators) {
            let count = min(RPCRequest.maxTimingsChunk, Int(reply.operators) - ticks.count)
            ticks += try client.readTimings(first: UInt16(ticks.count), count: UInt8(count))
        }
        return RunTimings(runs: runs, totalTicks: reply.total, operatorTicks: ticks)
    }

    /// Reads all of output `index` (its size from TENSOR_INFO unless given) in chunks of ≤ 256 bytes.
    public func readOutput(_ index: Int, size: Int? = nil) throws -> [UInt8] {
        let total: Int
        if let size {
            total = size
            if let device, index < device.outputs.count, Int(device.outputs[index].size) != size {
                throw MicrogenError(.invalidArgument, "output \(index) is \(device.outputs[index].size) bytes on the device, not \(size)")
            }
        } else {
            total = Int(try describedTensor(.output, index).size)
        }
        var data: [UInt8] = []
        data.reserveCapacity(total)
        while data.count < total {
            let length = min(RPCRequest.maxReadChunk, total - data.count)
            data += try client.readOutput(index: UInt8(index), offset: UInt32(data.count), length: UInt16(length))
        }
        return data
    }

    public func status() throws -> DeviceStatus {
        try client.status()
    }

    /// One whole inference that cannot silently return outputs computed from lost inputs: the
    /// device's `runs_completed` (which only a restart sets back) is read before the upload, before
    /// RUN and after the last output, and any step back is refused as a restart. A fresh device
    /// (count 0) first runs once, so that a restart to 0 is visible.
    ///
    /// `runs` > 1: one RUN of `runs` when the device says its inputs survive a run; otherwise
    /// the inputs go up again before every run, since the plan reuses their memory
    /// (docs/protocol.md). The timings are the sums over all runs.
    public func infer(inputs: [[UInt8]], runs: Int = 1, runTimeout: Double? = nil) throws -> DeviceInference {
        let device = try self.device ?? info()
        guard inputs.count == device.inputs.count else {
            throw MicrogenError(.invalidArgument, "the model on the device has \(device.inputs.count) input(s) but \(inputs.count) were given")
        }
        try checkRuns(runs)
        var before = try status()
        if before.runsCompleted == 0 {
            _ = try client.run(runs: 1, timeout: runTimeout)
            before = try status()
            try checkNoRestart(since: 1, now: before.runsCompleted, step: "the first run")
        }
        let perRequest = device.info.inputsPreserved ? runs : 1
        var timings = RunTimings(runs: 0, totalTicks: 0, operatorTicks: [])
        var uploaded = before
        while timings.runs < runs {
            for (index, bytes) in inputs.enumerated() { try writeInput(index, bytes) }
            if timings.runs == 0 {
                uploaded = try status()
                try checkNoRestart(since: before.runsCompleted, now: uploaded.runsCompleted, step: "uploading the inputs")
            }
            let some = try self.run(runs: perRequest, timeout: runTimeout)
            timings.runs += some.runs
            timings.totalTicks &+= some.totalTicks
            timings.operatorTicks = timings.operatorTicks.isEmpty ? some.operatorTicks : zip(timings.operatorTicks, some.operatorTicks).map { $0 &+ $1 }
        }
        let outputs = try (0..<device.outputs.count).map { try readOutput($0) }
        let after = try status()
        try checkNoRestart(since: uploaded.runsCompleted &+ UInt32(runs), now: after.runsCompleted, step: "running and reading the outputs")
        return DeviceInference(outputs: outputs, timings: timings, status: after)
    }

    private func checkRuns(_ runs: Int) throws {
        guard (1...Int(UInt16.max)).contains(runs) else {
            throw MicrogenError(.invalidArgument, "runs must be between 1 and \(UInt16.max), not \(runs)")
        }
    }

    private func checkNoRestart(since expectedAtLeast: UInt32, now: UInt32, step: String) throws {
        guard now >= expectedAtLeast else {
            throw MicrogenError(.io, "\(transport.name): the device restarted while \(step) (it reports \(now) completed runs, at least \(expectedAtLeast) were expected), so its inputs were lost and its outputs cannot be trusted; run again")
        }
    }

    private func describedTensor(_ direction: TensorDirection, _ index: Int) throws -> TensorInfo {
        let device = try self.device ?? info()
        let tensors = direction == .input ? device.inputs : device.outputs
        guard tensors.indices.contains(index) else {
            throw MicrogenError(.invalidArgument, "the model on the device has \(tensors.count) \(direction)(s); there is no \(direction) \(index)")
        }
        return tensors[index]
    }

    private func hex(_ value: UInt32) -> String { String(value, radix: 16) }
}

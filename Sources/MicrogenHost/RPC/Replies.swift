import MicrogenIR

/// The INFO reply: what the firmware is and what it runs.
public struct DeviceInfo: Sendable, Equatable {
    public var protocolVersion: UInt8
    public var inputs: UInt8
    public var outputs: UInt8
    /// Bit 0: a true cycle counter (DWT); bit 1: the counter runs under QEMU icount.
    public var flags: UInt8
    public var operators: UInt16
    public var arenaSize: UInt32
    public var counterHz: UInt32
    /// Under QEMU icount: instructions per counter tick; 0 elsewhere.
    public var instructionsPerTick: UInt32
    /// FNV-1a hash of the generated model source (`MG_<NAME>_BUILD_ID`).
    public var buildID: UInt32
    public var modelName: String
    public var board: String
    public var core: String

    public static let cycleCounterFlag: UInt8 = 0x01
    public static let qemuIcountFlag: UInt8 = 0x02
    /// The memory plan leaves the inputs as written, so one upload may be run many times.
    public static let inputsPreservedFlag: UInt8 = 0x04
    /// The firmware reports at most this many bytes of each name (`MAX_NAME` in mg_rpc.c).
    public static let maxNameBytes = 32

    /// `name` as a firmware reports it: cut to its first `maxNameBytes` bytes.
    public static func reported(_ name: String) -> String {
        String(decoding: name.utf8.prefix(maxNameBytes), as: UTF8.self)
    }

    public init(protocolVersion: UInt8, inputs: UInt8, outputs: UInt8, flags: UInt8, operators: UInt16,
                arenaSize: UInt32, counterHz: UInt32, instructionsPerTick: UInt32, buildID: UInt32,
                modelName: String, board: String, core: String) {
        self.protocolVersion = protocolVersion
        self.inputs = inputs
        self.outputs = outputs
        self.flags = flags
        self.operators = operators
        self.arenaSize = arenaSize
        self.counterHz = counterHz
        self.instructionsPerTick = instructionsPerTick
        self.buildID = buildID
        self.modelName = modelName
        self.board = board
        self.core = core
    }

    public var hasCycleCounter: Bool { flags & DeviceInfo.cycleCounterFlag != 0 }
    public var runsUnderQemuIcount: Bool { flags & DeviceInfo.qemuIcountFlag != 0 }
    public var inputsPreserved: Bool { flags & DeviceInfo.inputsPreservedFlag != 0 }

    /// Counter ticks as seconds (0 when the device does not know its counter's rate).
    public func seconds(ticks: UInt64) -> Double {
        counterHz == 0 ? 0 : Double(ticks) / Double(counterHz)
    }

    /// Counter ticks as executed instructions, when the counter runs under QEMU icount.
    public func instructions(ticks: UInt64) -> UInt64? {
        runsUnderQemuIcount && instructionsPerTick > 0 ? ticks &* UInt64(instructionsPerTick) : nil
    }

    public init(payload: [UInt8]) throws {
        var r = PayloadReader(payload, message: "INFO reply")
        protocolVersion = try r.u8("protocol_version")
        inputs = try r.u8("inputs")
        outputs = try r.u8("outputs")
        flags = try r.u8("flags")
        operators = try r.u16("operators")
        arenaSize = try r.u32("arena_size")
        counterHz = try r.u32("counter_hz")
        instructionsPerTick = try r.u32("instructions_per_tick")
        buildID = try r.u32("build_id")
        modelName = try r.shortString("name")
        board = try r.shortString("board")
        core = try r.shortString("core")
        try r.finish()
    }

    public func encoded() -> [UInt8] {
        var w = PayloadWriter()
        w.u8(protocolVersion)
        w.u8(inputs)
        w.u8(outputs)
        w.u8(flags)
        w.u16(operators)
        w.u32(arenaSize)
        w.u32(counterHz)
        w.u32(instructionsPerTick)
        w.u32(buildID)
        w.shortString(modelName)
        w.shortString(board)
        w.shortString(core)
        return w.bytes
    }
}

/// The TENSOR_INFO reply: one input or output as the firmware sees it.
public struct TensorInfo: Sendable, Equatable {
    /// The protocol allows at most this rank.
    public static let maxRank = 6

    public var direction: TensorDirection
    public var index: UInt8
    /// The wire code (1 int8, 2 float32, 3 uint8, 4 int16, 5 int32).
    public var dtypeCode: UInt8
    public var dims: [UInt32]
    public var scale: Float
    public var zeroPoint: Int32
    /// Bytes.
    public var size: UInt32

    public init(direction: TensorDirection, index: UInt8, dtypeCode: UInt8, dims: [UInt32], scale: Float, zeroPoint: Int32, size: UInt32) {
        self.direction = direction
        self.index = index
        self.dtypeCode = dtypeCode
        self.dims = dims
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.size = size
    }

    /// nil for a code this driver does not know.
    public var dataType: DataType? { WireDataType.dataType(code: dtypeCode) }
    public var shape: [Int] { dims.map { Int($0) } }

    /// "int8 [1, 49, 10, 1]", or the raw code when unknown.
    public var typeAndShape: String {
        "\(dataType.map { "\($0)" } ?? "dtype code \(dtypeCode)") \(shape)"
    }

    public init(payload: [UInt8]) throws {
        var r = PayloadReader(payload, message: "TENSOR_INFO reply")
        let rawDirection = try r.u8("direction")
        guard let direction = TensorDirection(rawValue: rawDirection) else {
            throw MicrogenError(.io, "malformed TENSOR_INFO reply: direction \(rawDirection) is neither 0 (input) nor 1 (output)")
        }
        self.direction = direction
        index = try r.u8("index")
        dtypeCode = try r.u8("dtype")
        let rank = Int(try r.u8("rank"))
        guard rank <= TensorInfo.maxRank else {
            throw MicrogenError(.io, "malformed TENSOR_INFO reply: rank \(rank) is above the protocol's limit of \(TensorInfo.maxRank)")
        }
        dims = try (0..<rank).map { try r.u32("dims[\($0)]") }
        scale = try r.f32("scale")
        zeroPoint = try r.i32("zero_point")
        size = try r.u32("size")
        try r.finish()
    }

    public func encoded() -> [UInt8] {
        var w = PayloadWriter()
        w.u8(direction.rawValue)
        w.u8(index)
        w.u8(dtypeCode)
        w.u8(UInt8(dims.count))
        dims.forEach { w.u32($0) }
        w.f32(scale)
        w.i32(zeroPoint)
        w.u32(size)
        return w.bytes
    }
}

/// The WRITE_INPUT reply: what the device stored.
public struct WriteInputReply: Sendable, Equatable {
    public var index: UInt8
    public var offset: UInt32
    public var written: UInt16

    public init(index: UInt8, offset: UInt32, written: UInt16) {
        self.index = index
        self.offset = offset
        self.written = written
    }

    public init(payload: [UInt8]) throws {
        var r = PayloadReader(payload, message: "WRITE_INPUT reply")
        index = try r.u8("index")
        offset = try r.u32("offset")
        written = try r.u16("written")
        try r.finish()
    }

    public func encoded() -> [UInt8] {
        var w = PayloadWriter()
        w.u8(index)
        w.u32(offset)
        w.u16(written)
        return w.bytes
    }
}

/// The RUN reply.
public struct RunReply: Sendable, Equatable {
    public var runs: UInt16
    public var operators: UInt16
    /// Counter ticks of whole inferences, summed over all runs.
    public var total: UInt64

    public init(runs: UInt16, operators: UInt16, total: UInt64) {
        self.runs = runs
        self.operators = operators
        self.total = total
    }

    public init(payload: [UInt8]) throws {
        var r = PayloadReader(payload, message: "RUN reply")
        runs = try r.u16("runs")
        operators = try r.u16("operators")
        total = try r.u64("total")
        try r.finish()
    }

    public func encoded() -> [UInt8] {
        var w = PayloadWriter()
        w.u16(runs)
        w.u16(operators)
        w.u64(total)
        return w.bytes
    }
}

/// The READ_TIMINGS reply: per-operator tick sums over the last RUN's runs.
public struct TimingsReply: Sendable, Equatable {
    public var first: UInt16
    public var ticks: [UInt64]

    public init(first: UInt16, ticks: [UInt64]) {
        self.first = first
        self.ticks = ticks
    }

    public init(payload: [UInt8]) throws {
        var r = PayloadReader(payload, message: "READ_TIMINGS reply")
        first = try r.u16("first")
        let count = Int(try r.u8("count"))
        ticks = try (0..<count).map { try r.u64("ticks[\($0)]") }
        try r.finish()
    }

    public func encoded() -> [UInt8] {
        var w = PayloadWriter()
        w.u16(first)
        w.u8(UInt8(ticks.count))
        ticks.forEach { w.u64($0) }
        return w.bytes
    }
}

/// The STATUS reply.
public struct DeviceStatus: Sendable, Equatable {
    /// Bytes of painted stack ever used; 0 when the port cannot tell.
    public var stackHighWater: UInt32
    public var stackSize: UInt32
    /// Model runs since the device started: it only goes back to 0 when the device restarts.
    public var runsCompleted: UInt32
    /// The last error code the device reported (0 for none).
    public var lastError: UInt8

    public init(stackHighWater: UInt32, stackSize: UInt32, runsCompleted: UInt32, lastError: UInt8) {
        self.stackHighWater = stackHighWater
        self.stackSize = stackSize
        self.runsCompleted = runsCompleted
        self.lastError = lastError
    }

    public init(payload: [UInt8]) throws {
        var r = PayloadReader(payload, message: "STATUS reply")
        stackHighWater = try r.u32("stack_high_water")
        stackSize = try r.u32("stack_size")
        runsCompleted = try r.u32("runs_completed")
        lastError = try r.u8("last_error")
        try r.finish()
    }

    public func encoded() -> [UInt8] {
        var w = PayloadWriter()
        w.u32(stackHighWater)
        w.u32(stackSize)
        w.u32(runsCompleted)
        w.u8(lastError)
        return w.bytes
    }
}

/// An error reply (type 0xFF): `code u8`, `request_type u8`, a short ASCII reason.
public struct ErrorReply: Sendable, Equatable, CustomStringConvertible {
    public var rawCode: UInt8
    public var requestType: UInt8
    public var reason: String

    public init(code: RPCErrorCode, requestType: UInt8, reason: String) {
        self.rawCode = code.rawValue
        self.requestType = requestType
        self.reason = reason
    }

    public var code: RPCErrorCode? { RPCErrorCode(rawValue: rawCode) }
    public var codeName: String { code.map { "\($0)" } ?? "error code \(rawCode)" }

    public init(payload: [UInt8]) throws {
        var r = PayloadReader(payload, message: "error reply")
        rawCode = try r.u8("code")
        requestType = try r.u8("request_type")
        let text = try r.raw(r.remaining, "reason")
        reason = String(decoding: text.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    public func encoded() -> [UInt8] {
        var w = PayloadWriter()
        w.u8(rawCode)
        w.u8(requestType)
        w.raw(Array(reason.utf8))
        return w.bytes
    }

    public var description: String {
        reason.isEmpty ? codeName : "\(codeName): \(reason)"
    }
}

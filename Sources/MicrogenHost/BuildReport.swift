import Foundation
import MicrogenIR
import MicrogenProject
import MicrogenCodegen

/// `report.json`: what a build produced, as data. Keys are snake_case and sorted, so reports of the
/// same model diff cleanly.
public struct BuildReport: Codable, Sendable {
    public struct TensorInfo: Codable, Sendable {
        public var tensor: Int
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var bytes: Int
        /// Arena offset of an activation; nil for a constant (it lives in flash).
        public var arenaOffset: Int?
        public var scale: [Float]?
        public var zeroPoint: [Int]?
    }
    public struct OperatorRow: Codable, Sendable {
        public var index: Int
        public var kind: String
        public var inputs: [TensorInfo]
        public var outputs: [TensorInfo]
        public var macs: Int
        public var scratchBytes: Int
        public var scratchOffset: Int?
    }
    /// One arena buffer: which tensors (or which operator's scratch) it holds, where, and while
    /// which operators (inclusive), as the memory chart draws it.
    public struct BufferRow: Codable, Sendable {
        public var id: Int
        public var label: String
        public var tensors: [Int]
        public var scratchOperator: Int?
        public var bytes: Int
        public var offset: Int
        public var firstUse: Int
        public var lastUse: Int
    }
    /// One code symbol of the firmware, for `code_symbols`.
    public struct CodeSymbol: Codable, Sendable {
        public var name: String
        public var bytes: UInt64
        public var component: String
    }
    public var model: String
    public var name: String
    public var arenaBytes: Int
    public var arenaLowerBoundBytes: Int
    /// The lower bound of the buffers as planned (below `arenaLowerBoundBytes` after in-place merges).
    public var arenaPlannedLowerBoundBytes: Int
    /// The planning algorithm whose plan was kept, and whether it is proved optimal.
    public var planner: String
    public var plannerProvedOptimal: Bool
    public var weightsBytes: Int
    public var macs: Int
    public var inputs: [TensorInfo]
    public var outputs: [TensorInfo]
    public var operators: [OperatorRow]
    /// Sizes from the ELF, when a firmware project was built.
    public var firmware: Firmware?
    /// The same figures as `firmware`, at the top level where tools look first (board builds only):
    /// code (.text with the vector table and unwind tables), flash (.text + .rodata + .data) and
    /// RAM (.data + .bss + arena + reserved stack).
    public var codeBytes: UInt64?
    public var flashBytes: UInt64?
    public var ramBytes: UInt64?
    /// Code bytes per component and the largest code symbols, from `nm` (board builds with nm).
    public var codeBytesByComponent: [String: UInt64]?
    public var codeSymbols: [CodeSymbol]?
    /// Code bytes per source file (kernel headers, the model's .c, the runtime's .c files), from
    /// the ELF's line table; the kernels are inlined, so this is where a kernel's size shows.
    public var codeBytesBySource: [String: UInt64]?
    /// The stack high-water mark measured under QEMU, when the build measured it.
    public var stackHighWaterBytes: Int?
    public var buffers: [BufferRow]

    /// How many symbols `code_symbols` lists: enough to see the big ones, short enough to read.
    public static let codeSymbolLimit = 20

    public struct Firmware: Codable, Sendable {
        public var board: String
        public var textBytes: UInt64
        public var rodataBytes: UInt64
        public var dataBytes: UInt64
        public var bssBytes: UInt64
        public var stackBytes: UInt64
        /// .text + .rodata + .data: what the flash holds.
        public var flashBytes: UInt64
        /// .data + .bss + arena + stack.
        public var ramBytes: UInt64

        public init(board: String, size: FirmwareSize) {
            self.board = board
            textBytes = size.text
            rodataBytes = size.rodata
            dataBytes = size.data
            bssBytes = size.bss
            stackBytes = size.stack
            flashBytes = size.flash
            ramBytes = size.ram
        }

        enum CodingKeys: String, CodingKey {
            case board
            case textBytes = "text_bytes", rodataBytes = "rodata_bytes", dataBytes = "data_bytes", bssBytes = "bss_bytes"
            case stackBytes = "stack_bytes", flashBytes = "flash_bytes", ramBytes = "ram_bytes"
        }
    }

    enum CodingKeys: String, CodingKey {
        case model, name, macs, inputs, outputs, operators, firmware, buffers
        case arenaBytes = "arena_bytes"
        case arenaLowerBoundBytes = "arena_lower_bound_bytes"
        case arenaPlannedLowerBoundBytes = "arena_planned_lower_bound_bytes"
        case codeBytes = "code_bytes", flashBytes = "flash_bytes", ramBytes = "ram_bytes"
        case codeBytesByComponent = "code_bytes_by_component"
        case codeSymbols = "code_symbols"
        case codeBytesBySource = "code_bytes_by_source"
        case stackHighWaterBytes = "stack_high_water_bytes"
        case planner
        case plannerProvedOptimal = "planner_proved_optimal"
        case weightsBytes = "weights_bytes"
    }

    public init(model compiled: CompiledModel, source: String) {
        let graph = compiled.graph
        func info(_ index: Int) -> TensorInfo {
            let t = graph.tensors[index]
            return TensorInfo(tensor: index, name: t.name, dtype: t.dataType.rawValue, shape: t.shape, bytes: t.byteCount,
                              arenaOffset: compiled.tensorOffsets[index], scale: t.quantization?.scales,
                              zeroPoint: t.quantization?.zeroPoints)
        }
        model = URL(fileURLWithPath: source).lastPathComponent
        name = compiled.name
        arenaBytes = compiled.plan.arenaSize
        arenaLowerBoundBytes = compiled.plan.lowerBound
        arenaPlannedLowerBoundBytes = compiled.plan.plannedLowerBound
        planner = "\(compiled.plan.algorithm)"
        plannerProvedOptimal = compiled.plan.provedOptimal
        weightsBytes = compiled.weightsBytes
        macs = compiled.macs
        inputs = graph.inputs.map(info)
        outputs = graph.outputs.map(info)
        operators = compiled.operators.map { op in
            OperatorRow(index: op.index, kind: op.kind.rawValue, inputs: op.inputs.filter { $0 >= 0 }.map(info),
                        outputs: op.outputs.map(info), macs: op.macs, scratchBytes: op.scratchBytes,
                        scratchOffset: op.scratchOffset)
        }
        buffers = compiled.buffers.map { buffer in
            BufferRow(id: buffer.id, label: buffer.label, tensors: buffer.tensors, scratchOperator: buffer.scratchOperator,
                      bytes: buffer.size, offset: buffer.offset, firstUse: buffer.firstUse, lastUse: buffer.lastUse)
        }
    }

    /// Records a board build: the `firmware` block, the top-level sizes and, when nm ran, the
    /// code per component.
    public mutating func add(board: String, size: FirmwareSize, code: CodeSize?) {
        firmware = Firmware(board: board, size: size)
        codeBytes = size.text
        flashBytes = size.flash
        ramBytes = size.ram
        guard let code else { return }
        codeBytesByComponent = Dictionary(uniqueKeysWithValues: code.byComponent.map { ($0.key.rawValue, $0.value) })
        codeBytesBySource = code.bySource.isEmpty ? nil : code.bySource
        codeSymbols = code.symbols.prefix(Self.codeSymbolLimit).map {
            CodeSymbol(name: $0.name, bytes: $0.bytes, component: $0.component.rawValue)
        }
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}

extension BuildReport.TensorInfo {
    enum CodingKeys: String, CodingKey {
        case tensor, name, dtype, shape, bytes, scale
        case arenaOffset = "arena_offset"
        case zeroPoint = "zero_point"
    }
}

extension BuildReport.BufferRow {
    enum CodingKeys: String, CodingKey {
        case id, label, tensors, bytes, offset
        case scratchOperator = "scratch_operator"
        case firstUse = "first_use"
        case lastUse = "last_use"
    }
}

extension BuildReport.OperatorRow {
    enum CodingKeys: String, CodingKey {
        case index, kind, inputs, outputs, macs
        case scratchBytes = "scratch_bytes"
        case scratchOffset = "scratch_offset"
    }
}

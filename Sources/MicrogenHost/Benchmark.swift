import Foundation
import MicrogenIR
import MicrogenCodegen
import MicrogenProject

/// The MLPerf Tiny comparison: each int8 reference model on each board, checked bit-exact against
/// its vectors, with instructions, memory and the TensorFlow Lite Micro + CMSIS-NN figures.
public enum Benchmark {
    /// TFLite Micro with CMSIS-NN on cortex-m7 (arm-none-eabi-gcc 12.2 -O2, QEMU mps2-an500,
    /// -icount shift=0), as measured for issues 5 and 6: instructions per Invoke(), arena bytes,
    /// .text bytes, flash total (text + .tflite + rodata + data) and stack high-water.
    public struct Reference: Sendable {
        public var model: String
        public var instructions: Int
        public var arenaBytes: Int
        public var textBytes: Int
        public var flashBytes: Int
        public var stackBytes: Int
    }

    public static let references: [Reference] = [
        Reference(model: "kws_ref_model", instructions: 7_643_127, arenaBytes: 22_820, textBytes: 54_632, flashBytes: 110_324, stackBytes: 908),
        Reference(model: "vww_96_int8", instructions: 24_025_524, arenaBytes: 100_708, textBytes: 54_632, flashBytes: 389_676, stackBytes: 908),
        Reference(model: "pretrainedResnet_quant", instructions: 30_023_437, arenaBytes: 54_996, textBytes: 52_584, flashBytes: 152_820, stackBytes: 908),
        Reference(model: "ad01_int8", instructions: 583_241, arenaBytes: 2_580, textBytes: 28_416, flashBytes: 306_668, stackBytes: 636),
    ]

    public struct Row: Codable, Sendable {
        public var model: String
        public var board: String
        public var cases: Int
        public var casesMatching: Int
        public var instructions: Int
        public var macs: Int
        public var instructionsPerMAC: Double
        public var arenaBytes: Int
        public var arenaLowerBoundBytes: Int
        public var textBytes: Int
        public var rodataBytes: Int
        public var dataBytes: Int
        public var bssBytes: Int
        public var flashBytes: Int
        public var ramBytes: Int
        public var stackHighWaterBytes: Int
        /// What the model costs in RAM at run time: the arena section,
        /// .data, .bss and the stack's measured high-water mark.
        public var ramUsedBytes: Int
        public var tflmInstructions: Int
        public var ratioToTFLM: Double

        enum CodingKeys: String, CodingKey {
            case model, board, cases, instructions, macs
            case casesMatching = "cases_matching", instructionsPerMAC = "instructions_per_mac"
            case arenaBytes = "arena_bytes", arenaLowerBoundBytes = "arena_lower_bound_bytes"
            case textBytes = "text_bytes", rodataBytes = "rodata_bytes", dataBytes = "data_bytes", bssBytes = "bss_bytes"
            case flashBytes = "flash_bytes", ramBytes = "ram_bytes", stackHighWaterBytes = "stack_high_water_bytes"
            case ramUsedBytes = "ram_used_bytes"
            case tflmInstructions = "tflm_cmsis_nn_instructions", ratioToTFLM = "ratio_to_tflm"
        }
    }

    /// Builds, runs every vector case and profiles one model on one emulated board.
    public static func measure(model reference: Reference, board boardName: String, modelsDirectory: String,
                               workDirectory: String, progress: ProgressLine) throws -> Row {
        let path = modelsDirectory + "/\(reference.model).tflite"
        let compiled = try ModelBuilder.compile(path: path)
        let directory = workDirectory + "/\(reference.model)-\(boardName)"
        let connection = try DeviceConnection(model: compiled, options: .init(board: boardName, buildDirectory: directory), progress: progress)
        defer { connection.close() }

        let vectors = modelsDirectory + "/vectors/\(reference.model)"
        var cases = 0, matching = 0
        var instructionsPerInference: Double = 0
        var stack = 0
        while FileManager.default.fileExists(atPath: vectors + "/case\(cases)_input0.npy") {
            progress.step("\(reference.model) on \(boardName): case \(cases)")
            let input = try Npy.read(path: vectors + "/case\(cases)_input0.npy")
            let expected = try Npy.read(path: vectors + "/case\(cases)_output0.npy")
            let result = try connection.infer([input])
            if try OutputComparison(actual: result.outputs[0], expected: expected).passed { matching += 1 }
            let (_, perTick) = connection.unit
            instructionsPerInference = Double(result.timings.totalTicks) * perTick / Double(max(result.timings.runs, 1))
            stack = max(stack, Int(result.status.stackHighWater))
            cases += 1
        }
        let size = connection.firmwareSize
        let instructions = Int(instructionsPerInference.rounded())
        return Row(model: reference.model, board: boardName, cases: cases, casesMatching: matching,
                   instructions: instructions, macs: compiled.macs,
                   instructionsPerMAC: compiled.macs > 0 ? instructionsPerInference / Double(compiled.macs) : 0,
                   arenaBytes: compiled.plan.arenaSize, arenaLowerBoundBytes: compiled.plan.lowerBound,
                   textBytes: Int(size?.text ?? 0), rodataBytes: Int(size?.rodata ?? 0), dataBytes: Int(size?.data ?? 0),
                   bssBytes: Int(size?.bss ?? 0), flashBytes: Int(size?.flash ?? 0), ramBytes: Int(size?.ram ?? 0),
                   stackHighWaterBytes: stack,
                   ramUsedBytes: Int((size?.arena ?? 0) + (size?.data ?? 0) + (size?.bss ?? 0)) + stack,
                   tflmInstructions: reference.instructions,
                   ratioToTFLM: Double(instructions) / Double(reference.instructions))
    }

    public static func table(_ rows: [Row]) -> String {
        var table = TextTable(headers: ["model", "board", "bit-exact", "instructions", "instr/MAC", "arena", "lower bound", "text", "rodata", "stack", "TFLM+CMSIS-NN", "ratio"],
                              rightAligned: [3, 4, 5, 6, 7, 8, 9, 10, 11])
        for r in rows {
            table.add([r.model, r.board, "\(r.casesMatching)/\(r.cases)", grouped(r.instructions), String(format: "%.2f", r.instructionsPerMAC),
                       grouped(r.arenaBytes), grouped(r.arenaLowerBoundBytes), grouped(r.textBytes), grouped(r.rodataBytes),
                       grouped(r.stackHighWaterBytes), grouped(r.tflmInstructions), String(format: "%.2fx", r.ratioToTFLM)])
        }
        return table.render()
    }

    /// The same table in Markdown, for BENCHMARKS.md.
    public static func markdown(_ rows: [Row], commit: String) -> String {
        var text = "| model | board | bit-exact cases | instructions | instr/MAC | arena | lower bound | .text | .rodata | stack | TFLM+CMSIS-NN | ratio |\n"
        text += "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for r in rows {
            text += "| \(r.model) | \(r.board) | \(r.casesMatching)/\(r.cases) | \(grouped(r.instructions)) | \(String(format: "%.2f", r.instructionsPerMAC)) | \(grouped(r.arenaBytes)) | \(grouped(r.arenaLowerBoundBytes)) | \(grouped(r.textBytes)) | \(grouped(r.rodataBytes)) | \(grouped(r.stackHighWaterBytes)) | \(grouped(r.tflmInstructions)) | \(String(format: "%.2fx", r.ratioToTFLM)) |\n"
        }
        text += "\nMeasured at commit \(commit) with `microgen bench`: executed instructions per inference under QEMU `-icount shift=0` (SysTick ticks × instructions per tick), sizes from the ELF (`arm-none-eabi-size -A`). The TFLM+CMSIS-NN column is TensorFlow Lite Micro with CMSIS-NN kernels on the same emulated cortex-m7 (the ratio on cortex-m4 compares against that same figure).\n"
        text += "\n## Memory against TFLite Micro + CMSIS-NN (cortex-m7)\n\n"
        text += "| model | RAM used (arena section + .data + .bss + stack) | TFLM arena + stack | ratio (goal 0.6x) | .text | TFLM .text | ratio (goal 0.25x) | flash (.text + .rodata + .data) | TFLM flash | ratio |\n"
        text += "|---|---|---|---|---|---|---|---|---|---|\n"
        for r in rows where r.board == "cortex-m7" {
            guard let ref = references.first(where: { $0.model == r.model }) else { continue }
            let tflmRAM = ref.arenaBytes + ref.stackBytes
            let flash = r.textBytes + r.rodataBytes + r.dataBytes
            text += "| \(r.model) | \(grouped(r.ramUsedBytes)) | \(grouped(tflmRAM)) | \(String(format: "%.2fx", Double(r.ramUsedBytes) / Double(tflmRAM))) | \(grouped(r.textBytes)) | \(grouped(ref.textBytes)) | \(String(format: "%.2fx", Double(r.textBytes) / Double(ref.textBytes))) | \(grouped(flash)) | \(grouped(ref.flashBytes)) | \(String(format: "%.2fx", Double(flash) / Double(ref.flashBytes))) |\n"
        }
        text += "\n"
        for r in rows where r.board == "cortex-m7" {
            if r.arenaBytes < r.arenaLowerBoundBytes {
                let below = 100 * Double(r.arenaLowerBoundBytes - r.arenaBytes) / Double(r.arenaLowerBoundBytes)
                text += "- \(r.model): arena \(grouped(r.arenaBytes)) bytes, \(String(format: "%.0f", below))% below the no-copy lower bound (\(grouped(r.arenaLowerBoundBytes))) by running operators in place.\n"
            } else if r.arenaBytes == r.arenaLowerBoundBytes {
                text += "- \(r.model): arena \(grouped(r.arenaBytes)) bytes, at the no-copy lower bound.\n"
            } else {
                let above = 100 * Double(r.arenaBytes - r.arenaLowerBoundBytes) / Double(max(r.arenaLowerBoundBytes, 1))
                text += "- \(r.model): arena \(grouped(r.arenaBytes)) bytes, \(String(format: "%.1f", above))% above the no-copy lower bound (\(grouped(r.arenaLowerBoundBytes))).\n"
            }
        }
        return text + "\nRAM counts the stack's measured high-water mark, as the TFLM figures do; the firmware reserves that plus a margin (`microgen build` measures it under QEMU). The firmware keeps no copy of the inputs: the host writes them again before a run when the plan has overwritten them (docs/protocol.md). `.text` includes the RPC runtime, startup and ports.\n"
    }
}

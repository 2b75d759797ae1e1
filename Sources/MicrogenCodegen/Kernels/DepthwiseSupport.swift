import MicrogenIR
import MicrogenCompiler

/// Compile-time work for the 3x3 depthwise kernel (`mg_depthwise_3x3.h`): the padded int16 plane
/// it copies each input channel into, and the per-channel table of packed weights and
/// requantization constants.
enum DepthwiseSupport {
    /// The plane one input channel is copied into, in int16 elements.
    struct Plane: Equatable {
        var height: Int
        /// Even, so every pair load of the kernel is 4-byte aligned.
        var width: Int
        /// Input rows and columns that land in the plane (the rest are never read).
        var copyHeight: Int
        var copyWidth: Int

        var bytes: Int { height * width * 2 }
    }

    /// Whether the 3x3 kernel handles this shape: int8, a 3x3 filter, no dilation, strides 1 or 2.
    static func fits3x3(filterH: Int, filterW: Int, strideH: Int, strideW: Int, dilationH: Int, dilationW: Int) -> Bool {
        filterH == 3 && filterW == 3 && dilationH == 1 && dilationW == 1 && (1...2).contains(strideH) && (1...2).contains(strideW)
    }

    /// The kernel computes outputs four at a time along x, then a pair, then a single one; the
    /// plane holds every column those read (see the ROW macros in mg_depthwise_3x3.h).
    static func plane(inputH: Int, inputW: Int, outputH: Int, outputW: Int, strideH: Int, strideW: Int,
                      padTop: Int, padLeft: Int) -> Plane {
        // The last plane column a block of `count` outputs starting at output x reads: stride 1
        // loads columns x ..< x + count + 2 rounded up to whole pairs, stride 2 loads 2x ..< 2x + 2 * count + 2.
        func lastColumn(_ x: Int, _ count: Int) -> Int {
            strideW == 1 ? x + max(count, 2) + 1 : 2 * x + 2 * count + 1
        }
        var x = 0, last = 0
        while x + 4 <= outputW { last = lastColumn(x, 4); x += 4 }
        if x + 2 <= outputW { last = lastColumn(x, 2); x += 2 }
        if x < outputW { last = lastColumn(x, 1) }
        let width = (last + 2) / 2 * 2
        let height = (outputH - 1) * strideH + 3
        return Plane(height: height, width: width,
                     copyHeight: max(0, min(inputH, height - padTop)), copyWidth: max(0, min(inputW, width - padLeft)))
    }

    /// Words per output channel in the table (MG_DW3X3_WORDS).
    static let wordsPerChannel = 10

    /// Whether the three-instruction requantization of mg_dw3x3_requantize is exact for every
    /// channel: a positive multiplier, a right shift e >= 1, and for every possible input the
    /// doubled accumulator and x + rounding (|x| <= |acc|) fit in 32 bits. `maxAccumulator[c]` is
    /// |folded bias| + 128 * sum |w| of channel c.
    static func fastRequantization(_ multipliers: [QuantizedMultiplier], maxAccumulator: [Int], outputZeroPoint: Int) -> Bool {
        zip(multipliers, maxAccumulator).allSatisfy { q, bound in
            let e = -q.shift
            guard q.multiplier > 0, (1...30).contains(e), bound <= (1 << 30) - 1 else { return false }
            return bound + abs(rounding(e: e, outputZeroPoint: outputZeroPoint)) + 1 < 1 << 31
        }
    }

    /// 2^(e-1) + zp_out * 2^e: TFLM's rounding of x / 2^e with the output zero point folded in.
    static func rounding(e: Int, outputZeroPoint: Int) -> Int { (1 << (e - 1)) + outputZeroPoint * (1 << e) }

    /// The largest |accumulator| channel c can reach: |folded bias| + 128 * sum |w| (activations
    /// are in [-128, 127]). `weights` is the [1, 3, 3, C] filter.
    static func maxAccumulator(weights: [Int8], channels: Int, foldedBias: [Int32]) -> [Int] {
        var bound = foldedBias.map { abs(Int($0)) }
        for (i, w) in weights.enumerated() { bound[i % channels] += 128 * abs(Int(w)) }
        return bound
    }

    /// The table of `mg_depthwise_3x3.h`, MG_DW3X3_WORDS words per output channel: folded bias,
    /// each filter row packed as int16 pairs (w0, w1) and (w1, w2), the multiplier, and either
    /// the rounding constant and right shift of the fast path (bias and weights doubled) or
    /// TFLM's shift. `weights` is the [1, 3, 3, C] filter.
    static func channelTable(weights: [Int8], channels: Int, foldedBias: [Int32], multipliers: [QuantizedMultiplier],
                             outputZeroPoint: Int, fast: Bool) -> [Int32] {
        let scale = fast ? 2 : 1
        func pack(_ lo: Int8, _ hi: Int8) -> Int32 {
            let l = UInt32(UInt16(bitPattern: Int16(Int(lo) * scale))), h = UInt32(UInt16(bitPattern: Int16(Int(hi) * scale)))
            return Int32(bitPattern: l | (h << 16))
        }
        var words: [Int32] = []
        words.reserveCapacity(channels * wordsPerChannel)
        for c in 0..<channels {
            func w(_ row: Int, _ column: Int) -> Int8 { weights[(row * 3 + column) * channels + c] }
            let q = multipliers[c]
            // In the fast case |bias| < 2^30 (checked), so doubling cannot overflow.
            words.append(fast ? foldedBias[c] * 2 : foldedBias[c])
            for row in 0..<3 { words += [pack(w(row, 0), w(row, 1)), pack(w(row, 1), w(row, 2))] }
            words.append(q.multiplier)
            if fast {
                words += [Int32(rounding(e: -q.shift, outputZeroPoint: outputZeroPoint)), Int32(-q.shift)]
            } else {
                words += [0, Int32(q.shift)]
            }
        }
        return words
    }
}

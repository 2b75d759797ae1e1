/* Requantization of int32 accumulators to int8 for the fast convolution and fully connected
 * kernels, with constants prepared at compile time.
 *
 * TFLM computes RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc, m), e) + zp for a
 * right shift e = -shift >= 1. With m in [2^30, 2^31) (or 0) that is exactly
 *
 *     floor(S / 2^(31+e)),  S = acc * m + K - [acc < 0] * 2^31,  K = 2^30 + 2^(30+e) + zp * 2^(31+e)
 *
 * (the doubling high multiply rounds half up: gemmlowp's nudge and truncating division amount to
 * floor((acc*m + 2^30) / 2^31); the divide rounds half away from zero, which is the -[acc < 0]
 * term; m >= 2^30 makes "the high product is negative" the same as "acc is negative" except when
 * that product is 0, where the term changes nothing). Since 31 + e >= 32, the division is the
 * high word of a 64-bit sum shifted right. Two forms, chosen per operator by the lowering:
 *
 * MG_REQUANT_DOUBLED: the kernel accumulates 2 * acc (the lowering doubles weights and bias after
 *   checking that |2 * acc| < 2^31 for every possible input). Then
 *       floor(S / 2^31) = floor(((c - [acc < 0]) * 2^32 + (2 * acc) * m + 2^31) / 2^32),
 *       c = 2^(e-1) + zp * 2^e,
 *   one SMMLAR (most significant word multiply-accumulate, rounded) whose accumulate operand is
 *   c + (2 * acc >> 31); the result is that >> e.
 * MG_REQUANT_WIDE: for accumulators that may reach 2^30 (e.g. the huge biases of dead channels).
 *   The 64-bit K (low and high words) is a constant, the sign term is added to it with ADDS/ADC,
 *   one SMLAL adds acc * m, and the result is the high word >> (e - 1).
 * MG_REQUANT_X256: the fully connected kernel's sums come out as 256 * acc (see mg_fc_fast.h).
 *   256 * S has every constant term a multiple of 2^32, so
 *       floor(S / 2^(31+e)) = (floor((c' * 2^32 + (256 * acc) * m) / 2^32)) >> (7 + e),
 *       c' = 2^6 + 2^(6+e) + zp * 2^(7+e) - 128 * [acc < 0],
 *   one SMMLA (most significant word multiply-accumulate, truncated).
 * The output zero point is folded into K (or c) only while that cannot overflow (e <= 23, or
 * e <= 16 for MG_REQUANT_X256); otherwise the kernel adds it after the shift. Operators with a channel of another shape (e < 1,
 * a left shift, a multiplier outside [2^30, 2^31)) use MG_REQUANT_GENERAL, TFLM's arithmetic
 * as written (mg_multiply_by_quantized_multiplier). */
#ifndef MG_CONV_REQUANT_H
#define MG_CONV_REQUANT_H

#include "mg_common.h"
#include "mg_dsp.h"

#if defined(__GNUC__) || defined(__clang__)
/* Inlined at every use: a call per output would cost more than the arithmetic. */
#define MG_REQUANT_INLINE static inline __attribute__((always_inline))
#else
#define MG_REQUANT_INLINE static inline
#endif

#define MG_REQUANT_GENERAL 0
#define MG_REQUANT_DOUBLED 1
#define MG_REQUANT_WIDE 2
#define MG_REQUANT_X256 3

/* Each output channel has four int32 constants, q[0..3]:
 *   DOUBLED: m, c, e, unused;
 *   WIDE:    m, high word of K, e - 1, low word of K;
 *   X256:    m, c (without the sign term), 7 + e, unused;
 *   GENERAL: TFLM's multiplier, unused, TFLM's shift, unused. */
#define MG_REQUANT_WORDS 4

/* One channel's constants, read into registers before any output byte is stored (an int8 store
 * may alias anything, so reading them later would mean loading them again). */
typedef struct {
    int32_t m, high, shift, low;
} mg_requant_channel;

MG_REQUANT_INLINE mg_requant_channel mg_requant_load(const int32_t *q)
{
    mg_requant_channel ch;
    ch.m = q[0];
    ch.high = q[1];
    ch.shift = q[2];
    ch.low = q[3];
    return ch;
}

/* MG_REQUANT_DOUBLED: floor(S / 2^(31+e)) from acc2 = 2 * acc, before clamping. */
MG_REQUANT_INLINE int32_t mg_requant_doubled(int32_t acc2, int32_t m, int32_t c, int32_t e)
{
#if MG_HAS_DSP && defined(__thumb2__)
    int32_t high;
    __asm__("add %[high], %[c], %[acc], asr #31\n\t"
            "smmlar %[high], %[acc], %[m], %[high]"
            : [high] "=&r"(high)
            : [acc] "r"(acc2), [c] "r"(c), [m] "r"(m));
    return high >> e;
#elif defined(__thumb2__)
    uint32_t low;
    int32_t high;
    __asm__("mov %[low], #0x80000000\n\t"
            "add %[high], %[c], %[acc], asr #31\n\t"
            "smlal %[low], %[high], %[acc], %[m]"
            : [low] "=&r"(low), [high] "=&r"(high)
            : [acc] "r"(acc2), [c] "r"(c), [m] "r"(m));
    return high >> e;
#else
    int64_t sum = (int64_t)acc2 * m + (int64_t)(c + (acc2 < 0 ? -1 : 0)) * INT64_C(4294967296) + INT64_C(0x80000000);
    /* Arithmetic right shifts of negative values, as every compiler this code targets does. */
    return (int32_t)(sum >> 32) >> e;
#endif
}

/* MG_REQUANT_WIDE: floor(S / 2^(31+e)) from acc, K = k_high : k_low, shift = e - 1. */
MG_REQUANT_INLINE int32_t mg_requant_wide(int32_t acc, int32_t m, int32_t k_high, int32_t shift, int32_t k_low)
{
#if defined(__thumb2__)
    uint32_t low;
    int32_t high;
    __asm__("and %[low], %[acc], #0x80000000\n\t"
            "adds %[low], %[low], %[klow]\n\t"
            "adc %[high], %[khigh], %[acc], asr #31\n\t"
            "smlal %[low], %[high], %[acc], %[m]"
            : [low] "=&r"(low), [high] "=&r"(high)
            : [acc] "r"(acc), [klow] "r"(k_low), [khigh] "r"(k_high), [m] "r"(m)
            : "cc");
    return high >> shift;
#else
    int64_t sum = (int64_t)acc * m + (int64_t)k_high * INT64_C(4294967296) + (int64_t)(uint32_t)k_low -
                  (acc < 0 ? INT64_C(0x80000000) : 0);
    return (int32_t)(sum >> 32) >> shift;
#endif
}

/* MG_REQUANT_X256: floor(S / 2^(31+e)) from acc256 = 256 * acc, shift = 7 + e. */
MG_REQUANT_INLINE int32_t mg_requant_x256(int32_t acc256, int32_t m, int32_t c, int32_t shift)
{
#if MG_HAS_DSP && defined(__thumb2__)
    int32_t high;
    __asm__("asr %[high], %[acc], #31\n\t"
            "add %[high], %[c], %[high], lsl #7\n\t"
            "smmla %[high], %[acc], %[m], %[high]"
            : [high] "=&r"(high)
            : [acc] "r"(acc256), [c] "r"(c), [m] "r"(m));
    return high >> shift;
#else
    const int32_t product_high = (int32_t)(((int64_t)acc256 * m) >> 32);
    return (product_high + c - (acc256 < 0 ? 128 : 0)) >> shift;
#endif
}

/* v clamped to [lo, hi], a sub-range of the int8 range: one SSAT on Thumb-2 cores, plus a
 * compare for each bound that is not the int8 limit (the bounds are compile-time constants). */
MG_REQUANT_INLINE int8_t mg_requant_clamp(int32_t v, int32_t lo, int32_t hi)
{
#if defined(__thumb2__)
    __asm__("ssat %0, #8, %1" : "=r"(v) : "r"(v));
    if (lo > -128) v = v < lo ? lo : v;
    if (hi < 127) v = v > hi ? hi : v;
    return (int8_t)v;
#else
    return mg_clamp_s8(v, lo, hi);
#endif
}

/* Parameters shared by every output of one operator. */
typedef struct {
    /* MG_REQUANT_GENERAL, MG_REQUANT_DOUBLED or MG_REQUANT_WIDE. */
    int32_t mode;
    /* DOUBLED and WIDE: 1 when the output zero point is folded into the constants. */
    int32_t zero_point_folded;
    int32_t output_zero_point;
    int32_t activation_min, activation_max;
} mg_requant_params;

/* The int8 output for accumulator acc (doubled in MG_REQUANT_DOUBLED, times 256 in
 * MG_REQUANT_X256) of channel ch. */
MG_REQUANT_INLINE int8_t mg_requant_s8(int32_t acc, mg_requant_channel ch, const mg_requant_params *r)
{
    int32_t v;
    if (r->mode == MG_REQUANT_DOUBLED) {
        v = mg_requant_doubled(acc, ch.m, ch.high, ch.shift);
        if (!r->zero_point_folded) v += r->output_zero_point;
    } else if (r->mode == MG_REQUANT_X256) {
        v = mg_requant_x256(acc, ch.m, ch.high, ch.shift);
        if (!r->zero_point_folded) v += r->output_zero_point;
    } else if (r->mode == MG_REQUANT_WIDE) {
        v = mg_requant_wide(acc, ch.m, ch.high, ch.shift, ch.low);
        if (!r->zero_point_folded) v += r->output_zero_point;
    } else {
        v = mg_multiply_by_quantized_multiplier(acc, ch.m, ch.shift) + r->output_zero_point;
    }
    return mg_requant_clamp(v, r->activation_min, r->activation_max);
}

#endif

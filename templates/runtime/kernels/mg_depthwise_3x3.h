/* DEPTHWISE_CONV_2D int8 with a 3x3 filter, stride 1 or 2 along each axis, no dilation, any depth
 * multiplier: the shapes of MobileNet-like and DS-CNN models.
 *
 * Channels are independent in a depthwise convolution, so the kernel works one input channel at a
 * time: it copies the channel into `plane` (scratch memory, int16, row after row) whose border
 * already holds the input zero point, then computes every output of the channel from the plane.
 * Padding therefore costs nothing in the inner loop: a padded tap adds w * zp_in, which cancels
 * the -zp_in * w folded into the bias, exactly as TFLM's skipping the tap.
 *
 * With int16 activations laid out along x, one 32-bit load holds two neighbouring columns, so
 * neighbouring outputs of a row share their loads. For stride 1, with L0 = (x0, x1),
 * L2 = (x2, x3) and each filter row packed at compile time as W01 = (w0, w1), W12 = (w1, w2):
 *   out0 += SMLAD(L0, W01) + SMLABT(L2, W12)   = x0 w0 + x1 w1 + x2 w2
 *   out1 += SMLATB(L0, W01) + SMLAD(L2, W12)   = x1 w0 + x2 w1 + x3 w2
 * and out2, out3 the same from L2 and L4 = (x4, x5). For stride 2, out_j reads L(2j) and L(2j+2)
 * with SMLAD and SMLABT. Outputs are computed four at a time, then a pair, then a single one.
 *
 * Requantization (see mg_dw3x3_requantize) is three instructions when the lowering could prove
 * at compile time that the fast form is exact for every channel (fast_requantize); otherwise
 * the table holds plain weights and TFLM's MultiplyByQuantizedMultiplier is used as is. */
#ifndef MG_DEPTHWISE_3X3_H
#define MG_DEPTHWISE_3X3_H

#include "mg_common.h"
#include "mg_dsp.h"

#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
#include <arm_acle.h>
#endif

/* The kernel is only fast once inlined into its call with the constant params (the shapes and
 * strides become immediates and the branches on them disappear); gcc would otherwise keep parts
 * out of line when a model has several depthwise layers. */
#if defined(__GNUC__) || defined(__clang__)
#define MG_DW_INLINE static inline __attribute__((always_inline))
#else
#define MG_DW_INLINE static inline
#endif

/* What one output channel needs, prepared at compile time: MG_DW3X3_WORDS int32 words per
 * output channel, at these positions. With fast_requantize the bias and the weights are doubled
 * (the accumulator holds 2 * acc, which the SMMLAR step wants). */
#define MG_DW3X3_BIAS 0       /* bias - zp_in * sum of the channel's nine weights */
#define MG_DW3X3_ROWS 1       /* filter row r: word 2r = (w[r][0], w[r][1]), 2r+1 = (w[r][1], w[r][2]), int16 lanes */
#define MG_DW3X3_MULTIPLIER 7
#define MG_DW3X3_ROUNDING 8   /* fast: 2^(e-1) + zp_out * 2^e for a right shift e */
#define MG_DW3X3_SHIFT 9      /* fast: e; general: TFLM's shift (positive: left) */
#define MG_DW3X3_WORDS 10
/* The assembly below hard-codes the weight offsets 4, 12 and 20 bytes. */
typedef char mg_dw3x3_layout_check[MG_DW3X3_ROWS == 1 && MG_DW3X3_WORDS == 10 ? 1 : -1];

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t depth_multiplier;
    int32_t output_h, output_w;
    int32_t stride_h, stride_w; /* 1 or 2 */
    int32_t pad_top, pad_left;
    /* The padded int16 plane: plane_w is even so that every pair load is 4-byte aligned. */
    int32_t plane_h, plane_w;
    /* Input rows and columns that land in the plane (the rest are never read). */
    int32_t copy_h, copy_w;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t activation_min, activation_max;
    int32_t fast_requantize;
    const int32_t *channel; /* MG_DW3X3_WORDS per output channel */
} mg_dw3x3_s8_params;

/* Two neighbouring int16 values of the plane as one word (an aligned LDR; the plane is read only
 * through memcpy, so no aliasing rule is bent). */
MG_DW_INLINE uint32_t mg_dw_pair(const int16_t *p)
{
    uint32_t v;
#if defined(__GNUC__) || defined(__clang__)
    memcpy(&v, __builtin_assume_aligned(p, 4), sizeof v);
#else
    memcpy(&v, p, sizeof v);
#endif
    return v;
}

/* TFLM's MultiplyByQuantizedMultiplier(acc, m, -e) + zp_out, from acc2 = 2 * acc.
 * TFLM computes x = floor((acc*m + 2^30) / 2^31) (the rounding doubling high multiply; m > 0
 * never saturates), then rounds x / 2^e half away from zero: floor((x + 2^(e-1) - [x<0]) / 2^e).
 * SMMLAR(acc2, m, r) = r + floor((2*acc*m + 2^31) / 2^32) = r + x, so with r = 2^(e-1) + zp*2^e
 * the result is (SMMLAR(acc2, m, r) - [acc<0]) >> e. [acc<0] may stand for [x<0]: they differ
 * only when x = 0 > acc, where both round to 0 for e >= 1. The lowering checks that 2 * acc and
 * x + r fit in 32 bits for every possible input.
 * When every negative x ends clamped anyway (activation_min >= zp_out, as after a fused ReLU), the
 * [acc<0] term can be dropped: for x < 0 both forms give at most zp_out. */
MG_DW_INLINE int32_t mg_dw3x3_requantize(int32_t acc2, int32_t multiplier, int32_t rounding, int32_t shift,
                                         int32_t negatives_clamped)
{
    const int32_t x = mg_smmlar(acc2, multiplier, rounding);
    return (negatives_clamped ? x : x + (acc2 >> 31)) >> shift;
}

MG_DW_INLINE int8_t mg_dw3x3_output(const mg_dw3x3_s8_params *p, const int32_t *k, int32_t acc)
{
    int32_t v;
    if (p->fast_requantize) {
        v = mg_dw3x3_requantize(acc, k[MG_DW3X3_MULTIPLIER], k[MG_DW3X3_ROUNDING], k[MG_DW3X3_SHIFT],
                                p->activation_min >= p->output_zero_point);
    } else {
        v = mg_multiply_by_quantized_multiplier(acc, k[MG_DW3X3_MULTIPLIER], k[MG_DW3X3_SHIFT]) + p->output_zero_point;
    }
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
    v = __ssat(v, 8);
#else
    v = v < -128 ? -128 : (v > 127 ? 127 : v);
#endif
    if (p->activation_min > -128 && v < p->activation_min) {
        v = p->activation_min;
    }
    if (p->activation_max < 127 && v > p->activation_max) {
        v = p->activation_max;
    }
    return (int8_t)v;
}

/* (lo, hi) as int16 lanes: one PKHBT on DSP cores (gcc otherwise spends UXTH + ORR). */
MG_DW_INLINE uint32_t mg_dw_pack(int32_t lo, int32_t hi)
{
#if MG_HAS_DSP && (defined(__GNUC__) || defined(__clang__))
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
#else
    return mg_pack16(lo, hi);
#endif
}

/* Two neighbouring plane values as one aligned word store. */
MG_DW_INLINE void mg_dw_store_pair(int16_t *p, uint32_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    memcpy(__builtin_assume_aligned(p, 4), &v, sizeof v);
#else
    memcpy(p, &v, sizeof v);
#endif
}

/* The channel at `image` (the first element of channel c of one batch's NHWC image) into the
 * interior of the plane; the border already holds the input zero point. The gather (one byte
 * every input_c) is the kernel's main cost besides the multiply-accumulates, so on DSP cores two
 * columns are packed into one word (PKHBT) and stored together, eight columns per iteration. */
MG_DW_INLINE void mg_dw3x3_copy_channel(const mg_dw3x3_s8_params *p, const int8_t *image, int16_t *plane)
{
    const size_t c = (size_t)p->input_c;
    int32_t y, x;
    for (y = 0; y < p->copy_h; ++y) {
        const int8_t *src = image + (size_t)y * p->input_w * c;
        int16_t *dst = plane + (size_t)(y + p->pad_top) * p->plane_w + p->pad_left;
        x = 0;
#if MG_USE_DSP
        if ((p->pad_left & 1) && x < p->copy_w) {
            /* Rows start word-aligned (plane_w is even): after an odd column, dst is aligned. */
            *dst++ = *src;
            src += c;
            ++x;
        }
        for (; x + 8 <= p->copy_w; x += 8) {
            mg_dw_store_pair(dst, mg_dw_pack(src[0], src[c]));
            mg_dw_store_pair(dst + 2, mg_dw_pack(src[2 * c], src[3 * c]));
            mg_dw_store_pair(dst + 4, mg_dw_pack(src[4 * c], src[5 * c]));
            mg_dw_store_pair(dst + 6, mg_dw_pack(src[6 * c], src[7 * c]));
            dst += 8;
            src += 8 * c;
        }
        if (x + 4 <= p->copy_w) {
            mg_dw_store_pair(dst, mg_dw_pack(src[0], src[c]));
            mg_dw_store_pair(dst + 2, mg_dw_pack(src[2 * c], src[3 * c]));
            dst += 4;
            src += 4 * c;
            x += 4;
        }
        if (x + 2 <= p->copy_w) {
            mg_dw_store_pair(dst, mg_dw_pack(src[0], src[c]));
            dst += 2;
            src += 2 * c;
            x += 2;
        }
#else
        for (; x + 4 <= p->copy_w; x += 4) {
            dst[0] = src[0];
            dst[1] = src[c];
            dst[2] = src[2 * c];
            dst[3] = src[3 * c];
            dst += 4;
            src += 4 * c;
        }
#endif
        for (; x < p->copy_w; ++x) {
            *dst++ = *src;
            src += c;
        }
    }
}

/* The packed weights of filter row r of the channel at k. */
#define MG_DW3X3_W01(k, r) ((uint32_t)(k)[MG_DW3X3_ROWS + 2 * (r)])
#define MG_DW3X3_W12(k, r) ((uint32_t)(k)[MG_DW3X3_ROWS + 2 * (r) + 1])

/* On Armv7E-M with gcc or clang, the MAC part of each output block is one inline assembly
 * statement (gcc spilled and shuffled registers between smaller ones). Per filter row: an LDRD of
 * the row's two weight words, LDRD/LDR of the plane row (offsets are literals; the three row
 * pointers come in registers) and the SMLAxy above. The bias is loaded into the accumulator that
 * each row template writes last, so the first row can start every accumulator from it. The
 * statement reads the plane and the table behind the compiler's back, hence the memory clobber. */
#if MG_HAS_DSP && (defined(__GNUC__) || defined(__clang__))
#define MG_DW3X3_ASM 1

/* One filter row: X is the row pointer operand, KO the byte offset of the row's weight words in
 * the channel's table (4 * (MG_DW3X3_ROWS + 2r) = 4, 12, 20), iN the accumulator each output
 * starts from. */

/* Stride 1, four outputs: L0 = (x0,x1), L2 = (x2,x3), then L4 = (x4,x5) into the register of L0. */
#define MG_DW3X3_ASM_S1_ROW4(X, KO, i0, i1, i2, i3)  \
    "ldrd %[w01], %[w12], [%[k], #" KO "]\n\t"       \
    "ldrd %[l0], %[l2], [" X "]\n\t"                 \
    "smlad %[a0], %[l0], %[w01], " i0 "\n\t"         \
    "smlatb %[a1], %[l0], %[w01], " i1 "\n\t"        \
    "smlabt %[a0], %[l2], %[w12], %[a0]\n\t"         \
    "smlad %[a1], %[l2], %[w12], %[a1]\n\t"          \
    "smlad %[a2], %[l2], %[w01], " i2 "\n\t"         \
    "smlatb %[a3], %[l2], %[w01], " i3 "\n\t"        \
    "ldr %[l0], [" X ", #8]\n\t"                     \
    "smlabt %[a2], %[l0], %[w12], %[a2]\n\t"         \
    "smlad %[a3], %[l0], %[w12], %[a3]\n\t"

/* Stride 2, four outputs: output j reads L(2j) with W01 and L(2j+2) with W12. */
#define MG_DW3X3_ASM_S2_ROW4(X, KO, i0, i1, i2, i3)  \
    "ldrd %[w01], %[w12], [%[k], #" KO "]\n\t"       \
    "ldrd %[l0], %[l2], [" X "]\n\t"                 \
    "smlad %[a0], %[l0], %[w01], " i0 "\n\t"         \
    "smlabt %[a0], %[l2], %[w12], %[a0]\n\t"         \
    "smlad %[a1], %[l2], %[w01], " i1 "\n\t"         \
    "ldrd %[l0], %[l2], [" X ", #8]\n\t"             \
    "smlabt %[a1], %[l0], %[w12], %[a1]\n\t"         \
    "smlad %[a2], %[l0], %[w01], " i2 "\n\t"         \
    "smlabt %[a2], %[l2], %[w12], %[a2]\n\t"         \
    "smlad %[a3], %[l2], %[w01], " i3 "\n\t"         \
    "ldr %[l0], [" X ", #16]\n\t"                    \
    "smlabt %[a3], %[l0], %[w12], %[a3]\n\t"

/* Stride 1, five outputs (a row of 4n + 1): L0, L2, then L4 and L6 into their registers. */
#define MG_DW3X3_ASM_S1_ROW5(X, KO, i0, i1, i2, i3, i4) \
    "ldrd %[w01], %[w12], [%[k], #" KO "]\n\t"       \
    "ldrd %[l0], %[l2], [" X "]\n\t"                 \
    "smlad %[a0], %[l0], %[w01], " i0 "\n\t"         \
    "smlatb %[a1], %[l0], %[w01], " i1 "\n\t"        \
    "smlabt %[a0], %[l2], %[w12], %[a0]\n\t"         \
    "smlad %[a1], %[l2], %[w12], %[a1]\n\t"          \
    "smlad %[a2], %[l2], %[w01], " i2 "\n\t"         \
    "smlatb %[a3], %[l2], %[w01], " i3 "\n\t"        \
    "ldrd %[l0], %[l2], [" X ", #8]\n\t"             \
    "smlabt %[a2], %[l0], %[w12], %[a2]\n\t"         \
    "smlad %[a3], %[l0], %[w12], %[a3]\n\t"          \
    "smlad %[a4], %[l0], %[w01], " i4 "\n\t"         \
    "smlabt %[a4], %[l2], %[w12], %[a4]\n\t"

#define MG_DW3X3_ASM_S1_ROW2(X, KO, i0, i1)          \
    "ldrd %[w01], %[w12], [%[k], #" KO "]\n\t"       \
    "ldrd %[l0], %[l2], [" X "]\n\t"                 \
    "smlad %[a0], %[l0], %[w01], " i0 "\n\t"         \
    "smlatb %[a1], %[l0], %[w01], " i1 "\n\t"        \
    "smlabt %[a0], %[l2], %[w12], %[a0]\n\t"         \
    "smlad %[a1], %[l2], %[w12], %[a1]\n\t"

#define MG_DW3X3_ASM_S2_ROW2(X, KO, i0, i1)          \
    "ldrd %[w01], %[w12], [%[k], #" KO "]\n\t"       \
    "ldrd %[l0], %[l2], [" X "]\n\t"                 \
    "smlad %[a0], %[l0], %[w01], " i0 "\n\t"         \
    "smlabt %[a0], %[l2], %[w12], %[a0]\n\t"         \
    "smlad %[a1], %[l2], %[w01], " i1 "\n\t"         \
    "ldr %[l0], [" X ", #8]\n\t"                     \
    "smlabt %[a1], %[l0], %[w12], %[a1]\n\t"

/* One output from columns 0-2 (either stride). */
#define MG_DW3X3_ASM_ROW1(X, KO, i0)                 \
    "ldrd %[w01], %[w12], [%[k], #" KO "]\n\t"       \
    "ldrd %[l0], %[l2], [" X "]\n\t"                 \
    "smlad %[a0], %[l0], %[w01], " i0 "\n\t"         \
    "smlabt %[a0], %[l2], %[w12], %[a0]\n\t"

/* The operands every block statement shares: temporaries, then the three row pointers and the
 * channel's table. */
#define MG_DW3X3_ASM_TEMPS [w01] "=&r"(w01_), [w12] "=&r"(w12_), [l0] "=&r"(l0_), [l2] "=&r"(l2_)
#define MG_DW3X3_ASM_INPUTS(x_, pw_, k_) \
    [x0] "r"(x_), [x1] "r"((x_) + (pw_)), [x2] "r"((x_) + 2 * (pw_)), [k] "r"(k_)

#define MG_DW3X3_ASM_BLOCK4(row, x_, pw_, k_, a0_, a1_, a2_, a3_)                                     \
    do {                                                                                            \
        uint32_t w01_, w12_, l0_, l2_;                                                              \
        __asm__("ldr %[a3], [%[k]]\n\t"                                                             \
                row("%[x0]", "4", "%[a3]", "%[a3]", "%[a3]", "%[a3]")                               \
                row("%[x1]", "12", "%[a0]", "%[a1]", "%[a2]", "%[a3]")                              \
                row("%[x2]", "20", "%[a0]", "%[a1]", "%[a2]", "%[a3]")                              \
                : [a0] "=&r"(a0_), [a1] "=&r"(a1_), [a2] "=&r"(a2_), [a3] "=&r"(a3_), MG_DW3X3_ASM_TEMPS \
                : MG_DW3X3_ASM_INPUTS(x_, pw_, k_)                                                  \
                : "memory");                                                                        \
    } while (0)

#define MG_DW3X3_ASM_BLOCK5_S1(x_, pw_, k_, a0_, a1_, a2_, a3_, a4_)                                  \
    do {                                                                                            \
        uint32_t w01_, w12_, l0_, l2_;                                                              \
        __asm__("ldr %[a4], [%[k]]\n\t"                                                             \
                MG_DW3X3_ASM_S1_ROW5("%[x0]", "4", "%[a4]", "%[a4]", "%[a4]", "%[a4]", "%[a4]")     \
                MG_DW3X3_ASM_S1_ROW5("%[x1]", "12", "%[a0]", "%[a1]", "%[a2]", "%[a3]", "%[a4]")    \
                MG_DW3X3_ASM_S1_ROW5("%[x2]", "20", "%[a0]", "%[a1]", "%[a2]", "%[a3]", "%[a4]")    \
                : [a0] "=&r"(a0_), [a1] "=&r"(a1_), [a2] "=&r"(a2_), [a3] "=&r"(a3_), [a4] "=&r"(a4_), \
                  MG_DW3X3_ASM_TEMPS                                                                \
                : MG_DW3X3_ASM_INPUTS(x_, pw_, k_)                                                  \
                : "memory");                                                                        \
    } while (0)

#define MG_DW3X3_ASM_BLOCK2(row, x_, pw_, k_, a0_, a1_)                                               \
    do {                                                                                            \
        uint32_t w01_, w12_, l0_, l2_;                                                              \
        __asm__("ldr %[a1], [%[k]]\n\t"                                                             \
                row("%[x0]", "4", "%[a1]", "%[a1]")                                                 \
                row("%[x1]", "12", "%[a0]", "%[a1]")                                                \
                row("%[x2]", "20", "%[a0]", "%[a1]")                                                \
                : [a0] "=&r"(a0_), [a1] "=&r"(a1_), MG_DW3X3_ASM_TEMPS                              \
                : MG_DW3X3_ASM_INPUTS(x_, pw_, k_)                                                  \
                : "memory");                                                                        \
    } while (0)

#define MG_DW3X3_ASM_BLOCK1(x_, pw_, k_, a0_)                                                         \
    do {                                                                                            \
        uint32_t w01_, w12_, l0_, l2_;                                                              \
        __asm__("ldr %[a0], [%[k]]\n\t"                                                             \
                MG_DW3X3_ASM_ROW1("%[x0]", "4", "%[a0]")                                            \
                MG_DW3X3_ASM_ROW1("%[x1]", "12", "%[a0]")                                           \
                MG_DW3X3_ASM_ROW1("%[x2]", "20", "%[a0]")                                           \
                : [a0] "=&r"(a0_), MG_DW3X3_ASM_TEMPS                                               \
                : MG_DW3X3_ASM_INPUTS(x_, pw_, k_)                                                  \
                : "memory");                                                                        \
    } while (0)
#else
#define MG_DW3X3_ASM 0
#endif

#if MG_USE_DSP

/* Filter row r's contribution to four outputs from the plane row at x: stride 1 (S1) or 2 (S2). */
#define MG_DW3X3_ROW4_S1(x, k, r, a0, a1, a2, a3)                                                   \
    do {                                                                                            \
        const uint32_t w01_ = MG_DW3X3_W01(k, r), w12_ = MG_DW3X3_W12(k, r);                       \
        const uint32_t l0_ = mg_dw_pair(x), l2_ = mg_dw_pair((x) + 2), l4_ = mg_dw_pair((x) + 4);   \
        a0 = mg_smlad(l0_, w01_, a0);                                                               \
        a0 = mg_smlabt(l2_, w12_, a0);                                                              \
        a1 = mg_smlatb(l0_, w01_, a1);                                                              \
        a1 = mg_smlad(l2_, w12_, a1);                                                               \
        a2 = mg_smlad(l2_, w01_, a2);                                                               \
        a2 = mg_smlabt(l4_, w12_, a2);                                                              \
        a3 = mg_smlatb(l2_, w01_, a3);                                                              \
        a3 = mg_smlad(l4_, w12_, a3);                                                               \
    } while (0)

#define MG_DW3X3_ROW4_S2(x, k, r, a0, a1, a2, a3)                                                   \
    do {                                                                                            \
        const uint32_t w01_ = MG_DW3X3_W01(k, r), w12_ = MG_DW3X3_W12(k, r);                       \
        const uint32_t l0_ = mg_dw_pair(x), l2_ = mg_dw_pair((x) + 2), l4_ = mg_dw_pair((x) + 4);   \
        const uint32_t l6_ = mg_dw_pair((x) + 6), l8_ = mg_dw_pair((x) + 8);                        \
        a0 = mg_smlad(l0_, w01_, a0);                                                               \
        a0 = mg_smlabt(l2_, w12_, a0);                                                              \
        a1 = mg_smlad(l2_, w01_, a1);                                                               \
        a1 = mg_smlabt(l4_, w12_, a1);                                                              \
        a2 = mg_smlad(l4_, w01_, a2);                                                               \
        a2 = mg_smlabt(l6_, w12_, a2);                                                              \
        a3 = mg_smlad(l6_, w01_, a3);                                                               \
        a3 = mg_smlabt(l8_, w12_, a3);                                                              \
    } while (0)

#define MG_DW3X3_ROW2_S1(x, k, r, a0, a1)                                                           \
    do {                                                                                            \
        const uint32_t w01_ = MG_DW3X3_W01(k, r), w12_ = MG_DW3X3_W12(k, r);                       \
        const uint32_t l0_ = mg_dw_pair(x), l2_ = mg_dw_pair((x) + 2);                              \
        a0 = mg_smlad(l0_, w01_, a0);                                                               \
        a0 = mg_smlabt(l2_, w12_, a0);                                                              \
        a1 = mg_smlatb(l0_, w01_, a1);                                                              \
        a1 = mg_smlad(l2_, w12_, a1);                                                               \
    } while (0)

#define MG_DW3X3_ROW2_S2(x, k, r, a0, a1)                                                           \
    do {                                                                                            \
        const uint32_t w01_ = MG_DW3X3_W01(k, r), w12_ = MG_DW3X3_W12(k, r);                       \
        const uint32_t l0_ = mg_dw_pair(x), l2_ = mg_dw_pair((x) + 2), l4_ = mg_dw_pair((x) + 4);   \
        a0 = mg_smlad(l0_, w01_, a0);                                                               \
        a0 = mg_smlabt(l2_, w12_, a0);                                                              \
        a1 = mg_smlad(l2_, w01_, a1);                                                               \
        a1 = mg_smlabt(l4_, w12_, a1);                                                              \
    } while (0)

/* One output from columns 0-2 (either stride). */
#define MG_DW3X3_ROW1(x, k, r, a0)                                                                  \
    do {                                                                                            \
        a0 = mg_smlad(mg_dw_pair(x), MG_DW3X3_W01(k, r), a0);                                       \
        a0 = mg_smlabt(mg_dw_pair((x) + 2), MG_DW3X3_W12(k, r), a0);                                \
    } while (0)

#else

/* Portable C: the same sums, one multiply per tap, the weights unpacked from the same table. */
#define MG_DW3X3_TAP0(k, r) ((int32_t)(int16_t)(MG_DW3X3_W01(k, r) & 0xFFFFu))
#define MG_DW3X3_TAP1(k, r) ((int32_t)(int16_t)(MG_DW3X3_W01(k, r) >> 16))
#define MG_DW3X3_TAP2(k, r) ((int32_t)(int16_t)(MG_DW3X3_W12(k, r) >> 16))
/* Output j of a block reads columns s*j .. s*j+2. */
#define MG_DW3X3_DOT(x, s, j, w0, w1, w2) ((x)[(s) * (j)] * (w0) + (x)[(s) * (j) + 1] * (w1) + (x)[(s) * (j) + 2] * (w2))

#define MG_DW3X3_ROW4(x, s, k, r, a0, a1, a2, a3)                                                   \
    do {                                                                                            \
        const int32_t w0_ = MG_DW3X3_TAP0(k, r), w1_ = MG_DW3X3_TAP1(k, r), w2_ = MG_DW3X3_TAP2(k, r); \
        a0 += MG_DW3X3_DOT(x, s, 0, w0_, w1_, w2_);                                                 \
        a1 += MG_DW3X3_DOT(x, s, 1, w0_, w1_, w2_);                                                 \
        a2 += MG_DW3X3_DOT(x, s, 2, w0_, w1_, w2_);                                                 \
        a3 += MG_DW3X3_DOT(x, s, 3, w0_, w1_, w2_);                                                 \
    } while (0)

#define MG_DW3X3_ROW2(x, s, k, r, a0, a1)                                                           \
    do {                                                                                            \
        const int32_t w0_ = MG_DW3X3_TAP0(k, r), w1_ = MG_DW3X3_TAP1(k, r), w2_ = MG_DW3X3_TAP2(k, r); \
        a0 += MG_DW3X3_DOT(x, s, 0, w0_, w1_, w2_);                                                 \
        a1 += MG_DW3X3_DOT(x, s, 1, w0_, w1_, w2_);                                                 \
    } while (0)

#define MG_DW3X3_ROW4_S1(x, k, r, a0, a1, a2, a3) MG_DW3X3_ROW4(x, 1, k, r, a0, a1, a2, a3)
#define MG_DW3X3_ROW4_S2(x, k, r, a0, a1, a2, a3) MG_DW3X3_ROW4(x, 2, k, r, a0, a1, a2, a3)
#define MG_DW3X3_ROW2_S1(x, k, r, a0, a1) MG_DW3X3_ROW2(x, 1, k, r, a0, a1)
#define MG_DW3X3_ROW2_S2(x, k, r, a0, a1) MG_DW3X3_ROW2(x, 2, k, r, a0, a1)
#define MG_DW3X3_ROW1(x, k, r, a0) \
    do { a0 += MG_DW3X3_DOT(x, 1, 0, MG_DW3X3_TAP0(k, r), MG_DW3X3_TAP1(k, r), MG_DW3X3_TAP2(k, r)); } while (0)

#endif

/* The accumulators of four (then two) neighbouring outputs whose first plane column is x. */
MG_DW_INLINE void mg_dw3x3_block4(const mg_dw3x3_s8_params *p, const int16_t *x, const int32_t *k, int32_t a[4])
{
    const int32_t pw = p->plane_w;
    int32_t a0, a1, a2, a3;
#if MG_DW3X3_ASM
    if (p->stride_w == 1) {
        MG_DW3X3_ASM_BLOCK4(MG_DW3X3_ASM_S1_ROW4, x, pw, k, a0, a1, a2, a3);
    } else {
        MG_DW3X3_ASM_BLOCK4(MG_DW3X3_ASM_S2_ROW4, x, pw, k, a0, a1, a2, a3);
    }
#else
    a0 = a1 = a2 = a3 = k[MG_DW3X3_BIAS];
    if (p->stride_w == 1) {
        MG_DW3X3_ROW4_S1(x, k, 0, a0, a1, a2, a3);
        MG_DW3X3_ROW4_S1(x + pw, k, 1, a0, a1, a2, a3);
        MG_DW3X3_ROW4_S1(x + 2 * pw, k, 2, a0, a1, a2, a3);
    } else {
        MG_DW3X3_ROW4_S2(x, k, 0, a0, a1, a2, a3);
        MG_DW3X3_ROW4_S2(x + pw, k, 1, a0, a1, a2, a3);
        MG_DW3X3_ROW4_S2(x + 2 * pw, k, 2, a0, a1, a2, a3);
    }
#endif
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

MG_DW_INLINE void mg_dw3x3_block2(const mg_dw3x3_s8_params *p, const int16_t *x, const int32_t *k, int32_t a[2])
{
    const int32_t pw = p->plane_w;
    int32_t a0, a1;
#if MG_DW3X3_ASM
    if (p->stride_w == 1) {
        MG_DW3X3_ASM_BLOCK2(MG_DW3X3_ASM_S1_ROW2, x, pw, k, a0, a1);
    } else {
        MG_DW3X3_ASM_BLOCK2(MG_DW3X3_ASM_S2_ROW2, x, pw, k, a0, a1);
    }
#else
    a0 = a1 = k[MG_DW3X3_BIAS];
    if (p->stride_w == 1) {
        MG_DW3X3_ROW2_S1(x, k, 0, a0, a1);
        MG_DW3X3_ROW2_S1(x + pw, k, 1, a0, a1);
        MG_DW3X3_ROW2_S1(x + 2 * pw, k, 2, a0, a1);
    } else {
        MG_DW3X3_ROW2_S2(x, k, 0, a0, a1);
        MG_DW3X3_ROW2_S2(x + pw, k, 1, a0, a1);
        MG_DW3X3_ROW2_S2(x + 2 * pw, k, 2, a0, a1);
    }
#endif
    a[0] = a0;
    a[1] = a1;
}

/* The accumulator of one output whose first plane column is x. */
MG_DW_INLINE int32_t mg_dw3x3_block1(const mg_dw3x3_s8_params *p, const int16_t *x, const int32_t *k)
{
    const int32_t pw = p->plane_w;
    int32_t a0;
#if MG_DW3X3_ASM
    MG_DW3X3_ASM_BLOCK1(x, pw, k, a0);
#else
    a0 = k[MG_DW3X3_BIAS];
    MG_DW3X3_ROW1(x, k, 0, a0);
    MG_DW3X3_ROW1(x + pw, k, 1, a0);
    MG_DW3X3_ROW1(x + 2 * pw, k, 2, a0);
#endif
    return a0;
}

/* Five outputs, stride 1: what a row of 4n + 1 outputs ends with instead of four plus one. */
MG_DW_INLINE void mg_dw3x3_block5_s1(const mg_dw3x3_s8_params *p, const int16_t *x, const int32_t *k, int32_t a[5])
{
#if MG_DW3X3_ASM
    const int32_t pw = p->plane_w;
    int32_t a0, a1, a2, a3, a4;
    MG_DW3X3_ASM_BLOCK5_S1(x, pw, k, a0, a1, a2, a3, a4);
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
    a[4] = a4;
#else
    mg_dw3x3_block4(p, x, k, a);
    a[4] = mg_dw3x3_block1(p, x + 4, k);
#endif
}

/* Every output of the output channel whose words are `k`, from its input channel's plane; `out`
 * is that channel's first output element of the batch (`restrict`: the stores do not touch the
 * table or the plane, so the compiler need not reload them). A row is computed in blocks of four
 * outputs, then two, then one; a stride-1 row of 4n + 1 ends with a block of five. */
MG_DW_INLINE void mg_dw3x3_channel_s8(const mg_dw3x3_s8_params *p, const int32_t *k, const int16_t *plane, int8_t *restrict out)
{
    const int32_t pw = p->plane_w;
    const size_t step = (size_t)p->input_c * p->depth_multiplier; /* between neighbouring outputs */
    const int ends_with_five = p->stride_w == 1 && p->output_w >= 5 && p->output_w % 4 == 1;
    const int32_t fours_end = ends_with_five ? p->output_w - 5 : p->output_w - p->output_w % 4;
    int32_t oy, ox, a[5];

    for (oy = 0; oy < p->output_h; ++oy) {
        const int16_t *row = plane + (size_t)oy * p->stride_h * pw;
        int8_t *restrict o = out + (size_t)oy * p->output_w * step;
        for (ox = 0; ox < fours_end; ox += 4) {
            mg_dw3x3_block4(p, row + (size_t)ox * p->stride_w, k, a);
            o[0] = mg_dw3x3_output(p, k, a[0]);
            o[step] = mg_dw3x3_output(p, k, a[1]);
            o[2 * step] = mg_dw3x3_output(p, k, a[2]);
            o[3 * step] = mg_dw3x3_output(p, k, a[3]);
            o += 4 * step;
        }
        if (ends_with_five) {
            mg_dw3x3_block5_s1(p, row + ox, k, a);
            o[0] = mg_dw3x3_output(p, k, a[0]);
            o[step] = mg_dw3x3_output(p, k, a[1]);
            o[2 * step] = mg_dw3x3_output(p, k, a[2]);
            o[3 * step] = mg_dw3x3_output(p, k, a[3]);
            o[4 * step] = mg_dw3x3_output(p, k, a[4]);
            continue;
        }
        if (ox + 2 <= p->output_w) {
            mg_dw3x3_block2(p, row + (size_t)ox * p->stride_w, k, a);
            o[0] = mg_dw3x3_output(p, k, a[0]);
            o[step] = mg_dw3x3_output(p, k, a[1]);
            o += 2 * step;
            ox += 2;
        }
        if (ox < p->output_w) {
            o[0] = mg_dw3x3_output(p, k, mg_dw3x3_block1(p, row + (size_t)ox * p->stride_w, k));
        }
    }
}

/* `plane` is scratch memory of plane_h * plane_w int16 values, 4-byte aligned. */
MG_DW_INLINE void mg_depthwise_conv_3x3_s8(const mg_dw3x3_s8_params *p, const int8_t *input, int16_t *plane, int8_t *output)
{
    const int32_t channels = p->input_c, multiplier = p->depth_multiplier;
    const size_t output_c = (size_t)channels * multiplier;
    int32_t b, c, m, i;

    for (i = 0; i < p->plane_h * p->plane_w; ++i) {
        plane[i] = (int16_t)p->input_zero_point;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * p->input_h * p->input_w * channels;
        int8_t *out = output + (size_t)b * p->output_h * p->output_w * output_c;
        for (c = 0; c < channels; ++c) {
            mg_dw3x3_copy_channel(p, image + c, plane);
            for (m = 0; m < multiplier; ++m) {
                const size_t oc = (size_t)c * multiplier + m;
                mg_dw3x3_channel_s8(p, p->channel + oc * MG_DW3X3_WORDS, plane, out + oc);
            }
        }
    }
}

#endif

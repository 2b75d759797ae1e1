/* The multiply-accumulate core of the fast int8 convolution and fully connected kernels.
 *
 * The reduction index k (filter row, column, input channel; or the input position of a fully
 * connected layer) is cut into groups of 4. Weights stay int8 in flash, 4 bytes per output and
 * group in k order. Activations are widened to int16 in RAM, each group stored in the order
 * k0, k2, k1, k3: that is what SXTB16 and SXTB16-ROR-8 of one int8 word produce, so widening
 * costs two instructions per 4 values, and weights widened the same way line up lane for lane:
 * one SMLAD then does two multiply-adds. The portable path reads the same memory as plain
 * values in the same order (the order of a sum does not matter to integer arithmetic).
 *
 * Convolution: each output pixel's patch is widened once into the scratch buffer (two pixels
 * interleaved, 16 bytes a group), for a block of pixels; then for each pair of output channels
 * the pair's weights are widened once into a small buffer (16 bytes a group) and every pixel
 * pair of the block is multiplied with it, 2 pixels x 2 channels at a time: per group one LDM of
 * activations, one LDM of weights and 8 SMLAD for 16 multiply-adds.
 * Fully connected: the input row is widened once, the weights of 4 outputs (16 bytes a group)
 * are widened as they are read: per group one LDRD, one LDM, 8 SXTB16 and 8 SMLAD. Or, when
 * the lowering allows (mg_fc_fast.h's "times 256" form), half the SXTB16 go: a weight word
 * w0 w1 w2 w3 is stored so that its two int16 lanes read as 256 * w1 + w0 and 256 * w3 + w2, and
 * the input group is prepared as the lanes (x1, x3) and (256 * x0 - x1 + 127, 256 * x2 - x3 + 127).
 * Then SMLAD((x1, x3), word) + SMLAD((256 x0 - x1 + 127, ...), SXTB16(word)) =
 * 256 * (x0 w0 + x1 w1 + x2 w2 + x3 w3) + 127 * (w0 + w2), and the last term is a constant the
 * lowering takes out of the bias. Per group: one LDRD, one LDM, 4 SXTB16 and 8 SMLAD.
 *
 * With MG_REQUANT_DOUBLED (mg_conv_requant.h) the sums must come out doubled: the convolution
 * doubles the weights as it widens them, the fully connected kernel its input row.
 *
 * On DSP cores the loops are assembly (mg_conv_gemm_asm.h); elsewhere C, through mg_dsp.h's
 * intrinsics (exact emulations on the host) or plain C. */
#ifndef MG_CONV_GEMM_H
#define MG_CONV_GEMM_H

#include "mg_common.h"
#include "mg_dsp.h"

#if MG_USE_DSP && MG_HAS_DSP && defined(__thumb2__)
#define MG_CONV_GEMM_ASM 1
#include "mg_conv_gemm_asm.h"
#else
#define MG_CONV_GEMM_ASM 0
#endif

#ifndef MG_CONV_INLINE
#if defined(__GNUC__) || defined(__clang__)
/* The drivers are inlined into each call so the compiler sees the operator's constant shapes. */
#define MG_CONV_INLINE static inline __attribute__((always_inline))
#else
#define MG_CONV_INLINE static inline
#endif
#endif

/* Widens `groups` groups of 4 int8 values from src (any alignment) to int16 in group order,
 * times 2 when `twice`, writing 8 bytes per group to dst (4-byte aligned) and moving on by
 * STRIDE bytes (a literal: 16 for the interleaved patches of two pixels, 8 for one row). */
#if MG_USE_DSP
#define MG_WIDEN_GROUPS(src, groups, dst, STRIDE, twice)                                               \
    do {                                                                                               \
        const int8_t *mg_src_ = (src);                                                                 \
        uint32_t *mg_dst_ = (uint32_t *)(void *)(dst);                                                 \
        int32_t mg_n_;                                                                                 \
        for (mg_n_ = (groups) >> 1; mg_n_ > 0; --mg_n_) {                                              \
            const uint32_t mg_x0_ = mg_read_u32(mg_src_), mg_x1_ = mg_read_u32(mg_src_ + 4);           \
            uint32_t mg_a_ = mg_sxtb16(mg_x0_), mg_b_ = mg_sxtb16_ror8(mg_x0_);                        \
            uint32_t mg_c_ = mg_sxtb16(mg_x1_), mg_d_ = mg_sxtb16_ror8(mg_x1_);                        \
            if (twice) {                                                                               \
                mg_a_ = mg_sadd16(mg_a_, mg_a_);                                                       \
                mg_b_ = mg_sadd16(mg_b_, mg_b_);                                                       \
                mg_c_ = mg_sadd16(mg_c_, mg_c_);                                                       \
                mg_d_ = mg_sadd16(mg_d_, mg_d_);                                                       \
            }                                                                                          \
            MG_STORE_PAIR_ADVANCE(mg_a_, mg_b_, mg_dst_, STRIDE);                                      \
            MG_STORE_PAIR_ADVANCE(mg_c_, mg_d_, mg_dst_, STRIDE);                                      \
            mg_src_ += 8;                                                                              \
        }                                                                                              \
        if ((groups) & 1) {                                                                            \
            const uint32_t mg_x0_ = mg_read_u32(mg_src_);                                              \
            uint32_t mg_a_ = mg_sxtb16(mg_x0_), mg_b_ = mg_sxtb16_ror8(mg_x0_);                        \
            if (twice) {                                                                               \
                mg_a_ = mg_sadd16(mg_a_, mg_a_);                                                       \
                mg_b_ = mg_sadd16(mg_b_, mg_b_);                                                       \
            }                                                                                          \
            MG_STORE_PAIR_ADVANCE(mg_a_, mg_b_, mg_dst_, STRIDE);                                      \
        }                                                                                              \
    } while (0)
#else
#define MG_WIDEN_GROUPS(src, groups, dst, STRIDE, twice)                                               \
    do {                                                                                               \
        const int8_t *mg_src_ = (src);                                                                 \
        int16_t *mg_dst_ = (dst);                                                                      \
        const int32_t mg_f_ = (twice) ? 2 : 1;                                                         \
        int32_t mg_g_;                                                                                 \
        for (mg_g_ = 0; mg_g_ < (groups); ++mg_g_) {                                                   \
            mg_dst_[0] = (int16_t)(mg_f_ * mg_src_[0]);                                                \
            mg_dst_[1] = (int16_t)(mg_f_ * mg_src_[2]);                                                \
            mg_dst_[2] = (int16_t)(mg_f_ * mg_src_[1]);                                                \
            mg_dst_[3] = (int16_t)(mg_f_ * mg_src_[3]);                                                \
            mg_src_ += 4;                                                                              \
            mg_dst_ += (STRIDE) / 2;                                                                   \
        }                                                                                              \
    } while (0)
#endif

/* The "times 256" form of `groups` groups of 4 int8 values from src (any alignment), 8 bytes a
 * group moving on by STRIDE bytes: the lanes (x1, x3), then (256 x0 - x1 + 127, 256 x2 - x3 + 127),
 * which fit in int16 for every int8 x (the + 127 centres the range). */
#if MG_USE_DSP
#define MG_PREPARE_X256_GROUPS(src, groups, dst, STRIDE)                                               \
    do {                                                                                               \
        const int8_t *mg_src_ = (src);                                                                 \
        uint32_t *mg_dst_ = (uint32_t *)(void *)(dst);                                                 \
        int32_t mg_g_;                                                                                 \
        for (mg_g_ = 0; mg_g_ < (groups); ++mg_g_) {                                                   \
            const uint32_t mg_x_ = mg_read_u32(mg_src_);                                               \
            const uint32_t mg_odd_ = mg_sxtb16_ror8(mg_x_);                                            \
            /* (x << 8) & 0xFF00FF00 is (256 x0, 256 x2) modulo 2^16 per lane. */                      \
            const uint32_t mg_gamma_ = mg_sadd16(mg_ssub16((mg_x_ << 8) & 0xFF00FF00u, mg_odd_), 0x007F007Fu); \
            MG_STORE_PAIR_ADVANCE(mg_odd_, mg_gamma_, mg_dst_, STRIDE);                                \
            mg_src_ += 4;                                                                              \
        }                                                                                              \
    } while (0)
#else
#define MG_PREPARE_X256_GROUPS(src, groups, dst, STRIDE)                                               \
    do {                                                                                               \
        const int8_t *mg_src_ = (src);                                                                 \
        int16_t *mg_dst_ = (dst);                                                                      \
        int32_t mg_g_;                                                                                 \
        for (mg_g_ = 0; mg_g_ < (groups); ++mg_g_) {                                                   \
            mg_dst_[0] = mg_src_[1];                                                                   \
            mg_dst_[1] = mg_src_[3];                                                                   \
            mg_dst_[2] = (int16_t)(256 * mg_src_[0] - mg_src_[1] + 127);                               \
            mg_dst_[3] = (int16_t)(256 * mg_src_[2] - mg_src_[3] + 127);                               \
            mg_src_ += 4;                                                                              \
            mg_dst_ += (STRIDE) / 2;                                                                   \
        }                                                                                              \
    } while (0)
#endif

/* `groups` groups of the int8 value v (a padding value), same layout as MG_WIDEN_GROUPS (or, when
 * x256, as MG_PREPARE_X256_GROUPS) with a stride of `stride` int16. */
MG_CONV_INLINE void mg_fill_groups(int32_t v, int32_t groups, int16_t *dst, int32_t stride, int x256)
{
    int32_t g;
    const uint32_t first = mg_pack16(v, v);
    const uint32_t second = x256 ? mg_pack16(255 * v + 127, 255 * v + 127) : first;
    for (g = 0; g < groups; ++g) {
        uint32_t *d = (uint32_t *)(void *)dst;
        d[0] = first;
        d[1] = second;
        dst += stride;
    }
}

/* Widens the weights of one pair of output channels (8 bytes a group: 4 of the first channel,
 * 4 of the second) into dst (16 bytes a group), times 2 when `twice`. */
MG_CONV_INLINE void mg_widen_weight_pair(const int8_t *src, int32_t groups, int16_t *dst, int twice)
{
    MG_WIDEN_GROUPS(src, 2 * groups, dst, 8, twice);
}

/* For each of `pixel_pairs` pixel pairs (patches 16 bytes a group, one pair after the other):
 * acc[0..3] = bias[0], bias[1], bias[0], bias[1] plus the dot products p0.c0, p0.c1, p1.c0, p1.c1
 * with the widened weight pair (16 bytes a group); then acc += 4. */
MG_CONV_INLINE void mg_dot_2x2_pixels(const int16_t *patches, const int16_t *weights, const int32_t *bias, int32_t *acc,
                                      int32_t pixel_pairs, int32_t groups)
{
#if MG_CONV_GEMM_ASM
    mg_dot_job job;
    job.activations = patches;
    job.weights = weights;
    job.bias = bias;
    job.acc = acc;
    job.blocks = pixel_pairs;
    job.groups = groups;
    mg_dot_2x2_pixels_asm(&job);
#else
    int32_t j, g;
    for (j = 0; j < pixel_pairs; ++j) {
        int32_t s00 = bias[0], s01 = bias[1], s10 = bias[0], s11 = bias[1];
#if MG_USE_DSP
        const uint32_t *a = (const uint32_t *)(const void *)patches;
        const uint32_t *w = (const uint32_t *)(const void *)weights;
        for (g = 0; g < groups; ++g) {
            uint32_t a0l, a0h, a1l, a1h, w0l, w0h, w1l, w1h;
            MG_LOAD_PAIR_ADVANCE(a0l, a0h, a, 8);
            MG_LOAD_PAIR_ADVANCE(a1l, a1h, a, 8);
            MG_LOAD_PAIR_ADVANCE(w0l, w0h, w, 8);
            MG_LOAD_PAIR_ADVANCE(w1l, w1h, w, 8);
            s00 = mg_smlad(a0h, w0h, mg_smlad(a0l, w0l, s00));
            s01 = mg_smlad(a0h, w1h, mg_smlad(a0l, w1l, s01));
            s10 = mg_smlad(a1h, w0h, mg_smlad(a1l, w0l, s10));
            s11 = mg_smlad(a1h, w1h, mg_smlad(a1l, w1l, s11));
        }
#else
        for (g = 0; g < groups; ++g) {
            const int16_t *a0 = patches + 8 * g, *a1 = a0 + 4, *w0 = weights + 8 * g, *w1 = w0 + 4;
            int32_t i;
            for (i = 0; i < 4; ++i) {
                s00 += (int32_t)a0[i] * w0[i];
                s01 += (int32_t)a0[i] * w1[i];
                s10 += (int32_t)a1[i] * w0[i];
                s11 += (int32_t)a1[i] * w1[i];
            }
        }
#endif
        acc[0] = s00;
        acc[1] = s01;
        acc[2] = s10;
        acc[3] = s11;
        acc += 4;
        patches += 8 * groups;
    }
#endif
}

#if !MG_USE_DSP
/* The four numbers the "times 256" form reads from a stored weight word (portable path): its two
 * int16 lanes and its bytes 0 and 2 as int8. Word loads and shifts, not byte loads. */
typedef struct {
    int32_t low, high, byte0, byte2;
} mg_x256_word;

MG_CONV_INLINE mg_x256_word mg_x256_split(const int8_t *w)
{
    const uint32_t word = mg_read_u32(w);
    mg_x256_word r;
    r.low = (int16_t)(word & 0xFFFFu);
    r.high = (int16_t)(word >> 16);
    r.byte0 = (int8_t)(word & 0xFFu);
    r.byte2 = (int8_t)((word >> 16) & 0xFFu);
    return r;
}
#endif

/* The "times 256" form for convolutions: for each of `pairs` output channel pairs (weights
 * stored for the form, 8 bytes a group: 4 per channel, one pair after the other):
 * acc[0..3] = bias[0], bias[1], bias[0], bias[1] plus the products with the two prepared patches
 * (16 bytes a group: each pixel's (x1, x3) and (256 x0 - x1 + 127, ...)); then acc += 4,
 * bias += 2. */
MG_CONV_INLINE void mg_dot_2x2_x256_blocks(const int16_t *patches, const int8_t *weights, const int32_t *bias,
                                           int32_t *acc, int32_t pairs, int32_t groups)
{
#if MG_CONV_GEMM_ASM
    mg_dot_job job;
    job.activations = patches;
    job.weights = (const int16_t *)(const void *)weights;
    job.bias = bias;
    job.acc = acc;
    job.blocks = pairs;
    job.groups = groups;
    mg_dot_2x2_x256_blocks_asm(&job);
#else
    int32_t j, g;
    for (j = 0; j < pairs; ++j) {
        int32_t s00 = bias[0], s01 = bias[1], s10 = bias[0], s11 = bias[1];
        for (g = 0; g < groups; ++g) {
            const int16_t *a = patches + 8 * g;
#if MG_USE_DSP
            uint32_t a0o, a0g, a1o, a1g;
            const uint32_t w0 = mg_read_u32(weights), w1 = mg_read_u32(weights + 4);
            memcpy(&a0o, a, 4);
            memcpy(&a0g, a + 2, 4);
            memcpy(&a1o, a + 4, 4);
            memcpy(&a1g, a + 6, 4);
            s00 = mg_smlad(a0g, mg_sxtb16(w0), mg_smlad(a0o, w0, s00));
            s10 = mg_smlad(a1g, mg_sxtb16(w0), mg_smlad(a1o, w0, s10));
            s01 = mg_smlad(a0g, mg_sxtb16(w1), mg_smlad(a0o, w1, s01));
            s11 = mg_smlad(a1g, mg_sxtb16(w1), mg_smlad(a1o, w1, s11));
#else
            const mg_x256_word w0 = mg_x256_split(weights), w1 = mg_x256_split(weights + 4);
            s00 += a[0] * w0.low + a[1] * w0.high + a[2] * w0.byte0 + a[3] * w0.byte2;
            s10 += a[4] * w0.low + a[5] * w0.high + a[6] * w0.byte0 + a[7] * w0.byte2;
            s01 += a[0] * w1.low + a[1] * w1.high + a[2] * w1.byte0 + a[3] * w1.byte2;
            s11 += a[4] * w1.low + a[5] * w1.high + a[6] * w1.byte0 + a[7] * w1.byte2;
#endif
            weights += 8;
        }
        acc[0] = s00;
        acc[1] = s01;
        acc[2] = s10;
        acc[3] = s11;
        acc += 4;
        bias += 2;
    }
#endif
}

/* For each of `quads` blocks of 4 outputs (int8 weights, 16 bytes a group: 4 per output):
 * acc[0..3] = bias[0..3] plus the dot products of the widened input row (8 bytes a group) with
 * the 4 outputs' weights; then acc += 4, bias += 4. */
MG_CONV_INLINE void mg_dot_1x4_blocks(const int16_t *input, const int8_t *weights, const int32_t *bias, int32_t *acc,
                                      int32_t quads, int32_t groups)
{
#if MG_CONV_GEMM_ASM
    mg_dot_job job;
    job.activations = input;
    job.weights = (const int16_t *)(const void *)weights;
    job.bias = bias;
    job.acc = acc;
    job.blocks = quads;
    job.groups = groups;
    mg_dot_1x4_blocks_asm(&job);
#else
    int32_t j, g, r;
    for (j = 0; j < quads; ++j) {
        int32_t s[4];
        for (r = 0; r < 4; ++r) s[r] = bias[r];
        for (g = 0; g < groups; ++g) {
#if MG_USE_DSP
            uint32_t xl, xh;
            memcpy(&xl, input + 4 * g, 4);
            memcpy(&xh, input + 4 * g + 2, 4);
            for (r = 0; r < 4; ++r) {
                const uint32_t w = mg_read_u32(weights + 4 * r);
                s[r] = mg_smlad(xh, mg_sxtb16_ror8(w), mg_smlad(xl, mg_sxtb16(w), s[r]));
            }
#else
            const int16_t *x = input + 4 * g;
            for (r = 0; r < 4; ++r) {
                const int8_t *w = weights + 4 * r;
                s[r] += (int32_t)x[0] * w[0] + (int32_t)x[1] * w[2] + (int32_t)x[2] * w[1] + (int32_t)x[3] * w[3];
            }
#endif
            weights += 16;
        }
        for (r = 0; r < 4; ++r) acc[r] = s[r];
        acc += 4;
        bias += 4;
    }
#endif
}

/* As mg_dot_1x4_blocks for the "times 256" form: input prepared by mg_prepare_x256_groups,
 * weights stored as 16-bit lanes 256 * w1 + w0, 256 * w3 + w2. The sums come out as 256 times the
 * dot product plus 127 times the sum of the weights at even positions (plus the bias). */
MG_CONV_INLINE void mg_dot_1x4_x256_blocks(const int16_t *input, const int8_t *weights, const int32_t *bias,
                                           int32_t *acc, int32_t quads, int32_t groups)
{
#if MG_CONV_GEMM_ASM
    mg_dot_job job;
    job.activations = input;
    job.weights = (const int16_t *)(const void *)weights;
    job.bias = bias;
    job.acc = acc;
    job.blocks = quads;
    job.groups = groups;
    mg_dot_1x4_x256_blocks_asm(&job);
#else
    int32_t j, g;
    for (j = 0; j < quads; ++j) {
        int32_t s0 = bias[0], s1 = bias[1], s2 = bias[2], s3 = bias[3];
        for (g = 0; g < groups; ++g) {
#if MG_USE_DSP
            uint32_t odd, gamma;
            memcpy(&odd, input + 4 * g, 4);
            memcpy(&gamma, input + 4 * g + 2, 4);
#define MG_DOT_X256_ROW(s, r)                                                                          \
    do {                                                                                               \
        const uint32_t w_ = mg_read_u32(weights + 4 * (r));                                            \
        s = mg_smlad(gamma, mg_sxtb16(w_), mg_smlad(odd, w_, s));                                      \
    } while (0)
#else
            const int32_t x0 = input[4 * g], x1 = input[4 * g + 1], x2 = input[4 * g + 2], x3 = input[4 * g + 3];
#define MG_DOT_X256_ROW(s, r)                                                                          \
    do {                                                                                               \
        const mg_x256_word w_ = mg_x256_split(weights + 4 * (r));                                      \
        s += x0 * w_.low + x1 * w_.high + x2 * w_.byte0 + x3 * w_.byte2;                               \
    } while (0)
#endif
            MG_DOT_X256_ROW(s0, 0);
            MG_DOT_X256_ROW(s1, 1);
            MG_DOT_X256_ROW(s2, 2);
            MG_DOT_X256_ROW(s3, 3);
#undef MG_DOT_X256_ROW
            weights += 16;
        }
        acc[0] = s0;
        acc[1] = s1;
        acc[2] = s2;
        acc[3] = s3;
        acc += 4;
        bias += 4;
    }
#endif
}

#endif

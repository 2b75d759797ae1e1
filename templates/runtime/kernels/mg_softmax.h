/* SOFTMAX over the last axis: the input is read as rows of `depth` values.
 *
 * int8 follows TensorFlow Lite Micro's reference kernel bit for bit. Each difference to the
 * row maximum is scaled by beta * input_scale into Q5.26 with a compile-time multiplier,
 * exponentiated in fixed point (exact for differences down to -32; those below diff_min are
 * treated as exp = 0), summed in Q12.19, and every exp is multiplied by a fixed-point
 * reciprocal of the sum. The output scale is 1/256 and its zero point -128. */
#ifndef MG_SOFTMAX_H
#define MG_SOFTMAX_H

#include <math.h>

#include "mg_common.h"
#include "mg_fixedpoint_activation.h"

typedef struct {
    int32_t rows;
    int32_t depth;
    /* beta * input_scale * 2^26 as a Q31 multiplier and a left shift. */
    int32_t input_multiplier;
    int32_t input_left_shift;
    /* Most negative difference (in input steps) whose exp still counts. */
    int32_t diff_min;
} mg_softmax_s8_params;

typedef struct {
    int32_t rows;
    int32_t depth;
    float beta;
} mg_softmax_f32_params;

static inline int mg_softmax_count_leading_zeros(uint32_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return x == 0 ? 32 : __builtin_clz(x);
#else
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
#endif
}

/* 1/x for x > 0 in Q(integer_bits): x is normalized to [1, 2) and the reciprocal returned in
 * Q0 (in (1/2, 1]); *bits_over_unit says how many powers of two the normalization removed. */
static inline int32_t mg_softmax_reciprocal(int32_t x, int integer_bits, int *bits_over_unit)
{
    const int headroom_plus_one = mg_softmax_count_leading_zeros((uint32_t)x);
    const int32_t normalized_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one) - 0x80000000u);
    *bits_over_unit = integer_bits - headroom_plus_one;
    return mg_fp_one_over_one_plus_x(normalized_minus_one);
}

/* exp(beta * input_scale * diff) in Q0 for diff <= 0 and diff >= diff_min. */
static inline int32_t mg_softmax_exp_of_diff(const mg_softmax_s8_params *p, int32_t diff)
{
    /* diff_min bounds |diff| * 2^left_shift below 32 * 2^26, so the shift cannot overflow. */
    const int32_t scaled_diff = mg_sat_rounding_doubling_high_mul(
        (int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
    return mg_fp_exp_on_negative_values(scaled_diff, 5);
}

static inline void mg_softmax_s8(const mg_softmax_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t r, c;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *in = input + (size_t)r * p->depth;
        int8_t *out = output + (size_t)r * p->depth;
        int32_t max = -128;
        int32_t sum_of_exps = 0; /* Q12.19 */
        int bits_over_unit;
        int32_t reciprocal;
        int exponent;

        for (c = 0; c < p->depth; ++c) {
            max = MG_MAX(max, (int32_t)in[c]);
        }
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max;
            if (diff >= p->diff_min) {
                /* Q0 -> Q12: a rounding shift right by 12. */
                sum_of_exps += mg_rounding_divide_by_pot(mg_softmax_exp_of_diff(p, diff), 12);
            }
        }
        reciprocal = mg_softmax_reciprocal(sum_of_exps, 12, &bits_over_unit);
        /* exp / sum in Q0, rescaled to 8 bits: 256 output steps span [0, 1). */
        exponent = bits_over_unit + 31 - 8;
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max;
            if (diff >= p->diff_min) {
                const int32_t probability = mg_rounding_divide_by_pot(
                    mg_sat_rounding_doubling_high_mul(reciprocal, mg_softmax_exp_of_diff(p, diff)), exponent);
                out[c] = mg_clamp_s8(probability - 128, -128, 127);
            } else {
                out[c] = -128;
            }
        }
    }
}

static inline void mg_softmax_f32(const mg_softmax_f32_params *p, const float *input, float *output)
{
    int32_t r, c;
    for (r = 0; r < p->rows; ++r) {
        const float *in = input + (size_t)r * p->depth;
        float *out = output + (size_t)r * p->depth;
        float max = -3.40282347e+38f;
        float sum = 0.0f;
        for (c = 0; c < p->depth; ++c) {
            max = in[c] > max ? in[c] : max;
        }
        /* Subtracting the maximum keeps expf from overflowing; the ratio is unchanged. */
        for (c = 0; c < p->depth; ++c) {
            const float e = expf((in[c] - max) * p->beta);
            out[c] = e;
            sum += e;
        }
        for (c = 0; c < p->depth; ++c) {
            out[c] = out[c] / sum;
        }
    }
}

#endif

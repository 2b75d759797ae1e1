/* FULLY_CONNECTED: input [batches, depth] (any input shape flattened that way), weights
 * [output_depth, depth], output [batches, output_depth].
 *
 * int8 follows TFLite Micro's reference kernel bit for bit. The reference computes
 * sum((w - zp_w) * (x - zp_x)) + bias; expanded, everything but sum(w * x) and zp_w * sum(x)
 * is a compile-time constant per output channel and lives in folded_bias
 * (bias - zp_x * sum(w) + depth * zp_x * zp_w). Weights are symmetric (zp_w = 0) in every
 * model the converter writes, so the sum(x) term is normally skipped. */
#ifndef MG_FULLY_CONNECTED_H
#define MG_FULLY_CONNECTED_H

#include "mg_common.h"

typedef struct {
    int32_t batches;
    int32_t depth;
    int32_t output_depth;
    int32_t weights_zero_point;
    int32_t output_zero_point;
    int32_t activation_min, activation_max;
    const int32_t *folded_bias;
    /* One entry per output channel when per_channel, else one entry for all. */
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t per_channel;
} mg_fully_connected_s8_params;

static inline void mg_fully_connected_s8(const mg_fully_connected_s8_params *p, const int8_t *input,
                                         const int8_t *weights, int8_t *output)
{
    int32_t b, oc, d;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * p->depth;
        int32_t input_sum = 0;
        if (p->weights_zero_point != 0) {
            for (d = 0; d < p->depth; ++d) {
                input_sum += x[d];
            }
        }
        for (oc = 0; oc < p->output_depth; ++oc) {
            const int8_t *w = weights + (size_t)oc * p->depth;
            const int32_t q = p->per_channel ? oc : 0;
            int32_t acc = p->folded_bias[oc] - p->weights_zero_point * input_sum;
            for (d = 0; d < p->depth; ++d) {
                acc += (int32_t)w[d] * (int32_t)x[d];
            }
            acc = mg_multiply_by_quantized_multiplier(acc, p->multiplier[q], p->shift[q]) + p->output_zero_point;
            output[(size_t)b * p->output_depth + oc] = mg_clamp_s8(acc, p->activation_min, p->activation_max);
        }
    }
}

typedef struct {
    int32_t batches;
    int32_t depth;
    int32_t output_depth;
    float activation_min, activation_max;
} mg_fully_connected_f32_params;

/* bias may be NULL. Sums in TFLM's order, then adds the bias. */
static inline void mg_fully_connected_f32(const mg_fully_connected_f32_params *p, const float *input,
                                          const float *weights, const float *bias, float *output)
{
    int32_t b, oc, d;

    for (b = 0; b < p->batches; ++b) {
        const float *x = input + (size_t)b * p->depth;
        for (oc = 0; oc < p->output_depth; ++oc) {
            const float *w = weights + (size_t)oc * p->depth;
            float total = 0.0f;
            for (d = 0; d < p->depth; ++d) {
                total += x[d] * w[d];
            }
            if (bias) {
                total += bias[oc];
            }
            output[(size_t)b * p->output_depth + oc] = mg_clamp_f32(total, p->activation_min, p->activation_max);
        }
    }
}

#endif

/* MEAN over any set of axes of a tensor of rank <= 4 (missing leading dimensions are 1).
 *
 * The shape is split at compile time into kept extents (1 on reduced axes) and reduced
 * extents (1 on kept axes). Outputs are produced in row-major order of the kept axes, which
 * is the output layout with or without keep_dims, and each one sums its inputs in row-major
 * order of the reduced axes: the order in which the TensorFlow Lite Micro reference visits
 * them, so float sums round the same way.
 *
 * int8: (sum - count * zp_in) times one multiplier folding input_scale / output_scale and
 * 1 / count (computed at compile time), plus zp_out, saturated. The TFLM we match (PyPI
 * tflite-micro 0.dev20261023182759) takes this path even when input and output share
 * quantization and for axes [1, 2] with keep_dims; older TFLM versions divided the raw sum,
 * or rounded the division separately. Checked on 90 random shapes, axes and quantizations. */
#ifndef MG_MEAN_H
#define MG_MEAN_H

#include "mg_common.h"

typedef struct {
    int32_t kept[4];
    int32_t reduced[4];
    /* Input element strides of the four dimensions. */
    int32_t strides[4];
    /* Number of inputs averaged into each output. */
    int32_t count;
    /* int8 only. */
    int32_t multiplier;
    int32_t shift;
    int32_t input_zero_point;
    int32_t output_zero_point;
} mg_mean_params;

static inline int32_t mg_mean_sum_s8(const mg_mean_params *p, const int8_t *base)
{
    int32_t sum = 0;
    int32_t r0, r1, r2, r3;
    for (r0 = 0; r0 < p->reduced[0]; ++r0) {
        for (r1 = 0; r1 < p->reduced[1]; ++r1) {
            for (r2 = 0; r2 < p->reduced[2]; ++r2) {
                const int8_t *row = base + (size_t)r0 * p->strides[0] + (size_t)r1 * p->strides[1] +
                                    (size_t)r2 * p->strides[2];
                for (r3 = 0; r3 < p->reduced[3]; ++r3) {
                    sum += row[(size_t)r3 * p->strides[3]];
                }
            }
        }
    }
    return sum;
}

static inline float mg_mean_sum_f32(const mg_mean_params *p, const float *base)
{
    float sum = 0.0f;
    int32_t r0, r1, r2, r3;
    for (r0 = 0; r0 < p->reduced[0]; ++r0) {
        for (r1 = 0; r1 < p->reduced[1]; ++r1) {
            for (r2 = 0; r2 < p->reduced[2]; ++r2) {
                const float *row = base + (size_t)r0 * p->strides[0] + (size_t)r1 * p->strides[1] +
                                   (size_t)r2 * p->strides[2];
                for (r3 = 0; r3 < p->reduced[3]; ++r3) {
                    sum += row[(size_t)r3 * p->strides[3]];
                }
            }
        }
    }
    return sum;
}

static inline void mg_mean_s8(const mg_mean_params *p, const int8_t *input, int8_t *output)
{
    int32_t k0, k1, k2, k3;
    for (k0 = 0; k0 < p->kept[0]; ++k0) {
        for (k1 = 0; k1 < p->kept[1]; ++k1) {
            for (k2 = 0; k2 < p->kept[2]; ++k2) {
                for (k3 = 0; k3 < p->kept[3]; ++k3) {
                    const int8_t *base = input + (size_t)k0 * p->strides[0] + (size_t)k1 * p->strides[1] +
                                         (size_t)k2 * p->strides[2] + (size_t)k3 * p->strides[3];
                    const int32_t sum = mg_mean_sum_s8(p, base) - p->count * p->input_zero_point;
                    const int32_t value =
                        mg_multiply_by_quantized_multiplier(sum, p->multiplier, p->shift) + p->output_zero_point;
                    *output++ = mg_clamp_s8(value, -128, 127);
                }
            }
        }
    }
}

static inline void mg_mean_f32(const mg_mean_params *p, const float *input, float *output)
{
    int32_t k0, k1, k2, k3;
    for (k0 = 0; k0 < p->kept[0]; ++k0) {
        for (k1 = 0; k1 < p->kept[1]; ++k1) {
            for (k2 = 0; k2 < p->kept[2]; ++k2) {
                for (k3 = 0; k3 < p->kept[3]; ++k3) {
                    const float *base = input + (size_t)k0 * p->strides[0] + (size_t)k1 * p->strides[1] +
                                        (size_t)k2 * p->strides[2] + (size_t)k3 * p->strides[3];
                    *output++ = mg_mean_sum_f32(p, base) / (float)p->count;
                }
            }
        }
    }
}

#endif

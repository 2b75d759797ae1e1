/* QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32).
 *
 * Each kernel reproduces the TensorFlow Lite Micro reference arithmetic:
 * - quantize: round(x / scale) + zero_point, clamped to int8. TFLM divides in single precision
 *   (it does not multiply by 1/scale, which rounds differently) and rounds half away from zero.
 * - requantize: (q - zp_in) times the fixed-point multiplier for scale_in / scale_out, plus zp_out,
 *   clamped, with the same double-rounding multiply as every other int8 kernel.
 * - dequantize: scale * (q - zero_point), computed in single precision. */
#ifndef MG_QUANTIZE_H
#define MG_QUANTIZE_H

#include "mg_common.h"

typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} mg_quantize_params;

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t multiplier;
    int32_t shift;
    int32_t output_zero_point;
} mg_requantize_params;

typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} mg_dequantize_params;

/* round(t), halves away from zero (C's roundf), for |t| <= 1024. The integer part is exact in
 * float in that range, so the fraction t - trunc(t) is exact too: no libm needed. */
static inline int32_t mg_round_half_away_small(float t)
{
    int32_t whole = (int32_t)t;
    float fraction = t - (float)whole;
    if (fraction >= 0.5f) {
        return whole + 1;
    }
    if (fraction <= -0.5f) {
        return whole - 1;
    }
    return whole;
}

static inline void mg_quantize_f32_s8(const mg_quantize_params *p, const float *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        float t = in[i] / p->scale;
        int32_t q;
        /* Anything beyond +-1024 clamps to the int8 range whatever the zero point is, so saturate
         * before converting to an integer (the conversion of a huge float is undefined in C).
         * NaN fails both comparisons and lands on the low side. */
        if (!(t >= -1024.0f)) {
            q = -1024;
        } else if (t > 1024.0f) {
            q = 1024;
        } else {
            q = mg_round_half_away_small(t);
        }
        out[i] = mg_clamp_s8(q + p->zero_point, -128, 127);
    }
}

static inline void mg_requantize_s8_s8(const mg_requantize_params *p, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        int32_t scaled = mg_multiply_by_quantized_multiplier((int32_t)in[i] - p->input_zero_point,
                                                             p->multiplier, p->shift);
        out[i] = mg_clamp_s8(scaled + p->output_zero_point, -128, 127);
    }
}

static inline void mg_dequantize_s8_f32(const mg_dequantize_params *p, const int8_t *in, float *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = p->scale * (float)((int32_t)in[i] - p->zero_point);
    }
}

#endif

/* Elementwise activations: LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU and HARD_SWISH, on int8
 * and float32 tensors of any shape (they only see a flat element count).
 *
 * The int8 kernels reproduce TensorFlow Lite Micro's reference kernels bit for bit; every
 * multiplier, shift and bound is computed by the compiler the way TFLM's Prepare computes
 * it, so the kernels only do the per-element arithmetic. */
#ifndef MG_ACTIVATION_H
#define MG_ACTIVATION_H

#include <math.h>

#include "mg_common.h"
#include "mg_fixedpoint_activation.h"

/* ---- LOGISTIC and TANH, int8 ----------------------------------------------------------- */

/* The input is rescaled to Q4 (4 integer bits) before the fixed-point curve. Inputs at or
 * beyond the radius would overflow that rescaling and saturate the curve anyway. */
typedef struct {
    int32_t count;
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
} mg_sigmoid_s8_params;

/* Output quantization is fixed by TFLite: scale 1/256, zero point -128. */
static inline void mg_logistic_s8(const mg_sigmoid_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= p->input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            int32_t x_q4 = mg_multiply_by_quantized_multiplier(x, p->input_multiplier, p->input_left_shift);
            /* Q0 (31 fractional bits) to 8 fractional bits, then the -128 zero point. */
            int32_t y = mg_rounding_divide_by_pot(mg_fp_logistic(x_q4, 4), 23) - 128;
            output[i] = mg_clamp_s8(y, INT8_MIN, INT8_MAX);
        }
    }
}

/* Output quantization is fixed by TFLite: scale 1/128, zero point 0. */
static inline void mg_tanh_s8(const mg_sigmoid_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= p->input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            int32_t x_q4 = mg_multiply_by_quantized_multiplier(x, p->input_multiplier, p->input_left_shift);
            /* Q0 (31 fractional bits) to 7 fractional bits. */
            int32_t y = mg_rounding_divide_by_pot(mg_fp_tanh(x_q4, 4), 24);
            output[i] = mg_clamp_s8(y, INT8_MIN, INT8_MAX);
        }
    }
}

/* ---- RELU and RELU6, int8 -------------------------------------------------------------- */

/* RELU requantizes from the input scale to the output scale, then clamps below at the
 * output zero point (real 0). */
typedef struct {
    int32_t count;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t output_multiplier;
    int32_t output_shift; /* positive for a left shift */
    int32_t activation_min;
    int32_t activation_max;
} mg_relu_s8_params;

static inline void mg_relu_s8(const mg_relu_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        int32_t y = p->output_zero_point +
                    mg_multiply_by_quantized_multiplier((int32_t)input[i] - p->input_zero_point,
                                                        p->output_multiplier, p->output_shift);
        output[i] = mg_clamp_s8(y, p->activation_min, p->activation_max);
    }
}

/* RELU6 as TFLM runs it: a clamp between the input's quantized 0 and 6, with no rescaling
 * (TFLM assumes the output shares the input's quantization). */
typedef struct {
    int32_t count;
    int32_t lower;
    int32_t upper;
} mg_relu6_s8_params;

static inline void mg_relu6_s8(const mg_relu6_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        output[i] = mg_clamp_s8(input[i], p->lower, p->upper);
    }
}

/* ---- LEAKY_RELU, int8 ------------------------------------------------------------------ */

/* Two requantizations: the identity for x >= 0 and alpha times it for x < 0. A negative alpha
 * is applied as a positive multiplier whose result is negated (TFLM does the same, so the
 * rounding of ties matches). */
typedef struct {
    int32_t count;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t identity_multiplier;
    int32_t identity_shift;
    int32_t alpha_multiplier; /* |multiplier| */
    int32_t alpha_shift;
    int32_t alpha_is_negative;
} mg_leaky_relu_s8_params;

static inline void mg_leaky_relu_s8(const mg_leaky_relu_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        int32_t x = (int32_t)input[i] - p->input_zero_point;
        int32_t y;
        if (x >= 0) {
            y = mg_multiply_by_quantized_multiplier(x, p->identity_multiplier, p->identity_shift);
        } else {
            y = mg_multiply_by_quantized_multiplier(x, p->alpha_multiplier, p->alpha_shift);
            if (p->alpha_is_negative) {
                y = -y;
            }
        }
        output[i] = mg_clamp_s8(p->output_zero_point + y, INT8_MIN, INT8_MAX);
    }
}

/* ---- HARD_SWISH, int8 ------------------------------------------------------------------ */

/* x * relu6(x + 3) / 6 in 16-bit fixed point (TFLM's recipe): the input goes to a "hires"
 * scale (x * 2^7); one 16-bit multiplier takes it to the output scale (before a final right
 * shift), another maps [-3, 3] onto [-1, 1] (the "reluish" factor, saturating outside). */
typedef struct {
    int32_t count;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t output_multiplier; /* Q15 */
    int32_t output_exponent;   /* <= 0 */
    int32_t reluish_multiplier; /* Q15 */
    int32_t reluish_exponent;
} mg_hard_swish_s8_params;

/* gemmlowp's 16-bit SaturatingRoundingDoublingHighMul. */
static inline int16_t mg_sat_rounding_doubling_high_mul_s16(int16_t a, int16_t b)
{
    int32_t ab;
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    ab = (int32_t)a * (int32_t)b;
    return (int16_t)((ab + (ab >= 0 ? (1 << 14) : (1 - (1 << 14)))) / (1 << 15));
}

/* gemmlowp's RoundingDivideByPOT on int16 values, including its behaviour for exponents of
 * 16 and more (the mask is truncated to 16 bits), so that extreme scales still match. */
static inline int16_t mg_rounding_divide_by_pot_s16(int16_t x, int exponent)
{
    int32_t mask = exponent >= 16 ? -1 : (int32_t)((1 << exponent) - 1);
    int32_t remainder = (int32_t)(int16_t)(x & mask);
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (int16_t)(((int32_t)x >> exponent) + (remainder > threshold ? 1 : 0));
}

/* x * 2^amount saturated to int16 (amount < 32). */
static inline int16_t mg_saturating_shift_left_s16(int16_t x, int amount)
{
    int64_t shifted = (int64_t)x * ((int64_t)1 << amount);
    return (int16_t)(shifted < INT16_MIN ? INT16_MIN : (shifted > INT16_MAX ? INT16_MAX : shifted));
}

/* The same, truncating toward zero instead of rounding (ARM SQDMULH). TFLM uses it for the
 * last product on purpose, to cancel the rounding bias of the earlier ones. */
static inline int16_t mg_sat_doubling_high_mul_s16(int16_t a, int16_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

static inline void mg_hard_swish_s8(const mg_hard_swish_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        int16_t x_hires = (int16_t)(((int32_t)input[i] - p->input_zero_point) * 128);
        int16_t x_on_preshift_output_scale =
            mg_sat_rounding_doubling_high_mul_s16(x_hires, (int16_t)p->output_multiplier);
        int16_t reluish = x_hires;
        int16_t preshift_output;
        int32_t y;
        /* Left shifts saturate; all but the last bit of a left shift go before the multiply so
         * any saturation that matters happens in that last bit. */
        if (p->reluish_exponent > 0) {
            reluish = mg_saturating_shift_left_s16(reluish, p->reluish_exponent - 1);
        }
        reluish = mg_sat_rounding_doubling_high_mul_s16(reluish, (int16_t)p->reluish_multiplier);
        if (p->reluish_exponent > 0) {
            reluish = mg_saturating_shift_left_s16(reluish, 1);
        }
        if (p->reluish_exponent < 0) {
            reluish = mg_rounding_divide_by_pot_s16(reluish, -p->reluish_exponent);
        }
        /* [-1, 1] -> [0, 1] */
        reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
        preshift_output = mg_sat_doubling_high_mul_s16(reluish, x_on_preshift_output_scale);
        y = mg_rounding_divide_by_pot_s16(preshift_output, -p->output_exponent);
        /* TFLM adds the zero point in 16 bits before clamping to int8. */
        y = (int16_t)(y + p->output_zero_point);
        output[i] = mg_clamp_s8(y, INT8_MIN, INT8_MAX);
    }
}

/* ---- float32 --------------------------------------------------------------------------- */

typedef struct {
    int32_t count;
} mg_activation_f32_params;

/* TFLM's reference logistic: saturate above 16.619047 and use exp(x) below -9, where
 * 1/(1+exp(-x)) would lose all precision or overflow. */
static inline void mg_logistic_f32(const mg_activation_f32_params *p, const float *input, float *output)
{
    const float cutoff_upper = 16.619047164916992188f;
    const float cutoff_lower = -9.0f;
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        float v = input[i];
        float r;
        if (v > cutoff_upper) {
            r = 1.0f;
        } else if (v < cutoff_lower) {
            r = expf(v);
        } else {
            r = 1.0f / (1.0f + expf(-v));
        }
        output[i] = r;
    }
}

static inline void mg_tanh_f32(const mg_activation_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        output[i] = tanhf(input[i]);
    }
}

static inline void mg_relu_f32(const mg_activation_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        float v = input[i];
        output[i] = v < 0.0f ? 0.0f : v;
    }
}

static inline void mg_relu6_f32(const mg_activation_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        float v = input[i];
        output[i] = v > 6.0f ? 6.0f : (v < 0.0f ? 0.0f : v);
    }
}

typedef struct {
    int32_t count;
    float alpha;
} mg_leaky_relu_f32_params;

static inline void mg_leaky_relu_f32(const mg_leaky_relu_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        float v = input[i];
        /* alpha may be above 1 or negative, so this is not max(v, alpha * v). */
        output[i] = v > 0.0f ? v : v * p->alpha;
    }
}

static inline void mg_hard_swish_f32(const mg_activation_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        float v = input[i];
        float shifted = v + 3.0f;
        float relu6 = shifted > 0.0f ? (shifted < 6.0f ? shifted : 6.0f) : 0.0f;
        output[i] = v * relu6 / 6.0f;
    }
}

#endif

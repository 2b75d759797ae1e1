/* Fixed-point arithmetic shared by the int8 kernels.
 *
 * These reproduce the TensorFlow Lite Micro reference arithmetic exactly (gemmlowp's
 * "double rounding": a saturating rounding doubling high multiply, then a rounding
 * right shift), because bit-exactness with TFLM is the contract. Measured on the
 * MLPerf Tiny ad01 model: this matches TFLM on every element, while single rounding
 * (what TFLite's BUILTIN_REF kernels use) differs on about a third of them. */
#ifndef MG_FIXEDPOINT_H
#define MG_FIXEDPOINT_H

#include <stdint.h>

#define MG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MG_MAX(a, b) ((a) > (b) ? (a) : (b))

/* gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating the one overflow case. */
static inline int32_t mg_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    /* C99 division truncates toward zero, which is what gemmlowp relies on. */
    return (int32_t)((ab + nudge) / (1ll << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent, rounding half away from zero (exponent 0 to 31). */
static inline int32_t mg_rounding_divide_by_pot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)((1ll << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLM MultiplyByQuantizedMultiplier: x * multiplier * 2^shift, with multiplier a Q31 value
 * in [0.5, 1) and shift positive for a left shift. Defined for shift in [-31, 30], the only
 * shifts microgen emits: its QuantizedMultiplier bounds them at compile time as TFLM's
 * QuantizeMultiplier does (below -31 the multiplier is 0; above 30 it saturates), so the left
 * shift of a uint32 and mg_rounding_divide_by_pot's exponent both stay below 32. */
static inline int32_t mg_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift)
{
    int left_shift = shift > 0 ? shift : 0;
    int right_shift = shift > 0 ? 0 : -shift;
    return mg_rounding_divide_by_pot(
        mg_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left_shift), multiplier), right_shift);
}

/* TFLM MultiplyByQuantizedMultiplierSmallerThanOneExp (used by ADD/SUB): the shift is <= 0. */
static inline int32_t mg_multiply_by_quantized_multiplier_smaller_than_one(int32_t x, int32_t multiplier, int shift)
{
    return mg_rounding_divide_by_pot(mg_sat_rounding_doubling_high_mul(x, multiplier), -shift);
}

static inline int8_t mg_clamp_s8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

static inline float mg_clamp_f32(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

#endif

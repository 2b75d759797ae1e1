/* Fixed-point exp, logistic and tanh on Q-format int32 values, as the int8 LOGISTIC and
 * TANH kernels of TensorFlow Lite Micro compute them (its fixedpoint.h, adapted from
 * gemmlowp). Bit-exactness with TFLM is the contract, so every step below (the Taylor
 * polynomial around -1/8, the barrel shifter of exp(-2^k) factors, three Newton-Raphson
 * iterations for the division, the saturating shifts) follows that arithmetic exactly.
 *
 * A value "in Qk" has k integer bits and 31-k fractional bits: real = raw / 2^(31-k). */
#ifndef MG_FIXEDPOINT_ACTIVATION_H
#define MG_FIXEDPOINT_ACTIVATION_H

#include "mg_fixedpoint.h"

/* x * 2^exponent for 0 < exponent < 31, saturating. The bounds are symmetric (+/- the largest
 * value that shifts without overflow) because that is how gemmlowp tests for overflow, so
 * the most negative exactly-representable value saturates as well. */
static inline int32_t mg_fp_saturating_shift_left(int32_t x, int exponent)
{
    int32_t threshold = (int32_t)(((int32_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* (a + b) / 2 rounded half away from zero, without overflow. */
static inline int32_t mg_fp_rounding_half_sum(int32_t a, int32_t b)
{
    int64_t sum = (int64_t)a + (int64_t)b;
    int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a in [-1/4, 0), a and result in Q0: a Taylor expansion around -1/8. */
static inline int32_t mg_fp_exp_on_interval_neg_quarter_to_0(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0 */
    int32_t x = a + ((int32_t)1 << 28);              /* a + 1/8 */
    int32_t x2 = mg_sat_rounding_doubling_high_mul(x, x);
    int32_t x3 = mg_sat_rounding_doubling_high_mul(x2, x);
    int32_t x4 = mg_sat_rounding_doubling_high_mul(x2, x2);
    int32_t x4_over_4 = mg_rounding_divide_by_pot(x4, 2);
    int32_t x4_over_24_plus_x3_over_6_plus_x2_over_2 = mg_rounding_divide_by_pot(
        mg_sat_rounding_doubling_high_mul(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth +
           mg_sat_rounding_doubling_high_mul(exp_minus_one_eighth, x + x4_over_24_plus_x3_over_6_plus_x2_over_2);
}

/* exp(a) for a <= 0, a in Q(integer_bits) with 1 <= integer_bits <= 5, result in Q0.
 * a = (a mod 1/4 - 1/4) - remainder: the first part goes to the polynomial, and each set bit
 * of the remainder multiplies the result by exp(-2^k). */
static inline int32_t mg_fp_exp_on_negative_values(int32_t a, int integer_bits)
{
    static const int32_t exp_of_minus_pow2[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1)   */
        290630308,  /* exp(-2)   */
        39332535,   /* exp(-4)   */
        720401,     /* exp(-8)   */
        242,        /* exp(-16)  */
    };
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = mg_fp_exp_on_interval_neg_quarter_to_0(
        mg_fp_saturating_shift_left(a_mod_quarter_minus_one_quarter, integer_bits));
    int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    int k;
    /* Factor k stands for exp(-2^(k-2)); it exists while 2^(k-2) is below the input range. */
    for (k = 0; k < 7 && integer_bits > k - 2; ++k) {
        if (remainder & ((int32_t)1 << (fractional_bits + k - 2))) {
            result = mg_sat_rounding_doubling_high_mul(result, exp_of_minus_pow2[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* Newton-Raphson reciprocal of half_denominator in [1/2, 1), in Q2: three iterations from
 * the 48/17 - 32/17 * d starting point. */
static inline int32_t mg_fp_reciprocal_of_half_denominator(int32_t half_denominator)
{
    const int32_t forty_eight_over_17 = 1515870810;     /* Q2 */
    const int32_t minus_thirty_two_over_17 = -1010580540; /* Q2 */
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = forty_eight_over_17 + mg_sat_rounding_doubling_high_mul(half_denominator, minus_thirty_two_over_17);
    int i;
    for (i = 0; i < 3; ++i) {
        int32_t half_denominator_times_x = mg_sat_rounding_doubling_high_mul(half_denominator, x);
        int32_t one_minus_half_denominator_times_x = one_q2 - half_denominator_times_x;
        /* Q2 * Q2 is Q4; back to Q2 with a saturating shift by 2. */
        x = x + mg_fp_saturating_shift_left(mg_sat_rounding_doubling_high_mul(x, one_minus_half_denominator_times_x), 2);
    }
    return x;
}

/* 1 / (1 + a) for a in (0, 1], Q0 in and out. */
static inline int32_t mg_fp_one_over_one_plus_x(int32_t a)
{
    int32_t x = mg_fp_reciprocal_of_half_denominator(mg_fp_rounding_half_sum(a, INT32_MAX));
    /* x / 2 in Q2 is the same raw value in Q1; then Q1 -> Q0. */
    return mg_fp_saturating_shift_left(x, 1);
}

/* (1 - a) / (1 + a) for a in (0, 1], Q0 in and out. */
static inline int32_t mg_fp_one_minus_x_over_one_plus_x(int32_t a)
{
    int32_t x = mg_fp_reciprocal_of_half_denominator(mg_fp_rounding_half_sum(a, INT32_MAX));
    return mg_fp_saturating_shift_left(x - ((int32_t)1 << 29), 2);
}

/* logistic(a) = 1 / (1 + exp(-a)), a in Q(integer_bits), result in Q0. */
static inline int32_t mg_fp_logistic(int32_t a, int integer_bits)
{
    int32_t abs_a = a > 0 ? a : -a;
    int32_t logistic_of_abs;
    if (a == 0) {
        return (int32_t)1 << 30; /* 1/2 */
    }
    logistic_of_abs = mg_fp_one_over_one_plus_x(mg_fp_exp_on_negative_values(-abs_a, integer_bits));
    return a > 0 ? logistic_of_abs : INT32_MAX - logistic_of_abs;
}

/* tanh(a) = (1 - exp(-2|a|)) / (1 + exp(-2|a|)) with the sign of a; a in Q(integer_bits)
 * with integer_bits <= 4 (2|a| is the same raw value read with one more integer bit). */
static inline int32_t mg_fp_tanh(int32_t a, int integer_bits)
{
    int32_t minus_abs_a = a < 0 ? a : -a;
    int32_t tanh_of_abs;
    if (a == 0) {
        return 0;
    }
    tanh_of_abs = mg_fp_one_minus_x_over_one_plus_x(mg_fp_exp_on_negative_values(minus_abs_a, integer_bits + 1));
    return a < 0 ? -tanh_of_abs : tanh_of_abs;
}

#endif

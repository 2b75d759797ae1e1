/* ADD, SUB and MUL on int8 and float32 tensors, with NumPy-style broadcasting.
 *
 * The compiler folds the broadcast at build time: dimensions of size 1 are dropped and
 * neighbouring dimensions that broadcast the same way are merged, so what reaches the kernel
 * is at most 4 output dimensions (outermost first) and, for each input, its element stride
 * along each of them (0 where that input is broadcast). Equal shapes become one flat row.
 * The innermost dimension is always contiguous in the output and has an input stride of 0 or 1,
 * so each kernel is a short "row" loop driven by three outer loops.
 *
 * The int8 arithmetic reproduces TensorFlow Lite Micro's reference kernels bit for bit:
 * ADD/SUB rescale both inputs to a common scale with 20 bits of headroom, add or subtract,
 * then rescale to the output (all with MultiplyByQuantizedMultiplierSmallerThanOneExp);
 * MUL multiplies the offset inputs and requantizes once (MultiplyByQuantizedMultiplier). */
#ifndef MG_ELEMENTWISE_H
#define MG_ELEMENTWISE_H

#include "mg_common.h"
#include "mg_dsp.h"

#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
#include <arm_acle.h>
#endif

/* Forced inlining where a kernel is only fast with its constant params propagated into it. */
#if defined(__GNUC__) || defined(__clang__)
#define MG_EW_INLINE static inline __attribute__((always_inline))
#else
#define MG_EW_INLINE static inline
#endif

typedef struct {
    int32_t dims[4];
    int32_t input1_strides[4];
    int32_t input2_strides[4];
} mg_broadcast_shape;

/* ---- int8 ------------------------------------------------------------------------------ */

typedef struct {
    mg_broadcast_shape shape;
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t output_multiplier;
    int32_t output_shift; /* positive for a left shift */
    int32_t output_offset;
    int32_t activation_min;
    int32_t activation_max;
} mg_mul_s8_params;

static inline void mg_mul_s8_row(const mg_mul_s8_params *p, const int8_t *a, int32_t a_step,
                                 const int8_t *b, int32_t b_step, int8_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        int32_t x = p->input1_offset + (int32_t)a[i * a_step];
        int32_t y = p->input2_offset + (int32_t)b[i * b_step];
        int32_t v = mg_multiply_by_quantized_multiplier(x * y, p->output_multiplier, p->output_shift) +
                    p->output_offset;
        out[i] = mg_clamp_s8(v, p->activation_min, p->activation_max);
    }
}

/* The three outer broadcast loops, written once per element type; `row` is a compile-time
 * constant at every call site, so the compiler inlines it. */
typedef void (*mg_binary_s8_row)(const void *params, const int8_t *a, int32_t a_step,
                                 const int8_t *b, int32_t b_step, int8_t *out, int32_t n);

static inline void mg_broadcast_s8(const mg_broadcast_shape *s, const void *params, mg_binary_s8_row row,
                                   const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t n = s->dims[3];
    for (int32_t i0 = 0; i0 < s->dims[0]; ++i0) {
        for (int32_t i1 = 0; i1 < s->dims[1]; ++i1) {
            for (int32_t i2 = 0; i2 < s->dims[2]; ++i2) {
                int32_t a = i0 * s->input1_strides[0] + i1 * s->input1_strides[1] + i2 * s->input1_strides[2];
                int32_t b = i0 * s->input2_strides[0] + i1 * s->input2_strides[1] + i2 * s->input2_strides[2];
                row(params, input1 + a, s->input1_strides[3], input2 + b, s->input2_strides[3], output, n);
                output += n;
            }
        }
    }
}

static inline void mg_mul_s8_row_any(const void *p, const int8_t *a, int32_t as, const int8_t *b, int32_t bs,
                                     int8_t *out, int32_t n)
{
    mg_mul_s8_row((const mg_mul_s8_params *)p, a, as, b, bs, out, n);
}

static inline void mg_mul_s8(const mg_mul_s8_params *p, const int8_t *input1, const int8_t *input2,
                             int8_t *output)
{
    mg_broadcast_s8(&p->shape, p, mg_mul_s8_row_any, input1, input2, output);
}

/* ---- int8 ADD and SUB through tables ------------------------------------------------------
 *
 * Each input's rescaling to the common scale depends on its own int8 value only, so the compiler
 * tabulates it: table[(uint8_t)x] is TFLM's MultiplyByQuantizedMultiplierSmallerThanOneExp(
 * (x + offset) << 20, multiplier, shift), negated for SUB's second input. What is left per element
 * is two loads, an addition and the output requantization. When the lowering proved it exact
 * (fast), the tables hold doubled values and the requantization is SMMLAR(2 * raw, m, rounding)
 * + [raw < 0], shifted right by e (see mg_dw3x3_requantize in mg_depthwise_3x3.h for why this is
 * TFLM's double rounding); otherwise it is TFLM's function itself. */

typedef struct {
    mg_broadcast_shape shape;
    const int32_t *input1_table; /* 256 entries, indexed by the input byte read as uint8_t */
    const int32_t *input2_table;
    int32_t output_multiplier;
    int32_t output_rounding; /* fast: 2^(e-1) + output zero point * 2^e */
    int32_t output_shift;    /* fast: e, a right shift; otherwise TFLM's shift (<= 0) */
    int32_t output_offset;   /* the output zero point (used when not fast) */
    int32_t fast;
    int32_t activation_min;
    int32_t activation_max;
} mg_addsub_lut_s8_params;

MG_EW_INLINE int8_t mg_addsub_lut_s8_finish(const mg_addsub_lut_s8_params *p, int32_t raw)
{
    int32_t v;
    if (p->fast) {
        /* The [raw < 0] correction only matters for negative results, which the clamp turns into
         * activation_min when that is at least the zero point (a fused ReLU). */
        const int32_t x = mg_smmlar(raw, p->output_multiplier, p->output_rounding);
        v = (p->activation_min >= p->output_offset ? x : x + (raw >> 31)) >> p->output_shift;
    } else {
        v = mg_multiply_by_quantized_multiplier_smaller_than_one(raw, p->output_multiplier, p->output_shift) +
            p->output_offset;
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

#define MG_ADDSUB_LUT_RAW(a, b) (table1[(uint8_t)(a)] + table2[(uint8_t)(b)])

MG_EW_INLINE void mg_addsub_lut_s8_row(const mg_addsub_lut_s8_params *p, const int8_t *a, int32_t a_step,
                                      const int8_t *b, int32_t b_step, int8_t *out, int32_t n)
{
    const int32_t *table1 = p->input1_table, *table2 = p->input2_table;
    int32_t i = 0;
#if defined(__GNUC__) || defined(__clang__)
    /* Hide the tables' addresses so that each stays in a register and a lookup is one
     * LDR [table, x, LSL #2]; otherwise gcc addresses both from one shared base plus a
     * constant and spends an extra ADD per lookup. */
    __asm__("" : "+r"(table1), "+r"(table2));
#endif
    /* out may be a or b (the planner runs ADD in place): each element is read before it is written. */
    if (a_step == 1 && b_step == 1) {
        for (; i + 4 <= n; i += 4) {
            const int32_t r0 = MG_ADDSUB_LUT_RAW(a[i], b[i]), r1 = MG_ADDSUB_LUT_RAW(a[i + 1], b[i + 1]);
            const int32_t r2 = MG_ADDSUB_LUT_RAW(a[i + 2], b[i + 2]), r3 = MG_ADDSUB_LUT_RAW(a[i + 3], b[i + 3]);
            out[i] = mg_addsub_lut_s8_finish(p, r0);
            out[i + 1] = mg_addsub_lut_s8_finish(p, r1);
            out[i + 2] = mg_addsub_lut_s8_finish(p, r2);
            out[i + 3] = mg_addsub_lut_s8_finish(p, r3);
        }
    }
    for (; i < n; ++i) {
        out[i] = mg_addsub_lut_s8_finish(p, MG_ADDSUB_LUT_RAW(a[i * a_step], b[i * b_step]));
    }
}

/* ADD or SUB, whichever the tables encode; the broadcast loops of mg_broadcast_s8, with the row
 * inlined (through mg_broadcast_s8's function pointer gcc kept it out of line, params unknown). */
MG_EW_INLINE void mg_addsub_lut_s8(const mg_addsub_lut_s8_params *p, const int8_t *input1, const int8_t *input2,
                                  int8_t *output)
{
    const mg_broadcast_shape *s = &p->shape;
    const int32_t n = s->dims[3];
    for (int32_t i0 = 0; i0 < s->dims[0]; ++i0) {
        for (int32_t i1 = 0; i1 < s->dims[1]; ++i1) {
            for (int32_t i2 = 0; i2 < s->dims[2]; ++i2) {
                int32_t a = i0 * s->input1_strides[0] + i1 * s->input1_strides[1] + i2 * s->input1_strides[2];
                int32_t b = i0 * s->input2_strides[0] + i1 * s->input2_strides[1] + i2 * s->input2_strides[2];
                mg_addsub_lut_s8_row(p, input1 + a, s->input1_strides[3], input2 + b, s->input2_strides[3], output, n);
                output += n;
            }
        }
    }
}

/* ---- float32 --------------------------------------------------------------------------- */

typedef struct {
    mg_broadcast_shape shape;
    float activation_min;
    float activation_max;
} mg_binary_f32_params;

static inline void mg_add_f32_row(const mg_binary_f32_params *p, const float *a, int32_t a_step,
                                  const float *b, int32_t b_step, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = mg_clamp_f32(a[i * a_step] + b[i * b_step], p->activation_min, p->activation_max);
    }
}

static inline void mg_sub_f32_row(const mg_binary_f32_params *p, const float *a, int32_t a_step,
                                  const float *b, int32_t b_step, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = mg_clamp_f32(a[i * a_step] - b[i * b_step], p->activation_min, p->activation_max);
    }
}

static inline void mg_mul_f32_row(const mg_binary_f32_params *p, const float *a, int32_t a_step,
                                  const float *b, int32_t b_step, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = mg_clamp_f32(a[i * a_step] * b[i * b_step], p->activation_min, p->activation_max);
    }
}

typedef void (*mg_binary_f32_row)(const mg_binary_f32_params *params, const float *a, int32_t a_step,
                                  const float *b, int32_t b_step, float *out, int32_t n);

static inline void mg_broadcast_f32(const mg_binary_f32_params *p, mg_binary_f32_row row,
                                    const float *input1, const float *input2, float *output)
{
    const mg_broadcast_shape *s = &p->shape;
    int32_t n = s->dims[3];
    for (int32_t i0 = 0; i0 < s->dims[0]; ++i0) {
        for (int32_t i1 = 0; i1 < s->dims[1]; ++i1) {
            for (int32_t i2 = 0; i2 < s->dims[2]; ++i2) {
                int32_t a = i0 * s->input1_strides[0] + i1 * s->input1_strides[1] + i2 * s->input1_strides[2];
                int32_t b = i0 * s->input2_strides[0] + i1 * s->input2_strides[1] + i2 * s->input2_strides[2];
                row(p, input1 + a, s->input1_strides[3], input2 + b, s->input2_strides[3], output, n);
                output += n;
            }
        }
    }
}

static inline void mg_add_f32(const mg_binary_f32_params *p, const float *input1, const float *input2,
                              float *output)
{
    mg_broadcast_f32(p, mg_add_f32_row, input1, input2, output);
}

static inline void mg_sub_f32(const mg_binary_f32_params *p, const float *input1, const float *input2,
                              float *output)
{
    mg_broadcast_f32(p, mg_sub_f32_row, input1, input2, output);
}

static inline void mg_mul_f32(const mg_binary_f32_params *p, const float *input1, const float *input2,
                              float *output)
{
    mg_broadcast_f32(p, mg_mul_f32_row, input1, input2, output);
}

#endif

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

typedef struct {
    int32_t dims[4];
    int32_t input1_strides[4];
    int32_t input2_strides[4];
} mg_broadcast_shape;

/* ---- int8 ------------------------------------------------------------------------------ */

typedef struct {
    mg_broadcast_shape shape;
    int32_t input1_offset; /* -zero_point of input 1 */
    int32_t input1_multiplier;
    int32_t input1_shift; /* <= 0 */
    int32_t input2_offset;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset; /* +zero_point of the output */
    int32_t left_shift;    /* headroom before rescaling: 20 for int8 */
    int32_t activation_min;
    int32_t activation_max;
} mg_addsub_s8_params;

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

/* One input of ADD/SUB brought to the common scale (TFLM: offset, shift left, then a
 * multiplier below one). */
static inline int32_t mg_addsub_s8_rescale(int8_t x, int32_t offset, int32_t left_shift,
                                           int32_t multiplier, int32_t shift)
{
    int32_t shifted = (offset + (int32_t)x) * ((int32_t)1 << left_shift);
    return mg_multiply_by_quantized_multiplier_smaller_than_one(shifted, multiplier, shift);
}

static inline int8_t mg_addsub_s8_finish(const mg_addsub_s8_params *p, int32_t raw)
{
    int32_t out = mg_multiply_by_quantized_multiplier_smaller_than_one(raw, p->output_multiplier,
                                                                       p->output_shift) +
                  p->output_offset;
    return mg_clamp_s8(out, p->activation_min, p->activation_max);
}

static inline void mg_add_s8_row(const mg_addsub_s8_params *p, const int8_t *a, int32_t a_step,
                                 const int8_t *b, int32_t b_step, int8_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        int32_t x = mg_addsub_s8_rescale(a[i * a_step], p->input1_offset, p->left_shift,
                                         p->input1_multiplier, p->input1_shift);
        int32_t y = mg_addsub_s8_rescale(b[i * b_step], p->input2_offset, p->left_shift,
                                         p->input2_multiplier, p->input2_shift);
        out[i] = mg_addsub_s8_finish(p, x + y);
    }
}

static inline void mg_sub_s8_row(const mg_addsub_s8_params *p, const int8_t *a, int32_t a_step,
                                 const int8_t *b, int32_t b_step, int8_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        int32_t x = mg_addsub_s8_rescale(a[i * a_step], p->input1_offset, p->left_shift,
                                         p->input1_multiplier, p->input1_shift);
        int32_t y = mg_addsub_s8_rescale(b[i * b_step], p->input2_offset, p->left_shift,
                                         p->input2_multiplier, p->input2_shift);
        out[i] = mg_addsub_s8_finish(p, x - y);
    }
}

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

static inline void mg_add_s8_row_any(const void *p, const int8_t *a, int32_t as, const int8_t *b, int32_t bs,
                                     int8_t *out, int32_t n)
{
    mg_add_s8_row((const mg_addsub_s8_params *)p, a, as, b, bs, out, n);
}

static inline void mg_sub_s8_row_any(const void *p, const int8_t *a, int32_t as, const int8_t *b, int32_t bs,
                                     int8_t *out, int32_t n)
{
    mg_sub_s8_row((const mg_addsub_s8_params *)p, a, as, b, bs, out, n);
}

static inline void mg_mul_s8_row_any(const void *p, const int8_t *a, int32_t as, const int8_t *b, int32_t bs,
                                     int8_t *out, int32_t n)
{
    mg_mul_s8_row((const mg_mul_s8_params *)p, a, as, b, bs, out, n);
}

static inline void mg_add_s8(const mg_addsub_s8_params *p, const int8_t *input1, const int8_t *input2,
                             int8_t *output)
{
    mg_broadcast_s8(&p->shape, p, mg_add_s8_row_any, input1, input2, output);
}

static inline void mg_sub_s8(const mg_addsub_s8_params *p, const int8_t *input1, const int8_t *input2,
                             int8_t *output)
{
    mg_broadcast_s8(&p->shape, p, mg_sub_s8_row_any, input1, input2, output);
}

static inline void mg_mul_s8(const mg_mul_s8_params *p, const int8_t *input1, const int8_t *input2,
                             int8_t *output)
{
    mg_broadcast_s8(&p->shape, p, mg_mul_s8_row_any, input1, input2, output);
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

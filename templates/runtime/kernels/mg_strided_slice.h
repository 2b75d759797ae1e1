/* STRIDED_SLICE as a strided copy: every index computation (begin/end masks, negative indices,
 * negative strides, shrunk axes) is resolved by the compiler into at most five loops, outermost
 * first, each with an extent and a signed input step, plus the input element the copy starts at.
 * The output is written in order. */
#ifndef MG_STRIDED_SLICE_H
#define MG_STRIDED_SLICE_H

#include "mg_common.h"

typedef struct {
    /* Output extent of each loop. */
    int32_t dims[5];
    /* Input elements to move per step along each loop (negative for a reversed axis). */
    int32_t steps[5];
    /* Input element of the first output element. */
    int32_t offset;
} mg_strided_copy_params;

static inline void mg_strided_copy_s8(const mg_strided_copy_params *p, const int8_t *in, int8_t *out)
{
    int32_t i0, i1, i2, i3, i4;
    const int8_t *base = in + p->offset;
    for (i0 = 0; i0 < p->dims[0]; ++i0) {
        const int8_t *in0 = base + i0 * p->steps[0];
        for (i1 = 0; i1 < p->dims[1]; ++i1) {
            const int8_t *in1 = in0 + i1 * p->steps[1];
            for (i2 = 0; i2 < p->dims[2]; ++i2) {
                const int8_t *in2 = in1 + i2 * p->steps[2];
                for (i3 = 0; i3 < p->dims[3]; ++i3) {
                    const int8_t *in3 = in2 + i3 * p->steps[3];
                    for (i4 = 0; i4 < p->dims[4]; ++i4) {
                        *out++ = in3[i4 * p->steps[4]];
                    }
                }
            }
        }
    }
}

static inline void mg_strided_copy_f32(const mg_strided_copy_params *p, const float *in, float *out)
{
    int32_t i0, i1, i2, i3, i4;
    const float *base = in + p->offset;
    for (i0 = 0; i0 < p->dims[0]; ++i0) {
        const float *in0 = base + i0 * p->steps[0];
        for (i1 = 0; i1 < p->dims[1]; ++i1) {
            const float *in1 = in0 + i1 * p->steps[1];
            for (i2 = 0; i2 < p->dims[2]; ++i2) {
                const float *in2 = in1 + i2 * p->steps[2];
                for (i3 = 0; i3 < p->dims[3]; ++i3) {
                    const float *in3 = in2 + i3 * p->steps[3];
                    for (i4 = 0; i4 < p->dims[4]; ++i4) {
                        *out++ = in3[i4 * p->steps[4]];
                    }
                }
            }
        }
    }
}

static inline void mg_strided_slice_s8(const mg_strided_copy_params *p, const int8_t *in, int8_t *out)
{
    mg_strided_copy_s8(p, in, out);
}

static inline void mg_strided_slice_f32(const mg_strided_copy_params *p, const float *in, float *out)
{
    mg_strided_copy_f32(p, in, out);
}

#endif

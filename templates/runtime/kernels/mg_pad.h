/* PAD with a constant value (the output zero point for int8, 0.0f for float32).
 *
 * The compiler folds the paddings into at most five dimensions (outermost first; unpadded inner
 * dimensions merged into their neighbour), so the innermost dimension is the only one written
 * element by element: every output row is either all padding, or padding, one contiguous input
 * row, padding. The input is read once, in order. */
#ifndef MG_PAD_H
#define MG_PAD_H

#include "mg_common.h"

typedef struct {
    int32_t out_dims[5];
    int32_t in_dims[5];
    /* Padding before the first input element along each dimension (the amount after is implied). */
    int32_t before[5];
} mg_pad_params;

static inline int mg_pad_is_inside(int32_t index, int32_t before, int32_t size)
{
    return index >= before && index < before + size;
}

static inline void mg_pad_s8(const mg_pad_params *p, int8_t pad_value, const int8_t *in, int8_t *out)
{
    const int32_t row = p->out_dims[4];
    const int32_t lead = p->before[4];
    const int32_t body = p->in_dims[4];
    const int32_t trail = row - lead - body;
    int32_t d0, d1, d2, d3;
    for (d0 = 0; d0 < p->out_dims[0]; ++d0) {
        const int inside0 = mg_pad_is_inside(d0, p->before[0], p->in_dims[0]);
        for (d1 = 0; d1 < p->out_dims[1]; ++d1) {
            const int inside1 = inside0 && mg_pad_is_inside(d1, p->before[1], p->in_dims[1]);
            for (d2 = 0; d2 < p->out_dims[2]; ++d2) {
                const int inside2 = inside1 && mg_pad_is_inside(d2, p->before[2], p->in_dims[2]);
                for (d3 = 0; d3 < p->out_dims[3]; ++d3) {
                    if (inside2 && mg_pad_is_inside(d3, p->before[3], p->in_dims[3])) {
                        memset(out, (unsigned char)pad_value, (size_t)lead);
                        memcpy(out + lead, in, (size_t)body);
                        memset(out + lead + body, (unsigned char)pad_value, (size_t)trail);
                        in += body;
                    } else {
                        memset(out, (unsigned char)pad_value, (size_t)row);
                    }
                    out += row;
                }
            }
        }
    }
}

static inline void mg_pad_fill_f32(float *out, float value, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        out[i] = value;
    }
}

static inline void mg_pad_f32(const mg_pad_params *p, float pad_value, const float *in, float *out)
{
    const int32_t row = p->out_dims[4];
    const int32_t lead = p->before[4];
    const int32_t body = p->in_dims[4];
    const int32_t trail = row - lead - body;
    int32_t d0, d1, d2, d3;
    for (d0 = 0; d0 < p->out_dims[0]; ++d0) {
        const int inside0 = mg_pad_is_inside(d0, p->before[0], p->in_dims[0]);
        for (d1 = 0; d1 < p->out_dims[1]; ++d1) {
            const int inside1 = inside0 && mg_pad_is_inside(d1, p->before[1], p->in_dims[1]);
            for (d2 = 0; d2 < p->out_dims[2]; ++d2) {
                const int inside2 = inside1 && mg_pad_is_inside(d2, p->before[2], p->in_dims[2]);
                for (d3 = 0; d3 < p->out_dims[3]; ++d3) {
                    if (inside2 && mg_pad_is_inside(d3, p->before[3], p->in_dims[3])) {
                        mg_pad_fill_f32(out, pad_value, lead);
                        memcpy(out + lead, in, (size_t)body * sizeof(float));
                        mg_pad_fill_f32(out + lead + body, pad_value, trail);
                        in += body;
                    } else {
                        mg_pad_fill_f32(out, pad_value, row);
                    }
                    out += row;
                }
            }
        }
    }
}

#endif

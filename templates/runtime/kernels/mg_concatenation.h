/* CONCATENATION along any axis, for any element type: a pure copy.
 *
 * Seen from the axis, every tensor is [outer, row]: `outer` is the product of the dimensions
 * before the axis and a row is the axis dimension times everything after it. The output row is
 * the inputs' rows side by side, so the kernel copies, for each outer index, one row of each
 * input in turn. Sizes are in bytes, which makes the kernel independent of the element type.
 * No requantization happens here: the compiler only accepts int8 inputs whose scale and zero
 * point equal the output's (as TensorFlow Lite Micro requires). */
#ifndef MG_CONCATENATION_H
#define MG_CONCATENATION_H

#include "mg_common.h"

typedef struct {
    int32_t outer;
    int32_t output_row_bytes;
    int32_t input_count;
    const int32_t *input_row_bytes; /* input_count entries */
} mg_concatenation_params;

static inline void mg_concatenation(const mg_concatenation_params *p, const void *const *inputs, void *output)
{
    uint8_t *out = (uint8_t *)output;
    for (int32_t k = 0; k < p->input_count; ++k) {
        const uint8_t *in = (const uint8_t *)inputs[k];
        int32_t row = p->input_row_bytes[k];
        uint8_t *dst = out;
        for (int32_t o = 0; o < p->outer; ++o) {
            memcpy(dst, in, (size_t)row);
            in += row;
            dst += p->output_row_bytes;
        }
        out += row;
    }
}

#endif

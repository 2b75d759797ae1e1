/* TRANSPOSE: a strided copy whose steps are the input strides in permuted order (the compiler
 * works them out and merges dimensions that stay adjacent). It has its own entry point so that a
 * tiled transpose can replace it later without touching slicing. */
#ifndef MG_TRANSPOSE_H
#define MG_TRANSPOSE_H

#include "mg_common.h"
#include "mg_strided_slice.h"

static inline void mg_transpose_s8(const mg_strided_copy_params *p, const int8_t *in, int8_t *out)
{
    mg_strided_copy_s8(p, in, out);
}

static inline void mg_transpose_f32(const mg_strided_copy_params *p, const float *in, float *out)
{
    mg_strided_copy_f32(p, in, out);
}

#endif

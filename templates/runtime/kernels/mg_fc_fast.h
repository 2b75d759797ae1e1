/* Fast int8 FULLY_CONNECTED with symmetric weights: each input row is widened once to int16 in
 * the scratch buffer (8 bytes per group of 4 values), then multiplied with the weights four
 * outputs at a time (mg_conv_gemm.h) into int32 sums (after the row in the scratch buffer), which
 * are then requantized (mg_conv_requant.h). The lowering packs the int8 weights (for each block of
 * four outputs, for each group, 4 per output; missing outputs and values are zero), in the
 * "times 256" encoding when the requantization is MG_REQUANT_X256, and folds the input zero point
 * into the bias. */
#ifndef MG_FC_FAST_H
#define MG_FC_FAST_H

#include "mg_common.h"
#include "mg_conv_gemm.h"
#include "mg_conv_requant.h"

typedef struct {
    int32_t batches;
    int32_t depth;
    int32_t output_depth;
    /* ceil(depth / 4). */
    int32_t groups;
    /* Packed by the lowering: for each block of 4 outputs, for each group, 4 int8 per output
     * (zeros past the real outputs and values). */
    const int8_t *weights;
    /* bias - input_zero_point * sum(weights) (doubled with MG_REQUANT_DOUBLED), padded with
     * zeros to a multiple of 4 outputs. */
    const int32_t *bias;
    /* MG_REQUANT_WORDS per output when per_channel, else MG_REQUANT_WORDS for all. */
    const int32_t *requant;
    int32_t per_channel;
    mg_requant_params requant_params;
} mg_fc_s8_fast_params;

/* The requantization constants of output o. */
MG_CONV_INLINE mg_requant_channel mg_fc_s8_fast_channel(const mg_fc_s8_fast_params *p, int32_t o)
{
    return mg_requant_load(p->requant + (p->per_channel ? MG_REQUANT_WORDS * o : 0));
}

MG_CONV_INLINE void mg_fc_s8_fast(const mg_fc_s8_fast_params *p, const int8_t *input, int8_t *output, uint8_t *scratch)
{
    int16_t *row = (int16_t *)(void *)scratch;
    int32_t *acc = (int32_t *)(void *)(scratch + 8 * p->groups);
    const int32_t whole = p->depth / 4;
    const mg_requant_params *r = &p->requant_params;
    /* MG_REQUANT_DOUBLED wants doubled sums: double the input row once. */
    const int twice = r->mode == MG_REQUANT_DOUBLED;
    /* MG_REQUANT_X256: the "times 256" form of mg_conv_gemm.h (weights stored for it). */
    const int x256 = r->mode == MG_REQUANT_X256;
    int32_t b, o, k;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * p->depth;
        int8_t *out = output + (size_t)b * p->output_depth;
        int8_t tail[4] = {0, 0, 0, 0};
        /* The last, partial group is padded with zeros (the weights there are zero too). */
        for (k = 4 * whole; k < p->depth; ++k) tail[k - 4 * whole] = x[k];
        if (x256) {
            MG_PREPARE_X256_GROUPS(x, whole, row, 8);
            if (whole < p->groups) MG_PREPARE_X256_GROUPS(tail, 1, row + 4 * whole, 8);
            mg_dot_1x4_x256_blocks(row, p->weights, p->bias, acc, (p->output_depth + 3) >> 2, p->groups);
        } else {
            MG_WIDEN_GROUPS(x, whole, row, 8, twice);
            if (whole < p->groups) MG_WIDEN_GROUPS(tail, 1, row + 4 * whole, 8, twice);
            mg_dot_1x4_blocks(row, p->weights, p->bias, acc, (p->output_depth + 3) >> 2, p->groups);
        }
        for (o = 0; o + 3 < p->output_depth; o += 4) {
            const mg_requant_channel q0 = mg_fc_s8_fast_channel(p, o), q1 = mg_fc_s8_fast_channel(p, o + 1);
            const mg_requant_channel q2 = mg_fc_s8_fast_channel(p, o + 2), q3 = mg_fc_s8_fast_channel(p, o + 3);
            const int32_t a0 = acc[o], a1 = acc[o + 1], a2 = acc[o + 2], a3 = acc[o + 3];
            const int8_t v0 = mg_requant_s8(a0, q0, r), v1 = mg_requant_s8(a1, q1, r);
            const int8_t v2 = mg_requant_s8(a2, q2, r), v3 = mg_requant_s8(a3, q3, r);
            out[o] = v0;
            out[o + 1] = v1;
            out[o + 2] = v2;
            out[o + 3] = v3;
        }
        for (k = 0; k < (p->output_depth & 3); ++k) {
            const int32_t a = acc[o + k];
            out[o + k] = mg_requant_s8(a, mg_fc_s8_fast_channel(p, o + k), r);
        }
    }
}

#endif

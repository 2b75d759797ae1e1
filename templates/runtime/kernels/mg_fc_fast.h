/* Fast int8 FULLY_CONNECTED with symmetric weights: the input row is widened to int16 in the
 * scratch buffer (8 bytes per group of 4 values), then multiplied with the weights four outputs
 * at a time (mg_conv_gemm.h) into int32 sums, which are then requantized (mg_conv_requant.h).
 *
 * The scratch is sized by the lowering to the RAM the arena can spare at this operator, so both
 * dimensions come in chunks: chunk_blocks blocks of 4 outputs are summed at a time (16 bytes of
 * sums a block), and chunk_groups groups of the row are widened at a time (8 bytes a group).
 * When the whole row fits (chunk_groups == groups) it is widened once; otherwise each row chunk
 * is widened again for every output chunk, and the sums of one row chunk are the "bias" of the
 * next (the dot kernels read a block's bias before they write its sums).
 *
 * The lowering packs the int8 weights row chunk by row chunk: for each chunk of groups, for
 * each block of 4 outputs, for each group of the chunk, 4 int8 per output (zeros past the real
 * outputs and values); in the "times 256" encoding when the requantization is MG_REQUANT_X256;
 * and it folds the input zero point into the bias. */
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
    /* Groups widened at a time (groups: the whole row, once) and blocks of 4 outputs summed at
     * a time: the scratch holds 8 * chunk_groups + 16 * chunk_blocks bytes. */
    int32_t chunk_groups;
    int32_t chunk_blocks;
    /* Packed by the lowering, see above. */
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

/* Widens groups first .. first+count-1 of the row x into `row`, as the requantization wants
 * them; the last, partial group of the row is padded with zeros (its weights are zero too). */
MG_CONV_INLINE void mg_fc_s8_widen(const mg_fc_s8_fast_params *p, const int8_t *x, int32_t first, int32_t count, int16_t *row)
{
    const int32_t whole = p->depth / 4;
    const int32_t full = first + count <= whole ? count : whole - first;
    const int x256 = p->requant_params.mode == MG_REQUANT_X256;
    /* MG_REQUANT_DOUBLED wants doubled sums: double the input once. */
    const int twice = p->requant_params.mode == MG_REQUANT_DOUBLED;
    if (x256) {
        MG_PREPARE_X256_GROUPS(x + 4 * first, full, row, 8);
    } else {
        MG_WIDEN_GROUPS(x + 4 * first, full, row, 8, twice);
    }
    if (full < count) {
        int8_t tail[4] = {0, 0, 0, 0};
        int32_t k;
        for (k = 0; k < 4 && 4 * whole + k < p->depth; ++k) tail[k] = x[4 * whole + k];
        if (x256) {
            MG_PREPARE_X256_GROUPS(tail, 1, row + 4 * full, 8);
        } else {
            MG_WIDEN_GROUPS(tail, 1, row + 4 * full, 8, twice);
        }
    }
}

/* Requantizes and stores outputs first .. first+count-1 from their sums. */
MG_CONV_INLINE void mg_fc_s8_store(const mg_fc_s8_fast_params *p, const int32_t *acc, int32_t first, int32_t count, int8_t *out)
{
    const mg_requant_params *r = &p->requant_params;
    int32_t o = 0;
    for (; o + 3 < count; o += 4) {
        const mg_requant_channel q0 = mg_fc_s8_fast_channel(p, first + o), q1 = mg_fc_s8_fast_channel(p, first + o + 1);
        const mg_requant_channel q2 = mg_fc_s8_fast_channel(p, first + o + 2), q3 = mg_fc_s8_fast_channel(p, first + o + 3);
        const int32_t a0 = acc[o], a1 = acc[o + 1], a2 = acc[o + 2], a3 = acc[o + 3];
        const int8_t v0 = mg_requant_s8(a0, q0, r), v1 = mg_requant_s8(a1, q1, r);
        const int8_t v2 = mg_requant_s8(a2, q2, r), v3 = mg_requant_s8(a3, q3, r);
        out[first + o] = v0;
        out[first + o + 1] = v1;
        out[first + o + 2] = v2;
        out[first + o + 3] = v3;
    }
    {
        /* count & 3 rather than count - o: a bound the compiler can see (it warns otherwise). */
        const int32_t rest = count & 3;
        int32_t k;
        for (k = 0; k < rest; ++k) {
            const int32_t a = acc[o + k];
            out[first + o + k] = mg_requant_s8(a, mg_fc_s8_fast_channel(p, first + o + k), r);
        }
    }
}

MG_CONV_INLINE void mg_fc_s8_fast(const mg_fc_s8_fast_params *p, const int8_t *input, int8_t *output, uint8_t *scratch)
{
    int16_t *row = (int16_t *)(void *)scratch;
    int32_t *acc = (int32_t *)(void *)(scratch + 8 * p->chunk_groups);
    const int32_t blocks = (p->output_depth + 3) >> 2;
    const int whole_row = p->chunk_groups >= p->groups;
    const int x256 = p->requant_params.mode == MG_REQUANT_X256;
    int32_t b, first, g0;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * p->depth;
        int8_t *out = output + (size_t)b * p->output_depth;
        if (whole_row) mg_fc_s8_widen(p, x, 0, p->groups, row);
        for (first = 0; first < blocks; first += p->chunk_blocks) {
            const int32_t count = blocks - first < p->chunk_blocks ? blocks - first : p->chunk_blocks;
            const int32_t outputs = 4 * (first + count) <= p->output_depth ? 4 * count : p->output_depth - 4 * first;
            for (g0 = 0; g0 < p->groups; g0 += p->chunk_groups) {
                const int32_t n = p->groups - g0 < p->chunk_groups ? p->groups - g0 : p->chunk_groups;
                const int8_t *w = p->weights + 16 * ((size_t)g0 * blocks + (size_t)first * n);
                const int32_t *bias = g0 == 0 ? p->bias + 4 * first : acc;
                if (!whole_row) mg_fc_s8_widen(p, x, g0, n, row);
                if (x256) {
                    mg_dot_1x4_x256_blocks(row, w, bias, acc, count, n);
                } else {
                    mg_dot_1x4_blocks(row, w, bias, acc, count, n);
                }
            }
            mg_fc_s8_store(p, acc, 4 * first, outputs, out);
        }
    }
}

#endif

/* Fast int8 CONV_2D (not grouped). The receptive field of an output pixel (its "patch", in the
 * filter's order: row, column, input channel) is gathered into the scratch buffer and multiplied
 * with the int8 weights two pixels x two output channels at a time (mg_conv_gemm.h); the int32
 * sums are then requantized (mg_conv_requant.h). There is no im2col of the whole image, and
 * padding is written into the patches as the input zero point while they are gathered (the zero
 * point is folded into the bias, so a padded tap must contribute zp * w, like TFLM's skipped tap
 * contributes (zp - zp) * w = 0).
 *
 * Two schemes, chosen by the lowering from the RAM the arena has beside the operator's tensors:
 *   blocks (any requantization but MG_REQUANT_X256): the patches of block_pixels pixels are
 *     widened to int16; each channel pair's weights are widened once per block and every pixel
 *     pair of the block is multiplied with them;
 *   "times 256" (MG_REQUANT_X256): the patches of two pixels are prepared for that form, and all
 *     channel pairs are multiplied with them, weights read straight from flash.
 *
 * How a patch is gathered is chosen at compile time (`gather`):
 *   MG_CONV_GATHER_POINT  1x1 filter without padding, input channels a multiple of 4:
 *                         the pixel's channels are read straight from the input;
 *   MG_CONV_GATHER_ROWS   each filter row (filter_w * input_c values) is a whole number of
 *                         groups of 4: rows lying inside the image are read straight from the
 *                         input (dilation_w 1), the others are first assembled (with zero point
 *                         padding) in a one-row byte buffer;
 *   MG_CONV_GATHER_PATCH  anything else: the whole patch is assembled as bytes first.
 *
 * Scratch, blocks: the block's patches (8 bytes per pixel and group, block_pixels even), one
 * widened weight pair (16 bytes a group), the sums (8 bytes per pixel), the byte buffer
 * (`row_bytes`). "Times 256": two patches (16 bytes a group), the sums (16 bytes per channel
 * pair), the byte buffer. */
#ifndef MG_CONV_FAST_H
#define MG_CONV_FAST_H

#include "mg_common.h"
#include "mg_conv_gemm.h"
#include "mg_conv_requant.h"
#include "mg_elementwise.h"

#define MG_CONV_GATHER_POINT 0
#define MG_CONV_GATHER_ROWS 1
#define MG_CONV_GATHER_PATCH 2

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t output_h, output_w, output_c;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t input_zero_point;
    /* ceil(filter_h * filter_w * input_c / 4); weights are zero past the real values. */
    int32_t groups;
    int32_t gather;
    /* Bytes of the byte buffer (ROWS: one filter row; PATCH: 4 * groups). */
    int32_t row_bytes;
    /* Output pixels per block (even). */
    int32_t block_pixels;
    /* Packed by the lowering: for each pair of output channels, for each group, the 4 int8 of
     * the first channel then the 4 of the second (an odd last channel is paired with zeros). */
    const int8_t *weights;
    /* bias - input_zero_point * sum(weights) (doubled with MG_REQUANT_DOUBLED), padded with a
     * zero to an even number of channels. */
    const int32_t *bias;
    /* MG_REQUANT_WORDS per output channel. */
    const int32_t *requant;
    mg_requant_params requant_params;
    /* A residual ADD fused into the convolution (0: none): every output value v, requantized as
     * above, becomes ADD(v, residual) exactly as the int8 ADD kernel computes it (its tables,
     * mg_elementwise.h), the residual being the ADD's first input when residual_first. The
     * residual has the output's shape; it may be the output's own memory (in place): each
     * residual value is read before its output is written. */
    const mg_addsub_lut_s8_params *residual_add;
    int32_t residual_first;
} mg_conv_s8_fast_params;

/* The fused residual ADD of one output value v and its residual r. */
MG_CONV_INLINE int8_t mg_conv_fast_residual(const mg_conv_s8_fast_params *p, int8_t v, int8_t r)
{
    const mg_addsub_lut_s8_params *a = p->residual_add;
    const int8_t first = p->residual_first ? r : v, second = p->residual_first ? v : r;
    return mg_addsub_lut_s8_finish(a, a->input1_table[(uint8_t)first] + a->input2_table[(uint8_t)second]);
}

/* One filter row of a patch as bytes: taps outside the image are the zero point. */
MG_CONV_INLINE void mg_conv_fast_row_bytes(const mg_conv_s8_fast_params *p, const int8_t *image_row, int32_t in_x0,
                                           int8_t *dst)
{
    int32_t kx, c;
    for (kx = 0; kx < p->filter_w; ++kx) {
        const int32_t in_x = in_x0 + kx * p->dilation_w;
        if (in_x >= 0 && in_x < p->input_w) {
            const int8_t *src = image_row + in_x * p->input_c;
            for (c = 0; c < p->input_c; ++c) dst[c] = src[c];
        } else {
            for (c = 0; c < p->input_c; ++c) dst[c] = (int8_t)p->input_zero_point;
        }
        dst += p->input_c;
    }
}

/* `groups` groups of src into a patch slot (16 bytes a group): widened, or prepared for the
 * "times 256" form (mg_conv_gemm.h). */
#define MG_CONV_PATCH_GROUPS(p, src, groups, slot)                                                     \
    do {                                                                                               \
        if ((p)->requant_params.mode == MG_REQUANT_X256) {                                             \
            MG_PREPARE_X256_GROUPS(src, groups, slot, 16);                                             \
        } else {                                                                                       \
            MG_WIDEN_GROUPS(src, groups, slot, 16, 0);                                                 \
        }                                                                                              \
    } while (0)

/* Writes the patch of output pixel (out_y, out_x) into slot (stride 8 int16 per group). */
MG_CONV_INLINE void mg_conv_fast_gather(const mg_conv_s8_fast_params *p, const int8_t *image, int32_t out_y,
                                        int32_t out_x, int16_t *slot, int8_t *bytes)
{
    const int32_t in_y0 = out_y * p->stride_h - p->pad_top;
    const int32_t in_x0 = out_x * p->stride_w - p->pad_left;
    const int32_t row_len = p->filter_w * p->input_c;
    int32_t ky;

    if (p->gather == MG_CONV_GATHER_POINT) {
        MG_CONV_PATCH_GROUPS(p, image + ((size_t)in_y0 * p->input_w + in_x0) * p->input_c, p->groups, slot);
    } else if (p->gather == MG_CONV_GATHER_ROWS) {
        const int32_t row_groups = row_len / 4;
        const int row_inside_x = in_x0 >= 0 && in_x0 + (p->filter_w - 1) * p->dilation_w < p->input_w;
        for (ky = 0; ky < p->filter_h; ++ky) {
            const int32_t in_y = in_y0 + ky * p->dilation_h;
            if (in_y < 0 || in_y >= p->input_h) {
                mg_fill_groups(p->input_zero_point, row_groups, slot, 8, p->requant_params.mode == MG_REQUANT_X256);
            } else {
                const int8_t *image_row = image + (size_t)in_y * p->input_w * p->input_c;
                if (row_inside_x && p->dilation_w == 1) {
                    MG_CONV_PATCH_GROUPS(p, image_row + in_x0 * p->input_c, row_groups, slot);
                } else {
                    mg_conv_fast_row_bytes(p, image_row, in_x0, bytes);
                    MG_CONV_PATCH_GROUPS(p, bytes, row_groups, slot);
                }
            }
            slot += 8 * row_groups;
        }
    } else {
        /* Rows are assembled in `bytes`; its tail past the patch was zeroed once per call. */
        const int row_inside_x = in_x0 >= 0 && in_x0 + (p->filter_w - 1) * p->dilation_w < p->input_w;
        for (ky = 0; ky < p->filter_h; ++ky) {
            const int32_t in_y = in_y0 + ky * p->dilation_h;
            int8_t *row = bytes + ky * row_len;
            if (in_y < 0 || in_y >= p->input_h) {
                memset(row, p->input_zero_point, (size_t)row_len);
            } else if (row_inside_x && p->dilation_w == 1) {
                /* A constant-size copy: the compiler inlines it as word loads and stores. */
                memcpy(row, image + ((size_t)in_y * p->input_w + in_x0) * p->input_c, (size_t)row_len);
            } else {
                mg_conv_fast_row_bytes(p, image + (size_t)in_y * p->input_w * p->input_c, in_x0, row);
            }
        }
        MG_CONV_PATCH_GROUPS(p, bytes, p->groups, slot);
    }
}

/* One output value: requantized, then the fused residual ADD when there is one (`res` points at
 * the residual value of this output; it is read before the output is written). */
MG_CONV_INLINE int8_t mg_conv_fast_value(const mg_conv_s8_fast_params *p, int32_t acc, mg_requant_channel q, const int8_t *res)
{
    const int8_t v = mg_requant_s8(acc, q, &p->requant_params);
    return p->residual_add != 0 ? mg_conv_fast_residual(p, v, *res) : v;
}

/* Requantizes the sums of one channel pair (or the single last channel when `two` is 0) for the
 * block's pixels and stores them: out points at the block's first pixel, first channel of the
 * pair, and res at the same place in the residual (unused without a fused ADD). */
MG_CONV_INLINE void mg_conv_fast_store(const mg_conv_s8_fast_params *p, const int32_t *acc, int32_t pixels,
                                       const int32_t *q, int8_t *out, const int8_t *res, int two)
{
    const mg_requant_channel q0 = mg_requant_load(q), q1 = mg_requant_load(q + MG_REQUANT_WORDS);
    const int32_t step = p->output_c;
    int32_t i;
    for (i = 0; i + 1 < pixels; i += 2) {
        const int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
        const int8_t v00 = mg_conv_fast_value(p, a00, q0, res), v10 = mg_conv_fast_value(p, a10, q0, res + step);
        out[0] = v00;
        out[step] = v10;
        if (two) {
            const int8_t v01 = mg_conv_fast_value(p, a01, q1, res + 1), v11 = mg_conv_fast_value(p, a11, q1, res + step + 1);
            out[1] = v01;
            out[step + 1] = v11;
        }
        out += 2 * step;
        res += 2 * step;
        acc += 4;
    }
    if (i < pixels) {
        const int32_t a00 = acc[0], a01 = acc[1];
        out[0] = mg_conv_fast_value(p, a00, q0, res);
        if (two) out[1] = mg_conv_fast_value(p, a01, q1, res + 1);
    }
}

/* The "times 256" form: two pixels at a time, all channel pairs against their prepared patches.
 * Scratch: the two patches (16 bytes a group), the sums (16 bytes a channel pair), the byte
 * buffer. */
MG_CONV_INLINE void mg_conv_fast_x256(const mg_conv_s8_fast_params *p, const int8_t *image, int8_t *out_image,
                                      const int8_t *res_image, uint8_t *scratch)
{
    int16_t *patches = (int16_t *)(void *)scratch;
    const int32_t pairs = (p->output_c + 1) >> 1;
    int32_t *acc = (int32_t *)(void *)(scratch + 16 * p->groups);
    int8_t *bytes = (int8_t *)(scratch + 16 * p->groups + 16 * pairs);
    const int32_t pixels = p->output_h * p->output_w;
    int32_t pixel, c, y = 0, x = 0;

    /* The dot product reads both slots, but a lone last pixel writes only the first. The second
     * then holds the previous pixel's patch (real sums, dropped), or with a single pixel whatever
     * the scratch held, whose sums could overflow int32: undefined even though dropped. Zeroed
     * here, outside the loop, so pairs cost nothing more. */
    if (pixels == 1) memset(patches, 0, (size_t)16 * p->groups);
    for (pixel = 0; pixel < pixels; pixel += 2) {
        const int32_t count = pixel + 1 < pixels ? 2 : 1;
        int8_t *out = out_image + (size_t)pixel * p->output_c;
        const int8_t *res = res_image + (size_t)pixel * p->output_c;
        const int32_t *a = acc;
        mg_conv_fast_gather(p, image, y, x, patches, bytes);
        if (++x == p->output_w) {
            x = 0;
            ++y;
        }
        if (count == 2) {
            mg_conv_fast_gather(p, image, y, x, patches + 4, bytes);
            if (++x == p->output_w) {
                x = 0;
                ++y;
            }
        }
        mg_dot_2x2_x256_blocks(patches, p->weights, p->bias, acc, pairs, p->groups);
        for (c = 0; c < p->output_c; c += 2) {
            mg_conv_fast_store(p, a, count, p->requant + MG_REQUANT_WORDS * c, out + c, res + c, c + 1 < p->output_c);
            a += 4;
        }
    }
}

/* Blocks of block_pixels pixels; each channel pair's weights widened once per block. */
MG_CONV_INLINE void mg_conv_fast_blocks(const mg_conv_s8_fast_params *p, const int8_t *image, int8_t *out_image,
                                        const int8_t *res_image, uint8_t *scratch)
{
    const int32_t block_bytes = 8 * p->block_pixels * p->groups;
    int16_t *patches = (int16_t *)(void *)scratch;
    int16_t *weights = (int16_t *)(void *)(scratch + block_bytes);
    int32_t *acc = (int32_t *)(void *)(scratch + block_bytes + 16 * p->groups);
    int8_t *bytes = (int8_t *)(scratch + block_bytes + 16 * p->groups + 8 * p->block_pixels);
    const int32_t pixels = p->output_h * p->output_w;
    const int twice = p->requant_params.mode == MG_REQUANT_DOUBLED;
    int32_t start, y = 0, x = 0;

    for (start = 0; start < pixels; start += p->block_pixels) {
        const int32_t count = pixels - start < p->block_pixels ? pixels - start : p->block_pixels;
        const int32_t pairs = (count + 1) >> 1;
        const int8_t *packed = p->weights;
        int8_t *out = out_image + (size_t)start * p->output_c;
        const int8_t *res = res_image + (size_t)start * p->output_c;
        int32_t i, c;
        /* Patches: pixel i goes to pair i / 2, slot i % 2; an odd last pixel fills both. */
        for (i = 0; i < count; ++i) {
            int16_t *slot = patches + 8 * p->groups * (i >> 1) + 4 * (i & 1);
            mg_conv_fast_gather(p, image, y, x, slot, bytes);
            if (i + 1 == count && (count & 1)) mg_conv_fast_gather(p, image, y, x, slot + 4, bytes);
            if (++x == p->output_w) {
                x = 0;
                ++y;
            }
        }
        for (c = 0; c < p->output_c; c += 2) {
            mg_widen_weight_pair(packed, p->groups, weights, twice);
            packed += 8 * p->groups;
            mg_dot_2x2_pixels(patches, weights, p->bias + c, acc, pairs, p->groups);
            mg_conv_fast_store(p, acc, count, p->requant + MG_REQUANT_WORDS * c, out + c, res + c, c + 1 < p->output_c);
        }
    }
}

/* `residual`: the fused ADD's residual (the output's shape), or 0 without one. */
MG_CONV_INLINE void mg_conv_s8_fast(const mg_conv_s8_fast_params *p, const int8_t *input, int8_t *output,
                                    const int8_t *residual, uint8_t *scratch)
{
    const int32_t pixels = p->output_h * p->output_w;
    const size_t image_size = (size_t)p->input_h * p->input_w * p->input_c;
    const int x256 = p->requant_params.mode == MG_REQUANT_X256;
    /* The byte buffer is last in either layout. */
    int8_t *bytes = (int8_t *)(scratch + (x256 ? 16 * p->groups + 16 * ((p->output_c + 1) >> 1)
                                                : 8 * p->block_pixels * p->groups + 16 * p->groups + 8 * p->block_pixels));
    int32_t b, k;

    if (p->gather == MG_CONV_GATHER_PATCH) {
        /* The weights past the patch are zero; any finite value will do for the activations. */
        for (k = p->filter_h * p->filter_w * p->input_c; k < 4 * p->groups; ++k) bytes[k] = 0;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_size;
        int8_t *out_image = output + (size_t)b * pixels * p->output_c;
        /* Without a fused ADD the residual pointer is never read: let it track the output. */
        const int8_t *res_image = (residual != 0 ? residual : output) + (size_t)b * pixels * p->output_c;
        if (x256) {
            mg_conv_fast_x256(p, image, out_image, res_image, scratch);
        } else {
            mg_conv_fast_blocks(p, image, out_image, res_image, scratch);
        }
    }
}

#endif

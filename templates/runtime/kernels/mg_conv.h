/* CONV_2D, NHWC activations, filter [out_c, filter_h, filter_w, filter_in_c].
 *
 * int8 follows TFLite Micro's per-channel reference convolution bit for bit. The input
 * zero point is folded into the bias at compile time (bias[c] - zp_in * sum(w[c])), so the
 * inner loop multiplies raw int8 values; a tap that falls in the padding must then add
 * zp_in * w back, which is the same as reading a padded image filled with zp_in (TFLM skips
 * those taps, i.e. adds w * (zp_in - zp_in) = 0).
 *
 * Grouped convolution (input_c a multiple of filter_in_c) is supported as TFLM does. */
#ifndef MG_CONV_H
#define MG_CONV_H

#include "mg_common.h"

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w, filter_in_c;
    int32_t output_h, output_w, output_c;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t activation_min, activation_max;
    /* bias[c] - input_zero_point * sum(filter[c]), one per output channel. */
    const int32_t *folded_bias;
    /* One entry per output channel when per_channel, else one entry for all. */
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t per_channel;
} mg_conv_s8_params;

static inline void mg_conv_s8(const mg_conv_s8_params *p, const int8_t *input, const int8_t *filter, int8_t *output)
{
    const int32_t groups = p->input_c / p->filter_in_c;
    const int32_t outputs_per_group = p->output_c / groups;
    const int32_t filter_tap_stride = p->filter_in_c;
    const int32_t filter_channel_stride = p->filter_h * p->filter_w * p->filter_in_c;
    int32_t b, oy, ox, oc, ky, kx, ic;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                for (oc = 0; oc < p->output_c; ++oc) {
                    const int32_t channel_offset = (oc / outputs_per_group) * p->filter_in_c;
                    const int8_t *w = filter + (size_t)oc * filter_channel_stride;
                    const int32_t q = p->per_channel ? oc : 0;
                    int32_t acc = p->folded_bias[oc];
                    for (ky = 0; ky < p->filter_h; ++ky) {
                        const int32_t in_y = in_y0 + ky * p->dilation_h;
                        const int row_inside = in_y >= 0 && in_y < p->input_h;
                        for (kx = 0; kx < p->filter_w; ++kx) {
                            const int32_t in_x = in_x0 + kx * p->dilation_w;
                            const int8_t *w_tap = w + (ky * p->filter_w + kx) * filter_tap_stride;
                            if (row_inside && in_x >= 0 && in_x < p->input_w) {
                                const int8_t *x = image + ((size_t)in_y * p->input_w + in_x) * p->input_c + channel_offset;
                                for (ic = 0; ic < p->filter_in_c; ++ic) {
                                    acc += (int32_t)w_tap[ic] * (int32_t)x[ic];
                                }
                            } else {
                                int32_t w_sum = 0;
                                for (ic = 0; ic < p->filter_in_c; ++ic) {
                                    w_sum += w_tap[ic];
                                }
                                acc += w_sum * p->input_zero_point;
                            }
                        }
                    }
                    acc = mg_multiply_by_quantized_multiplier(acc, p->multiplier[q], p->shift[q]) + p->output_zero_point;
                    output[(((size_t)b * p->output_h + oy) * p->output_w + ox) * p->output_c + oc] =
                        mg_clamp_s8(acc, p->activation_min, p->activation_max);
                }
            }
        }
    }
}

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w, filter_in_c;
    int32_t output_h, output_w, output_c;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    float activation_min, activation_max;
} mg_conv_f32_params;

/* bias may be NULL. The sum runs in TFLM's order (filter row, column, input channel), then
 * the bias is added, so results match the reference to the last bit in most cases. */
static inline void mg_conv_f32(const mg_conv_f32_params *p, const float *input, const float *filter,
                               const float *bias, float *output)
{
    const int32_t groups = p->input_c / p->filter_in_c;
    const int32_t outputs_per_group = p->output_c / groups;
    const int32_t filter_channel_stride = p->filter_h * p->filter_w * p->filter_in_c;
    int32_t b, oy, ox, oc, ky, kx, ic;

    for (b = 0; b < p->batches; ++b) {
        const float *image = input + (size_t)b * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                for (oc = 0; oc < p->output_c; ++oc) {
                    const int32_t channel_offset = (oc / outputs_per_group) * p->filter_in_c;
                    const float *w = filter + (size_t)oc * filter_channel_stride;
                    float total = 0.0f;
                    for (ky = 0; ky < p->filter_h; ++ky) {
                        const int32_t in_y = in_y0 + ky * p->dilation_h;
                        if (in_y < 0 || in_y >= p->input_h) {
                            continue;
                        }
                        for (kx = 0; kx < p->filter_w; ++kx) {
                            const int32_t in_x = in_x0 + kx * p->dilation_w;
                            const float *w_tap = w + (ky * p->filter_w + kx) * p->filter_in_c;
                            const float *x;
                            if (in_x < 0 || in_x >= p->input_w) {
                                continue;
                            }
                            x = image + ((size_t)in_y * p->input_w + in_x) * p->input_c + channel_offset;
                            for (ic = 0; ic < p->filter_in_c; ++ic) {
                                total += x[ic] * w_tap[ic];
                            }
                        }
                    }
                    if (bias) {
                        total += bias[oc];
                    }
                    output[(((size_t)b * p->output_h + oy) * p->output_w + ox) * p->output_c + oc] =
                        mg_clamp_f32(total, p->activation_min, p->activation_max);
                }
            }
        }
    }
}

#endif

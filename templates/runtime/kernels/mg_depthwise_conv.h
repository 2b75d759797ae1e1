/* DEPTHWISE_CONV_2D, NHWC activations, filter [1, filter_h, filter_w, input_c * depth_multiplier].
 * Output channel oc = ic * depth_multiplier + m reads input channel ic.
 *
 * int8 follows TFLite Micro's per-channel reference kernel bit for bit, with the input zero
 * point folded into the bias at compile time; a tap in the padding adds zp_in * w back (as if
 * the padding held zp_in), which is what TFLM's "skip the tap" amounts to. */
#ifndef MG_DEPTHWISE_CONV_H
#define MG_DEPTHWISE_CONV_H

#include "mg_common.h"

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t depth_multiplier;
    int32_t output_h, output_w, output_c;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t activation_min, activation_max;
    /* bias[c] - input_zero_point * sum over taps of filter[.., c], one per output channel. */
    const int32_t *folded_bias;
    /* One entry per output channel when per_channel, else one entry for all. */
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t per_channel;
} mg_depthwise_conv_s8_params;

static inline void mg_depthwise_conv_s8(const mg_depthwise_conv_s8_params *p, const int8_t *input,
                                        const int8_t *filter, int8_t *output)
{
    int32_t b, oy, ox, ic, m, ky, kx;

    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + (((size_t)b * p->output_h + oy) * p->output_w + ox) * p->output_c;
                for (ic = 0; ic < p->input_c; ++ic) {
                    for (m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        const int32_t q = p->per_channel ? oc : 0;
                        int32_t acc = p->folded_bias[oc];
                        for (ky = 0; ky < p->filter_h; ++ky) {
                            const int32_t in_y = in_y0 + ky * p->dilation_h;
                            const int row_inside = in_y >= 0 && in_y < p->input_h;
                            for (kx = 0; kx < p->filter_w; ++kx) {
                                const int32_t in_x = in_x0 + kx * p->dilation_w;
                                const int32_t w = filter[(ky * p->filter_w + kx) * p->output_c + oc];
                                if (row_inside && in_x >= 0 && in_x < p->input_w) {
                                    acc += w * (int32_t)image[((size_t)in_y * p->input_w + in_x) * p->input_c + ic];
                                } else {
                                    acc += w * p->input_zero_point;
                                }
                            }
                        }
                        acc = mg_multiply_by_quantized_multiplier(acc, p->multiplier[q], p->shift[q]) + p->output_zero_point;
                        out[oc] = mg_clamp_s8(acc, p->activation_min, p->activation_max);
                    }
                }
            }
        }
    }
}

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t filter_h, filter_w;
    int32_t depth_multiplier;
    int32_t output_h, output_w, output_c;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    float activation_min, activation_max;
} mg_depthwise_conv_f32_params;

/* bias may be NULL. Sums in TFLM's order (filter row, then column), then adds the bias. */
static inline void mg_depthwise_conv_f32(const mg_depthwise_conv_f32_params *p, const float *input,
                                         const float *filter, const float *bias, float *output)
{
    int32_t b, oy, ox, ic, m, ky, kx;

    for (b = 0; b < p->batches; ++b) {
        const float *image = input + (size_t)b * p->input_h * p->input_w * p->input_c;
        for (oy = 0; oy < p->output_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_left;
                float *out = output + (((size_t)b * p->output_h + oy) * p->output_w + ox) * p->output_c;
                for (ic = 0; ic < p->input_c; ++ic) {
                    for (m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        float total = 0.0f;
                        for (ky = 0; ky < p->filter_h; ++ky) {
                            const int32_t in_y = in_y0 + ky * p->dilation_h;
                            if (in_y < 0 || in_y >= p->input_h) {
                                continue;
                            }
                            for (kx = 0; kx < p->filter_w; ++kx) {
                                const int32_t in_x = in_x0 + kx * p->dilation_w;
                                if (in_x < 0 || in_x >= p->input_w) {
                                    continue;
                                }
                                total += image[((size_t)in_y * p->input_w + in_x) * p->input_c + ic] *
                                         filter[(ky * p->filter_w + kx) * p->output_c + oc];
                            }
                        }
                        if (bias) {
                            total += bias[oc];
                        }
                        out[oc] = mg_clamp_f32(total, p->activation_min, p->activation_max);
                    }
                }
            }
        }
    }
}

#endif

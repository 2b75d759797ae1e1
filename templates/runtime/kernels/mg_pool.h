/* AVERAGE_POOL_2D and MAX_POOL_2D on NHWC tensors.
 *
 * The window of each output is clipped to the input: padded positions are neither summed nor
 * counted, so an average near the border divides by the number of real elements. That is what
 * TensorFlow Lite Micro does, and int8 pooling there requires the input and output to share
 * scale and zero point, so the int8 kernels work on the raw values without requantizing. */
#ifndef MG_POOL_H
#define MG_POOL_H

#include "mg_common.h"
#include "mg_dsp.h"

typedef struct {
    int32_t batches;
    int32_t input_height, input_width;
    int32_t channels;
    int32_t output_height, output_width;
    int32_t stride_height, stride_width;
    int32_t filter_height, filter_width;
    /* Padding before the first row / column (TFLite puts any odd extra at the end). */
    int32_t pad_top, pad_left;
    /* Output clamp of the fused activation: the int8 kernels read the integer pair, the
     * float kernels the float pair. */
    int32_t activation_min, activation_max;
    float activation_min_f32, activation_max_f32;
} mg_pool_params;

/* The input window of one output position, clipped to the input. */
typedef struct {
    int32_t y_start, y_end, x_start, x_end;
} mg_pool_window;

static inline mg_pool_window mg_pool_window_at(const mg_pool_params *p, int32_t out_y, int32_t out_x)
{
    mg_pool_window w;
    const int32_t origin_y = out_y * p->stride_height - p->pad_top;
    const int32_t origin_x = out_x * p->stride_width - p->pad_left;
    w.y_start = MG_MAX(0, origin_y);
    w.y_end = MG_MIN(p->input_height, origin_y + p->filter_height);
    w.x_start = MG_MAX(0, origin_x);
    w.x_end = MG_MIN(p->input_width, origin_x + p->filter_width);
    return w;
}

static inline void mg_average_pool_s8(const mg_pool_params *p, const int8_t *input, int8_t *output)
{
    int32_t b, oy, ox, c, y, x;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + (size_t)b * p->input_height * p->input_width * p->channels;
        for (oy = 0; oy < p->output_height; ++oy) {
            for (ox = 0; ox < p->output_width; ++ox) {
                const mg_pool_window w = mg_pool_window_at(p, oy, ox);
                const int32_t count = (w.y_end - w.y_start) * (w.x_end - w.x_start);
                for (c = 0; c < p->channels; ++c) {
                    int32_t sum = 0;
                    for (y = w.y_start; y < w.y_end; ++y) {
                        for (x = w.x_start; x < w.x_end; ++x) {
                            sum += in[((size_t)y * p->input_width + x) * p->channels + c];
                        }
                    }
                    /* Round half away from zero (C division truncates toward zero). */
                    sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    *output++ = mg_clamp_s8(sum, p->activation_min, p->activation_max);
                }
            }
        }
    }
}

/* TFLM's int8 average: the sum divided by the count, rounding half away from zero. */
static inline int8_t mg_pool_average_s8(const mg_pool_params *p, int32_t sum, int32_t count)
{
    sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    return mg_clamp_s8(sum, p->activation_min, p->activation_max);
}

/* AVERAGE_POOL_2D whose single window is the whole image, with channels a multiple of 4 and at
 * most 255 pixels (the lowering checks all three). With the DSP instructions, four channels
 * are summed per word load, in int16 lanes (255 * 128 < 2^15, so no lane overflows). */
static inline void mg_global_average_pool_s8(const mg_pool_params *p, const int8_t *input, int8_t *output)
{
    const int32_t count = p->input_height * p->input_width, channels = p->channels;
    int32_t b, c, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * count * channels;
        for (c = 0; c < channels; c += 4) {
            const int8_t *x = image + c;
#if MG_USE_DSP
            uint32_t even = 0, odd = 0; /* lanes: channels (c, c+2) and (c+1, c+3) */
            for (i = 0; i < count; ++i) {
                const uint32_t w = mg_read_u32(x);
                even = mg_sxtab16(even, w);
                odd = mg_sxtab16_ror8(odd, w);
                x += channels;
            }
            output[c] = mg_pool_average_s8(p, (int16_t)(even & 0xFFFFu), count);
            output[c + 1] = mg_pool_average_s8(p, (int16_t)(odd & 0xFFFFu), count);
            output[c + 2] = mg_pool_average_s8(p, (int16_t)(even >> 16), count);
            output[c + 3] = mg_pool_average_s8(p, (int16_t)(odd >> 16), count);
#else
            int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (i = 0; i < count; ++i) {
                s0 += x[0];
                s1 += x[1];
                s2 += x[2];
                s3 += x[3];
                x += channels;
            }
            output[c] = mg_pool_average_s8(p, s0, count);
            output[c + 1] = mg_pool_average_s8(p, s1, count);
            output[c + 2] = mg_pool_average_s8(p, s2, count);
            output[c + 3] = mg_pool_average_s8(p, s3, count);
#endif
        }
        output += channels;
    }
}

static inline void mg_max_pool_s8(const mg_pool_params *p, const int8_t *input, int8_t *output)
{
    int32_t b, oy, ox, c, y, x;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + (size_t)b * p->input_height * p->input_width * p->channels;
        for (oy = 0; oy < p->output_height; ++oy) {
            for (ox = 0; ox < p->output_width; ++ox) {
                const mg_pool_window w = mg_pool_window_at(p, oy, ox);
                for (c = 0; c < p->channels; ++c) {
                    int32_t max = -128;
                    for (y = w.y_start; y < w.y_end; ++y) {
                        for (x = w.x_start; x < w.x_end; ++x) {
                            max = MG_MAX(max, (int32_t)in[((size_t)y * p->input_width + x) * p->channels + c]);
                        }
                    }
                    *output++ = mg_clamp_s8(max, p->activation_min, p->activation_max);
                }
            }
        }
    }
}

static inline void mg_average_pool_f32(const mg_pool_params *p, const float *input, float *output)
{
    int32_t b, oy, ox, c, y, x;
    for (b = 0; b < p->batches; ++b) {
        const float *in = input + (size_t)b * p->input_height * p->input_width * p->channels;
        for (oy = 0; oy < p->output_height; ++oy) {
            for (ox = 0; ox < p->output_width; ++ox) {
                const mg_pool_window w = mg_pool_window_at(p, oy, ox);
                const float count = (float)((w.y_end - w.y_start) * (w.x_end - w.x_start));
                for (c = 0; c < p->channels; ++c) {
                    /* Summed row by row, in the reference's order, so rounding matches. */
                    float sum = 0.0f;
                    for (y = w.y_start; y < w.y_end; ++y) {
                        for (x = w.x_start; x < w.x_end; ++x) {
                            sum += in[((size_t)y * p->input_width + x) * p->channels + c];
                        }
                    }
                    *output++ = mg_clamp_f32(sum / count, p->activation_min_f32, p->activation_max_f32);
                }
            }
        }
    }
}

static inline void mg_max_pool_f32(const mg_pool_params *p, const float *input, float *output)
{
    int32_t b, oy, ox, c, y, x;
    for (b = 0; b < p->batches; ++b) {
        const float *in = input + (size_t)b * p->input_height * p->input_width * p->channels;
        for (oy = 0; oy < p->output_height; ++oy) {
            for (ox = 0; ox < p->output_width; ++ox) {
                const mg_pool_window w = mg_pool_window_at(p, oy, ox);
                for (c = 0; c < p->channels; ++c) {
                    float max = -3.40282347e+38f;
                    for (y = w.y_start; y < w.y_end; ++y) {
                        for (x = w.x_start; x < w.x_end; ++x) {
                            const float v = in[((size_t)y * p->input_width + x) * p->channels + c];
                            max = v > max ? v : max;
                        }
                    }
                    *output++ = mg_clamp_f32(max, p->activation_min_f32, p->activation_max_f32);
                }
            }
        }
    }
}

#endif

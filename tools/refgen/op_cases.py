"""The operator cases: each op with a handful of option combinations, in int8 and float32.

Constraints that TFLite Micro imposes on int8 and that shape these cases:
- LOGISTIC and SOFTMAX output: scale 1/256, zero point -128; TANH output: 1/128, 0.
- AVERAGE/MAX_POOL_2D: input and output quantization must be equal (checked in Prepare).
- CONCATENATION: int8 data is copied without requantizing, so inputs and output
  share one quantization; fused activation must be NONE.
- RELU6: the int8 kernel clamps in the input's quantization and ignores the
  output's, so input and output share one quantization.
- PAD, TRANSPOSE, STRIDED_SLICE, RESHAPE, SQUEEZE move int8 values unchanged:
  output quantization equals the input's.
"""

from __future__ import annotations

from math import prod

import tflite_builder as tb
from case_spec import (CALIBRATE, SAME_AS_INPUT, Bias, Case, ConstActivation, Input, Int32Const,
                       Output, Weights, conv_output_size, slice_output_shape)
from tflite_builder import Activation, Padding

DTYPES = ("int8", "float32")

ACTIVATION_NAMES = {
    Activation.NONE: "none", Activation.RELU: "relu",
    Activation.RELU6: "relu6", Activation.RELU_N1_TO_1: "relu_n1_to_1",
}


def _margin(activation) -> float:
    # With a fused activation, widen the output range so the activation's clamp
    # falls inside int8 and is tested, not hidden by int8 saturation.
    return 0.0 if activation == Activation.NONE else 0.15


def conv_2d(variant, in_shape, out_ch, kernel, stride=(1, 1), dilation=(1, 1), same=True,
            activation=Activation.NONE, bias=True, gain=1.5, groups=1):
    # groups > 1: a grouped convolution, each filter reading c / groups input channels.
    n, h, w, c = in_shape
    kh, kw = kernel
    fc = c // groups
    oh = conv_output_size(h, kh, stride[0], dilation[0], same)
    ow = conv_output_size(w, kw, stride[1], dilation[1], same)
    for dtype in DTYPES:
        yield Case(
            "CONV_2D", f"{dtype}_{variant}", dtype,
            f"input {list(in_shape)}, filter [{out_ch},{kh},{kw},{fc}], {'SAME' if same else 'VALID'}, "
            f"stride {stride}, dilation {dilation}, activation {ACTIVATION_NAMES[activation]}, "
            f"{'with' if bias else 'no'} bias",
            [Input(in_shape), Weights([out_ch, kh, kw, fc], 0, kh * kw * fc, gain),
             Bias(out_ch) if bias else None],
            Output([n, oh, ow, out_ch], CALIBRATE, _margin(activation)),
            tb.conv2d_options(Padding.SAME if same else Padding.VALID, stride[0], stride[1],
                              activation, dilation[0], dilation[1]))


def depthwise_conv_2d(variant, in_shape, multiplier, kernel, stride=(1, 1), dilation=(1, 1),
                      same=True, activation=Activation.NONE, bias=True, gain=1.5):
    n, h, w, c = in_shape
    kh, kw = kernel
    oh = conv_output_size(h, kh, stride[0], dilation[0], same)
    ow = conv_output_size(w, kw, stride[1], dilation[1], same)
    out_ch = c * multiplier
    for dtype in DTYPES:
        yield Case(
            "DEPTHWISE_CONV_2D", f"{dtype}_{variant}", dtype,
            f"input {list(in_shape)}, filter [1,{kh},{kw},{out_ch}], depth multiplier {multiplier}, "
            f"{'SAME' if same else 'VALID'}, stride {stride}, dilation {dilation}, "
            f"activation {ACTIVATION_NAMES[activation]}, {'with' if bias else 'no'} bias",
            # No bias: two inputs. TFLM's DEPTHWISE_CONV_2D crashes on an explicit -1
            # bias index (CONV_2D and FULLY_CONNECTED cases use -1 instead).
            [Input(in_shape), Weights([1, kh, kw, out_ch], 3, kh * kw, gain)] + ([Bias(out_ch)] if bias else []),
            Output([n, oh, ow, out_ch], CALIBRATE, _margin(activation)),
            tb.depthwise_options(Padding.SAME if same else Padding.VALID, stride[0], stride[1],
                                 multiplier, activation, dilation[0], dilation[1]))


def fully_connected(variant, in_shape, units, activation=Activation.NONE, bias=True, gain=1.5):
    depth = in_shape[-1] if len(in_shape) == 2 else prod(in_shape[1:])
    batch = prod(in_shape) // depth
    for dtype in DTYPES:
        yield Case(
            "FULLY_CONNECTED", f"{dtype}_{variant}", dtype,
            f"input {list(in_shape)}, weights [{units},{depth}] (per-tensor), "
            f"activation {ACTIVATION_NAMES[activation]}, {'with' if bias else 'no'} bias",
            [Input(in_shape), Weights([units, depth], None, depth, gain), Bias(units) if bias else None],
            Output([batch, units], CALIBRATE, _margin(activation)),
            tb.fully_connected_options(activation))


def pool_2d(op, variant, in_shape, filt, stride, same, activation=Activation.NONE, in_quant=None,
            float_input_std=1.0):
    n, h, w, c = in_shape
    oh = conv_output_size(h, filt[0], stride[0], 1, same)
    ow = conv_output_size(w, filt[1], stride[1], 1, same)
    for dtype in DTYPES:
        yield Case(
            op, f"{dtype}_{variant}", dtype,
            f"input {list(in_shape)}, filter {filt}, stride {stride}, {'SAME' if same else 'VALID'}, "
            f"activation {ACTIVATION_NAMES[activation]}; int8 output quantization equals the input's",
            [Input(in_shape, in_quant)],
            Output([n, oh, ow, c], SAME_AS_INPUT),
            tb.pool2d_options(Padding.SAME if same else Padding.VALID, stride[0], stride[1],
                              filt[0], filt[1], activation),
            float_input_std=float_input_std)


def softmax(variant, shape, beta, in_quant=(0.025, 12)):
    for dtype in DTYPES:
        yield Case(
            "SOFTMAX", f"{dtype}_{variant}", dtype,
            f"input {list(shape)}, beta {beta}; int8 output scale 1/256 zero point -128",
            [Input(shape, in_quant)], Output(shape, (1.0 / 256, -128)),
            tb.softmax_options(beta), float_input_std=1.5)


def elementwise(op, options_fn):
    name = op.lower()
    base = [1, 4, 4, 3]

    def case(variant, second, activation=Activation.NONE, out_shape=base, what=""):
        # Float inputs large enough that a fused RELU6 clips.
        float_std = 1.0 if activation == Activation.NONE else 3.0
        for dtype in DTYPES:
            yield Case(
                op, f"{dtype}_{variant}", dtype,
                f"{name} [1,4,4,3] with {what}, activation {ACTIVATION_NAMES[activation]}; "
                "int8 inputs have different scales",
                [Input(base, (0.03, -6)), second],
                Output(out_shape, CALIBRATE, _margin(activation)),
                options_fn(activation), float_input_std=float_std)

    yield from case("same_shape", Input(base, (0.05, 11)), what="[1,4,4,3]")
    yield from case("broadcast_channel", Input([1, 1, 1, 3], (0.02, -20)), what="[1,1,1,3] (broadcast)")
    yield from case("broadcast_spatial", Input([1, 4, 4, 1], (0.045, 3)), what="[1,4,4,1] (broadcast)")
    yield from case("const_operand", ConstActivation([1, 1, 1, 3], 1.5), what="a constant [1,1,1,3]")
    yield from case("same_shape_relu6", Input(base, (0.05, 11)), Activation.RELU6, what="[1,4,4,3]")
    yield from case("broadcast_channel_relu", Input([1, 1, 1, 3], (0.02, -20)), Activation.RELU,
                    what="[1,1,1,3] (broadcast)")


def unary(op, variant, shape, in_quant, out_quant, options=None, dtypes=DTYPES, description="",
          float_input_std=2.0, margin=0.0):
    for dtype in dtypes:
        yield Case(
            op, f"{dtype}_{variant}" if variant else dtype, dtype,
            f"input {list(shape)}{'; ' + description if description else ''}",
            [Input(shape, in_quant)], Output(shape, out_quant, margin), options,
            float_input_std=float_input_std)


def activations():
    shape = [1, 6, 6, 8]
    yield from unary("LOGISTIC", "", shape, (0.06, 5), (1.0 / 256, -128), dtypes=("float32",), float_input_std=3.0)
    yield from unary("LOGISTIC", "", shape, (0.04, 5), (1.0 / 256, -128), dtypes=("int8",),
                     description="int8 input scale 0.04 zp 5, output scale 1/256 zp -128")
    yield from unary("LOGISTIC", "narrow_input", shape, (0.02, -10), (1.0 / 256, -128), dtypes=("int8",),
                     description="int8 input scale 0.02 zp -10, output scale 1/256 zp -128")
    yield from unary("TANH", "", shape, (0.03, -4), (1.0 / 128, 0), dtypes=("float32",))
    yield from unary("TANH", "", shape, (0.015, -4), (1.0 / 128, 0), dtypes=("int8",),
                     description="int8 input scale 0.015 zp -4, output scale 1/128 zp 0")
    yield from unary("TANH", "wide_input", shape, (0.025, 20), (1.0 / 128, 0), dtypes=("int8",),
                     description="int8 input scale 0.025 zp 20 (range [-3.7,2.7], tanh saturates at the ends), "
                                 "output scale 1/128 zp 0")
    yield from unary("RELU", "", shape, (0.04, 7), CALIBRATE, dtypes=("float32",))
    yield from unary("RELU", "rescale", shape, (0.04, 7), CALIBRATE, dtypes=("int8",),
                     description="int8 output scale from the output range (zero point -128)")
    yield from unary("RELU", "wide_output", shape, (0.04, 7), CALIBRATE, dtypes=("int8",), margin=0.3,
                     description="int8 output range wider than [0,max], so the clamp at the zero point is tested")
    yield from unary("RELU6", "", shape, (0.06, -20), SAME_AS_INPUT, dtypes=("float32",), float_input_std=5.0)
    yield from unary("RELU6", "same_quant", shape, (0.06, -20), SAME_AS_INPUT, dtypes=("int8",),
                     description="input range [-6.5,8.8]; TFLM's int8 RELU6 clamps in the input quantization "
                                 "and ignores the output's, so they are equal")
    for alpha, tag in ((0.2, "alpha0p2"), (0.5, "alpha0p5")):
        yield from unary("LEAKY_RELU", tag, shape, (0.05, 10), CALIBRATE, tb.leaky_relu_options(alpha),
                         description=f"alpha {alpha}; int8 output scale differs from the input's")
    yield from unary("HARD_SWISH", "", shape, (0.04, 10), CALIBRATE, float_input_std=3.0,
                     description="int8 input range [-5.5,4.7], output scale from the output range")
    yield from unary("HARD_SWISH", "narrow_input", shape, (0.015, -30), CALIBRATE, dtypes=("int8",),
                     description="int8 input range [-1.5,2.4], output scale from the output range")


def quantize_ops():
    shape = [1, 5, 5, 8]
    yield Case("QUANTIZE", "float32_to_int8", "int8", "float32 input [1,5,5,8] to int8 scale 0.02 zp -7",
               [Input(shape, dtype="float32")], Output(shape, (0.02, -7)))
    yield Case("QUANTIZE", "int8_requantize", "int8",
               "int8 scale 0.05 zp 3 to int8 scale 0.06 zp -10 (no saturation)",
               [Input(shape, (0.05, 3))], Output(shape, (0.06, -10)))
    yield Case("QUANTIZE", "int8_requantize_finer", "int8",
               "int8 scale 0.04 zp 0 to int8 scale 0.035 zp -3 (finer scale: the ends saturate)",
               [Input(shape, (0.04, 0))], Output(shape, (0.035, -3)))
    yield Case("DEQUANTIZE", "int8_to_float32", "int8", "int8 [1,5,5,8] scale 0.03 zp -9 to float32",
               [Input(shape, (0.03, -9))], Output(shape, dtype="float32"))
    yield Case("DEQUANTIZE", "int8_to_float32_2d", "int8", "int8 [4,20] scale 0.125 zp 17 to float32",
               [Input([4, 20], (0.125, 17))], Output([4, 20], dtype="float32"))


def data_movement():
    # PAD: int8 pads with the zero point; output quantization equals the input's.
    for variant, shape, pads in (
            ("spatial", [1, 5, 6, 3], [[0, 0], [1, 2], [2, 0], [0, 0]]),
            ("all_axes", [1, 4, 4, 5], [[1, 0], [0, 1], [1, 3], [2, 1]])):
        out = [d + p[0] + p[1] for d, p in zip(shape, pads)]
        for dtype in DTYPES:
            yield Case("PAD", f"{dtype}_{variant}", dtype, f"input {shape}, paddings {pads}",
                       [Input(shape, (0.04, -17)), Int32Const(pads)], Output(out, SAME_AS_INPUT),
                       tb.empty_options("PadOptions"))

    # CONCATENATION: inputs and output share one quantization in int8.
    q = (0.035, 6)
    for variant, shapes, axis in (
            ("axis3", [[1, 4, 4, 3], [1, 4, 4, 5]], 3),
            ("axis1", [[1, 2, 5, 4], [1, 3, 5, 4]], 1),
            ("negative_axis", [[2, 3, 6], [2, 3, 2]], -1),
            ("three_inputs_axis2", [[1, 3, 2, 4], [1, 3, 4, 4], [1, 3, 1, 4]], 2)):
        rank = len(shapes[0])
        positive = axis % rank
        out = list(shapes[0])
        out[positive] = sum(s[positive] for s in shapes)
        for dtype in DTYPES:
            yield Case("CONCATENATION", f"{dtype}_{variant}", dtype,
                       f"inputs {shapes}, axis {axis}; int8 inputs and output share scale {q[0]} zp {q[1]}",
                       [Input(s, q) for s in shapes], Output(out, SAME_AS_INPUT),
                       tb.concatenation_options(axis))

    # MEAN over H and W.
    shape = [1, 5, 6, 8]
    for keep in (True, False):
        out = [1, 1, 1, 8] if keep else [1, 8]
        tag = "keepdims" if keep else "nokeepdims"
        yield Case("MEAN", f"float32_axes12_{tag}", "float32", f"input {shape}, axes [1,2], keep_dims {keep}",
                   [Input(shape), Int32Const([1, 2])], Output(out), tb.reducer_options(keep))
        yield Case("MEAN", f"int8_axes12_{tag}_same_quant", "int8",
                   f"input {shape}, axes [1,2], keep_dims {keep}; output quantization equals the input's",
                   [Input(shape, (0.05, -9)), Int32Const([1, 2])], Output(out, SAME_AS_INPUT),
                   tb.reducer_options(keep))
        yield Case("MEAN", f"int8_axes12_{tag}_requant", "int8",
                   f"input {shape}, axes [1,2], keep_dims {keep}; output scale from the output range",
                   [Input(shape, (0.05, -9)), Int32Const([1, 2])], Output(out, CALIBRATE),
                   tb.reducer_options(keep))

    # TRANSPOSE.
    for variant, shape, perm in (("4d_perm0312", [1, 3, 4, 5], [0, 3, 1, 2]),
                                 ("3d_perm201", [3, 4, 5], [2, 0, 1])):
        out = [shape[p] for p in perm]
        for dtype in DTYPES:
            yield Case("TRANSPOSE", f"{dtype}_{variant}", dtype, f"input {shape}, perm {perm}",
                       [Input(shape, (0.03, 4)), Int32Const(perm)], Output(out, SAME_AS_INPUT),
                       tb.empty_options("TransposeOptions"))

    # STRIDED_SLICE on [1,6,8,4].
    shape = [1, 6, 8, 4]
    for variant, begin, end, strides, masks, what in (
            ("begin_end_masks", [0, 1, 2, 0], [0, 5, 0, 3], [1, 1, 1, 1],
             dict(begin_mask=0b0001, end_mask=0b0101), "begin_mask 1, end_mask 5"),
            ("stride2", [0, 0, 1, 0], [1, 6, 8, 4], [1, 2, 2, 1], {}, "strides 2 on H and W"),
            ("negative_stride", [0, 5, -1, 0], [1, 0, 0, 4], [1, -1, -2, 1],
             dict(end_mask=0b0100), "negative strides, negative begin, end_mask 4"),
            ("shrink_axis", [0, 2, 0, 1], [1, 3, 8, 2], [1, 1, 1, 1],
             dict(shrink_axis_mask=0b1010), "shrink_axis_mask 10 (H and C)")):
        out = slice_output_shape(shape, begin, end, strides, **masks)
        for dtype in DTYPES:
            yield Case("STRIDED_SLICE", f"{dtype}_{variant}", dtype,
                       f"input {shape}, begin {begin}, end {end}, strides {strides}, {what}",
                       [Input(shape, (0.02, -3)), Int32Const(begin), Int32Const(end), Int32Const(strides)],
                       Output(out, SAME_AS_INPUT), tb.strided_slice_options(**masks))

    # RESHAPE with the new shape as a constant input tensor (no options).
    for variant, shape, new_shape, out in (("4d_to_2d", [1, 4, 4, 6], [1, 96], [1, 96]),
                                           ("2d_to_4d", [2, 12], [1, 2, 3, 4], [1, 2, 3, 4]),
                                           ("minus_one", [1, 2, 4, 8], [-1, 8], [8, 8])):
        for dtype in DTYPES:
            yield Case("RESHAPE", f"{dtype}_{variant}", dtype,
                       f"input {shape}, shape tensor {new_shape}, output {out}",
                       [Input(shape, (0.05, 2)), Int32Const(new_shape)], Output(out, SAME_AS_INPUT))

    # SQUEEZE.
    for variant, shape, dims, out in (("dims12", [1, 1, 1, 10], [1, 2], [1, 10]),
                                      ("all_unit_dims", [1, 3, 1, 5], [], [3, 5])):
        for dtype in DTYPES:
            yield Case("SQUEEZE", f"{dtype}_{variant}", dtype, f"input {shape}, squeeze_dims {dims}",
                       [Input(shape, (0.05, 2))], Output(out, SAME_AS_INPUT), tb.squeeze_options(dims))


def all_cases():
    A = Activation
    yield from conv_2d("same_stride1_relu", [1, 8, 8, 3], 8, (3, 3), activation=A.RELU)
    yield from conv_2d("valid_stride2_relu6", [1, 9, 9, 4], 8, (3, 3), (2, 2), same=False,
                       activation=A.RELU6, gain=4.0)
    yield from conv_2d("same_stride2_relu_n1_to_1", [1, 7, 7, 3], 4, (3, 3), (2, 2), activation=A.RELU_N1_TO_1)
    yield from conv_2d("same_dilation2", [1, 9, 9, 2], 4, (3, 3), dilation=(2, 2))
    yield from conv_2d("valid_dilation2_stride2", [1, 11, 10, 3], 6, (3, 3), (2, 2), (2, 2), same=False)
    yield from conv_2d("kernel1x1_16ch", [1, 6, 6, 8], 16, (1, 1), same=False)
    yield from conv_2d("nonsquare_nobias", [1, 7, 10, 3], 6, (3, 2), (1, 2), bias=False)
    yield from conv_2d("same_16ch_relu", [1, 5, 5, 8], 16, (3, 3), activation=A.RELU)
    # One output pixel: an odd count, where the two-pixel kernels have a lone last pixel.
    yield from conv_2d("kernel1x1_single_pixel_128ch", [1, 1, 1, 128], 16, (1, 1), same=False)
    # Two groups of 4 input channels, 3 filters each: the int8 reference kernel's grouped path.
    yield from conv_2d("same_grouped2_relu", [1, 6, 6, 8], 6, (3, 3), activation=A.RELU, groups=2)

    yield from depthwise_conv_2d("same_mult1_relu", [1, 8, 8, 4], 1, (3, 3), activation=A.RELU)
    yield from depthwise_conv_2d("valid_mult2", [1, 7, 7, 3], 2, (3, 3), same=False)
    yield from depthwise_conv_2d("same_stride2_relu6", [1, 9, 9, 8], 1, (3, 3), (2, 2),
                                 activation=A.RELU6, gain=4.0)
    yield from depthwise_conv_2d("same_dilation2_mult2", [1, 9, 9, 2], 2, (3, 3), dilation=(2, 2))
    yield from depthwise_conv_2d("valid_stride2_relu_n1_to_1", [1, 9, 8, 6], 1, (3, 3), (2, 2), same=False,
                                 activation=A.RELU_N1_TO_1)
    yield from depthwise_conv_2d("nonsquare_nobias", [1, 6, 9, 4], 1, (2, 3), bias=False)

    yield from fully_connected("none", [1, 32], 16)
    yield from fully_connected("relu", [1, 48], 20, A.RELU)
    yield from fully_connected("relu6", [1, 24], 12, A.RELU6, gain=4.0)
    yield from fully_connected("relu_n1_to_1", [1, 24], 12, A.RELU_N1_TO_1)
    yield from fully_connected("batch2", [2, 24], 10)
    yield from fully_connected("nobias", [1, 40], 12, bias=False)
    yield from fully_connected("4d_input_flattened", [1, 2, 2, 8], 10)

    for op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        yield from pool_2d(op, "valid_2x2_stride2", [1, 8, 8, 4], (2, 2), (2, 2), False)
        yield from pool_2d(op, "same_3x3_stride2", [1, 9, 9, 3], (3, 3), (2, 2), True)
        yield from pool_2d(op, "valid_3x3_stride2_nondividing", [1, 8, 8, 3], (3, 3), (2, 2), False)
        yield from pool_2d(op, "same_2x3_stride1_relu6", [1, 6, 7, 4], (2, 3), (1, 1), True,
                           A.RELU6, (0.1, -10), float_input_std=8.0)
        yield from pool_2d(op, "same_3x2_stride21_relu_n1_to_1", [1, 7, 6, 5],
                           (3, 2), (2, 1), True, A.RELU_N1_TO_1, (0.03, 8), float_input_std=2.5)
        yield from pool_2d(op, "valid_global_5x5", [1, 5, 5, 8], (5, 5), (1, 1), False)

    yield from softmax("2d_beta1", [2, 10], 1.0)
    yield from softmax("2d_beta0p5", [2, 10], 0.5)
    yield from softmax("4d_beta1", [1, 3, 4, 6], 1.0)
    yield from softmax("4d_beta2", [1, 3, 4, 6], 2.0, in_quant=(0.015, -20))

    yield from elementwise("ADD", tb.add_options)
    yield from elementwise("SUB", tb.sub_options)
    yield from elementwise("MUL", tb.mul_options)

    yield from activations()
    yield from quantize_ops()
    yield from data_movement()

#!/usr/bin/env python3
"""Writes int8 one-operator models whose requantization multipliers are extreme but valid.

    python3 tools/refgen/make_extreme_scale_fixtures.py [--out Tests/Fixtures/extreme_scales]

Issue 10: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MEAN and QUANTIZE with weight or
input/output scale ratios far from 1, where a multiplier's shift leaves the int32 range:
  - "tiny": the multiplier is below 2^-32, so TFLM's QuantizeMultiplier flushes it to 0
    (every output is the output zero point);
  - "large": the multiplier is about 2^24, a left shift TFLM applies with wrapping int32
    arithmetic (TFLITE_NO_SANITIZE_INTEGER_OVERFLOW);
  - "huge": the multiplier is beyond 2^30. TFLM's double-rounding build then shifts
    `1 << shift` with shift >= 31, which is undefined: its output is no reference, so these
    cases store no output0.npy and the test only checks that microgen's C runs clean under
    UBSan (microgen saturates the shift at 30 as TFLM's single-rounding build does).
Layout as make_op_fixtures.py: <out>/<op>/<variant>/model.tflite, input0.npy, output0.npy
(TFLM's output, when TFLM is defined) and case.json. Seeded: re-running is byte-identical.

<out>/refused/ holds models microgen must refuse at import with one line (non-finite scales
and options): <name>.tflite and <name>.txt, a fragment the message must contain.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import tflite_builder as tb  # noqa: E402
import tflm_runner  # noqa: E402
from case_spec import Bias, Case, Input, Int32Const, Output, Weights  # noqa: E402
from fixture_builder import build  # noqa: E402
from make_op_fixtures import describe_tensor, save_npy  # noqa: E402
from tflite_builder import Activation, ModelDef, Padding, Quantization, TensorType, serialize  # noqa: E402
import numpy as np  # noqa: E402

REPO = HERE.parent.parent

# Target multipliers: tiny (below 2^-32), large (about 2^23, inside TFLM's int32 left shift)
# and huge (2^80). Output scales are chosen to give them: input * weight / output for the
# convolutions, whose input scale is 0.025 and weight scales near 0.01 (gain 1.5 / sqrt(fan_in)
# / 127 times the largest draw), and input / output for MEAN and QUANTIZE.
RATIOS = {"tiny": 2.0 ** -40, "large": 2.0 ** 23, "huge": 2.0 ** 80}
INPUT_SCALE = 0.025
INPUT_TIMES_WEIGHT_SCALE = 2.5e-4
# FULLY_CONNECTED (and the tiny-weight cases, whose int32 bias could not hold a real value)
# have no bias: TFLM checks |bias scale - input * weight scale| / output scale
# <= 0.02, which one float rounding fails when the output scale is this small.
# Whether TFLM's result is defined (see the module docstring).
TFLM_DEFINED = {"tiny": True, "large": True, "huge": False, "tiny_weights": True}


def cases():
    conv = tb.conv2d_options(Padding.SAME, 1, 1, Activation.NONE, 1, 1)
    depthwise = tb.depthwise_options(Padding.SAME, 1, 1, 1, Activation.NONE, 1, 1)
    fc = tb.fully_connected_options(Activation.NONE)
    for ratio, multiplier in RATIOS.items():
        out_scale = float(f"{INPUT_TIMES_WEIGHT_SCALE / multiplier:.3g}")
        out = (out_scale, 3)
        yield ratio, Case("CONV_2D", f"int8_{ratio}_ratio", "int8", f"CONV_2D with output scale {out_scale}",
                          [Input([1, 4, 4, 3]), Weights([4, 3, 3, 3], 0, 27, 1.5), Bias(4)],
                          Output([1, 4, 4, 4], out), conv)
        yield ratio, Case("DEPTHWISE_CONV_2D", f"int8_{ratio}_ratio", "int8", f"DEPTHWISE_CONV_2D with output scale {out_scale}",
                          [Input([1, 4, 4, 4]), Weights([1, 3, 3, 4], 3, 9, 1.5), Bias(4)],
                          Output([1, 4, 4, 4], out), depthwise)
        yield ratio, Case("FULLY_CONNECTED", f"int8_{ratio}_ratio", "int8", f"FULLY_CONNECTED with output scale {out_scale}",
                          [Input([2, 16]), Weights([5, 16], None, 16, 1.5), None],
                          Output([2, 5], out), fc)
        # MEAN and QUANTIZE requantize input / output.
        ratio_out = (float(f"{INPUT_SCALE / multiplier:.3g}"), 3)
        yield ratio, Case("MEAN", f"int8_{ratio}_ratio", "int8", f"MEAN over H, W with output scale {ratio_out[0]}",
                          [Input([1, 3, 5, 4], (INPUT_SCALE, -2)), Int32Const([1, 2])], Output([1, 4], ratio_out),
                          tb.reducer_options(False))
        yield ratio, Case("QUANTIZE", f"int8_{ratio}_ratio", "int8", f"int8 scale 0.025 to int8 scale {ratio_out[0]}",
                          [Input([2, 8], (INPUT_SCALE, -2))], Output([2, 8], ratio_out))
    # Weights whose scales are tiny (about 1e-32): input * weight / output is far below 2^-32.
    yield "tiny_weights", Case("CONV_2D", "int8_tiny_weights", "int8", "CONV_2D with weight scales near 1e-32",
                               [Input([1, 4, 4, 3]), Weights([4, 3, 3, 3], 0, 27, 1.5e-30), None],
                               Output([1, 4, 4, 4], (0.05, 3)), conv)
    yield "tiny_weights", Case("FULLY_CONNECTED", "int8_tiny_weights", "int8", "FULLY_CONNECTED with a weight scale near 1e-32",
                               [Input([2, 16]), Weights([5, 16], None, 16, 1.5e-30), None],
                               Output([2, 5], (0.05, 3)), fc)


def refused_models():
    """(file name, expected message fragment, model bytes)."""
    def conv(bias_scale, weight_scale):
        m = ModelDef(description="microgen refgen refused: non-finite scale")
        x = m.add_tensor("conv_in", TensorType.INT8, [1, 4, 4, 2], Quantization([0.02], [0]))
        w = m.add_const("conv_weights", np.ones((3, 1, 1, 2), np.int8), Quantization([weight_scale] * 3, [0] * 3, 0))
        b = m.add_const("conv_bias", np.zeros(3, np.int32), Quantization([bias_scale] * 3, [0] * 3, 0))
        y = m.add_tensor("conv_out", TensorType.INT8, [1, 4, 4, 3], Quantization([0.05], [0]))
        m.add_operator(tb.BuiltinOperator.CONV_2D, [x, w, b], [y], tb.conv2d_options(Padding.SAME, 1, 1, Activation.NONE))
        m.inputs, m.outputs = [x], [y]
        return serialize(m)

    def unary(op, options, out_quant):
        m = ModelDef(description="microgen refgen refused: non-finite option")
        x = m.add_tensor("act_in", TensorType.INT8, [1, 8], Quantization([0.05], [0]))
        y = m.add_tensor("act_out", TensorType.INT8, [1, 8], Quantization(*out_quant))
        m.add_operator(getattr(tb.BuiltinOperator, op), [x], [y], options)
        m.inputs, m.outputs = [x], [y]
        return serialize(m)

    yield "infinite_bias_scale", "tensor 2 'conv_bias' has scale 0 of 3 inf", conv(float("inf"), 0.01)
    yield "nan_weight_scale", "tensor 1 'conv_weights' has scale 0 of 3 nan", conv(0.0002, float("nan"))
    yield "nan_leaky_relu_alpha", "operator 0 (LEAKY_RELU) has alpha nan", unary("LEAKY_RELU", tb.leaky_relu_options(float("nan")), ([0.05], [0]))
    yield "nan_softmax_beta", "operator 0 (SOFTMAX) has beta nan", unary("SOFTMAX", tb.softmax_options(float("nan")), ([1 / 256], [-128]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "Tests" / "Fixtures" / "extreme_scales")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    for ratio, case in cases():
        model, inputs, out_quant = build(case)
        directory = args.out / case.op.lower() / case.variant
        directory.mkdir(parents=True)
        (directory / "model.tflite").write_bytes(model)
        for index, array in enumerate(inputs):
            save_npy(directory / f"input{index}.npy", array)
        output = tflm_runner.run(model, inputs)
        defined = TFLM_DEFINED[ratio]
        if defined:
            save_npy(directory / "output0.npy", output)
        meta = {"op": case.op, "variant": case.variant, "description": case.description,
                "tflm_defined": defined, "output": describe_tensor(output, out_quant)}
        (directory / "case.json").write_text(json.dumps(meta, indent=2) + "\n")
        print(f"{case.op:<18} {case.variant:<26} TFLM {'defined' if defined else 'undefined'}: "
              f"outputs {output.min()}..{output.max()}")
    refused = args.out / "refused"
    refused.mkdir(parents=True)
    for name, fragment, model in refused_models():
        (refused / f"{name}.tflite").write_bytes(model)
        (refused / f"{name}.txt").write_text(fragment + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

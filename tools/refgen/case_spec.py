"""Declarative description of a one-operator test case.

A case names its operator, options and operands in dtype-neutral terms; the
fixture builder turns it into a float32 or an int8 model (drawing weights and
inputs from a seeded generator and choosing the quantization).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from tflite_builder import OptionsWriter


@dataclass
class Input:
    """A non-constant operand: it becomes a model input."""

    shape: Sequence[int]
    # int8 quantization (scale, zero point); None takes a default per position.
    quant: Optional[Tuple[float, int]] = None
    # Overrides the case dtype ("float32" or "int8"), e.g. for QUANTIZE.
    dtype: Optional[str] = None


@dataclass
class Weights:
    """Filter or matrix. Float values are drawn as normal * gain / sqrt(fan_in)
    with a random per-channel factor, so per-channel scales differ."""

    shape: Sequence[int]
    # Per-channel symmetric quantization along this axis; None means per-tensor.
    channel_axis: Optional[int]
    fan_in: int
    gain: float = 1.0


@dataclass
class Bias:
    """int32 bias quantized with input_scale * weight_scale (per channel)."""

    size: int
    std: float = 0.5


@dataclass
class ConstActivation:
    """A constant operand of an elementwise op, quantized per tensor (asymmetric)."""

    shape: Sequence[int]
    std: float = 1.0


@dataclass
class Int32Const:
    """Shape, axes, paddings, perm, begin/end/strides: kept as int32."""

    values: Sequence


Operand = Union[Input, Weights, Bias, ConstActivation, Int32Const, None]

# Output quantization policies (int8 only):
CALIBRATE = "calibrate"  # from the float range of the op on the dequantized inputs
SAME_AS_INPUT = "input0"  # the op moves values without requantizing them


@dataclass
class Output:
    shape: Sequence[int]
    # CALIBRATE, SAME_AS_INPUT, or a fixed (scale, zero point).
    quant: Union[str, Tuple[float, int]] = CALIBRATE
    # Widen the calibrated range by this fraction of its span on each side, so a
    # fused activation's clamp lands inside the int8 range rather than on its ends.
    margin: float = 0.0
    dtype: Optional[str] = None


@dataclass
class Case:
    op: str  # TFLite builtin name, e.g. "CONV_2D"
    variant: str
    dtype: str  # "int8" or "float32"
    description: str
    operands: list
    output: Output
    options: Optional[OptionsWriter] = None
    # Standard deviation of float32 model inputs.
    float_input_std: float = 1.0
    notes: list = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.op.lower()}/{self.variant}"


def conv_output_size(size: int, kernel: int, stride: int, dilation: int, same: bool) -> int:
    effective = (kernel - 1) * dilation + 1
    if same:
        return (size + stride - 1) // stride
    return (size - effective + stride) // stride


def slice_output_shape(shape, begin, end, strides, begin_mask=0, end_mask=0, shrink_axis_mask=0):
    """Output shape of STRIDED_SLICE (no ellipsis/new-axis), via NumPy slicing."""
    probe = np.zeros(shape, dtype=np.int8)
    index = []
    for axis in range(len(shape)):
        if shrink_axis_mask & (1 << axis):
            index.append(begin[axis])
            continue
        start = None if begin_mask & (1 << axis) else begin[axis]
        stop = None if end_mask & (1 << axis) else end[axis]
        index.append(slice(start, stop, strides[axis]))
    return list(probe[tuple(index)].shape)

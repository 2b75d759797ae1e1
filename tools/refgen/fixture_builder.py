"""Turns a Case into a concrete one-operator model plus its inputs.

Quantization follows the TFLite int8 spec: activations per-tensor asymmetric,
conv/depthwise weights per-channel symmetric, FULLY_CONNECTED weights
per-tensor symmetric, int32 bias with scale input_scale * weight_scale.
Output scales marked CALIBRATE come from running the float twin of the int8
model (same op, dequantized constants and inputs) through TFLite Micro.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Optional

import numpy as np

import tflm_runner
from case_spec import (CALIBRATE, SAME_AS_INPUT, Bias, Case, ConstActivation, Input,
                       Int32Const, Weights)
from tflite_builder import BuiltinOperator, ModelDef, Quantization, TensorType, serialize

# Default int8 quantization of model inputs by position: distinct scales and
# non-zero zero points, so every kernel must honour both.
DEFAULT_INPUT_QUANT = [(0.025, -4), (0.04, 9), (0.03, -15)]

TENSOR_TYPES = {"float32": TensorType.FLOAT32, "int8": TensorType.INT8, "int32": TensorType.INT32}


# Tensor names in the written models (they show up in microgen's error messages).
OPERAND_NAMES = {
    Input: "input{position}", Weights: "weights", Bias: "bias",
    ConstActivation: "constant_operand{index}", Int32Const: "constant{index}",
}


@dataclass
class Operand:
    """An operand with its dtype, quantization and data fixed (data None: model input)."""

    name: str
    dtype: str
    shape: list
    quant: Optional[Quantization]
    data: Optional[np.ndarray]


def case_rng(case: Case) -> np.random.Generator:
    # A per-case seed from its name: adding or reordering cases leaves the others unchanged.
    return np.random.default_rng(zlib.crc32(f"{case.key}/{case.dtype}".encode()))


def float_weights(spec: Weights, rng) -> np.ndarray:
    w = rng.standard_normal(spec.shape) * (spec.gain / np.sqrt(spec.fan_in))
    axis = spec.channel_axis if spec.channel_axis is not None else 0
    factor_shape = [1] * len(spec.shape)
    factor_shape[axis] = spec.shape[axis]
    w *= rng.uniform(0.5, 1.5, size=factor_shape)
    return w.astype(np.float32)


def quantize_symmetric(w: np.ndarray, channel_axis: Optional[int]):
    if channel_axis is None:
        scales = np.array([np.abs(w).max() / 127.0], dtype=np.float32)
        q = np.round(w / scales[0])
    else:
        other = tuple(a for a in range(w.ndim) if a != channel_axis)
        scales = (np.abs(w).max(axis=other) / 127.0).astype(np.float32)
        shape = [1] * w.ndim
        shape[channel_axis] = -1
        q = np.round(w / scales.reshape(shape))
    return np.clip(q, -127, 127).astype(np.int8), scales


def asymmetric_quant(lo: float, hi: float):
    """int8 scale and zero point whose range covers [lo, hi] and real zero."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-6:
        hi = lo + 1e-3
    scale = float(np.float32((hi - lo) / 255.0))
    zero_point = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return scale, zero_point


def quantize_values(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)


def per_tensor(scale: float, zero_point: int) -> Quantization:
    return Quantization([scale], [zero_point])


def resolve_operands(case: Case, rng):
    """Draw constants and inputs; returns (operands, model input arrays)."""
    operands: list[Optional[Operand]] = []
    inputs = []
    input_position = 0
    act_quant = None  # quantization of operand 0, which biases scale against
    weight_scales = None
    for index, spec in enumerate(case.operands):
        name = OPERAND_NAMES.get(type(spec), "operand").format(index=index, position=input_position)
        if spec is None:
            operands.append(None)
        elif isinstance(spec, Input):
            dtype = spec.dtype or case.dtype
            if dtype == "float32":
                data = (rng.standard_normal(spec.shape) * case.float_input_std).astype(np.float32)
                quant = None
            else:
                scale, zp = spec.quant or DEFAULT_INPUT_QUANT[input_position]
                data = rng.integers(-128, 128, size=spec.shape, dtype=np.int8)
                quant = per_tensor(scale, zp)
            if index == 0:
                act_quant = quant
            operands.append(Operand(name, dtype, list(spec.shape), quant, None))
            inputs.append(data)
            input_position += 1
        elif isinstance(spec, Weights):
            w = float_weights(spec, rng)
            if case.dtype == "float32":
                operands.append(Operand(name, "float32", list(w.shape), None, w))
            else:
                q, weight_scales = quantize_symmetric(w, spec.channel_axis)
                zeros = [0] * len(weight_scales)
                axis = spec.channel_axis if spec.channel_axis is not None else 0
                operands.append(Operand(name, "int8", list(w.shape), Quantization(list(weight_scales), zeros, axis), q))
        elif isinstance(spec, Bias):
            b = (rng.standard_normal(spec.size) * spec.std).astype(np.float32)
            if case.dtype == "float32":
                operands.append(Operand(name, "float32", [spec.size], None, b))
            else:
                in_scale = np.float32(act_quant.scale[0])
                scales = np.broadcast_to(weight_scales, (spec.size,)).astype(np.float32) * in_scale
                q = np.round(b / scales).astype(np.int32)
                # Per-tensor weights give a per-tensor bias scale, as the converter writes it.
                stored = list(scales) if len(weight_scales) > 1 else [scales[0]]
                operands.append(Operand(name, "int32", [spec.size], Quantization(stored, [0] * len(stored), 0), q))
        elif isinstance(spec, ConstActivation):
            v = (rng.standard_normal(spec.shape) * spec.std).astype(np.float32)
            if case.dtype == "float32":
                operands.append(Operand(name, "float32", list(spec.shape), None, v))
            else:
                scale, zp = asymmetric_quant(v.min(), v.max())
                operands.append(Operand(name, "int8", list(spec.shape), per_tensor(scale, zp), quantize_values(v, scale, zp)))
        elif isinstance(spec, Int32Const):
            v = np.array(spec.values, dtype=np.int32)
            operands.append(Operand(name, "int32", list(v.shape), None, v))
        else:
            raise TypeError(f"{case.key}: unknown operand spec {spec!r}")
    return operands, inputs


def assemble(case: Case, operands, output: Operand) -> bytes:
    model = ModelDef(description=f"microgen refgen {case.key} {case.dtype}")
    indices = []
    model_inputs = []
    for operand in operands:
        if operand is None:
            indices.append(-1)
            continue
        data = None if operand.data is None else operand.data.astype(operand.data.dtype.newbyteorder("<")).tobytes()
        t = model.add_tensor(operand.name, TENSOR_TYPES[operand.dtype], operand.shape, operand.quant, data)
        indices.append(t)
        if operand.data is None:
            model_inputs.append(t)
    out = model.add_tensor(output.name, TENSOR_TYPES[output.dtype], output.shape, output.quant)
    model.add_operator(getattr(BuiltinOperator, case.op), indices, [out], case.options)
    model.inputs = model_inputs
    model.outputs = [out]
    return serialize(model)


def dequantize_operand(operand: Optional[Operand]) -> Optional[Operand]:
    """The float twin of an int8/int32-quantized operand (raw int32 consts stay)."""
    if operand is None or operand.quant is None:
        return operand
    data = None
    if operand.data is not None:
        q = operand.quant
        shape = [1] * len(operand.shape)
        if len(q.scale) > 1:
            shape[q.quantized_dimension] = -1
        scale = np.array(q.scale, dtype=np.float32).reshape(shape)
        zp = np.array(q.zero_point, dtype=np.float32).reshape(shape)
        data = ((operand.data.astype(np.float32) - zp) * scale).astype(np.float32)
    return Operand(operand.name, "float32", operand.shape, None, data)


def dequantize_input(array: np.ndarray, operand: Operand) -> np.ndarray:
    if operand.quant is None:
        return array
    return ((array.astype(np.float32) - operand.quant.zero_point[0]) * operand.quant.scale[0]).astype(np.float32)


def calibrate_output(case: Case, operands, inputs) -> tuple:
    twin_operands = [dequantize_operand(o) for o in operands]
    model_operands = [o for o in operands if o is not None and o.data is None]
    twin_inputs = [dequantize_input(a, o) for a, o in zip(inputs, model_operands)]
    twin_output = Operand("calibration_out", "float32", list(case.output.shape), None, None)
    result = tflm_runner.run(assemble(case, twin_operands, twin_output), twin_inputs)
    lo, hi = float(result.min()), float(result.max())
    span = max(hi, 0.0) - min(lo, 0.0)
    return asymmetric_quant(lo - case.output.margin * span, hi + case.output.margin * span)


def build(case: Case):
    """Returns (model bytes, list of input arrays, output quantization or None)."""
    rng = case_rng(case)
    operands, inputs = resolve_operands(case, rng)
    out_dtype = case.output.dtype or case.dtype
    quant = None
    if out_dtype == "int8":
        policy = case.output.quant
        if policy == CALIBRATE:
            quant = per_tensor(*calibrate_output(case, operands, inputs))
        elif policy == SAME_AS_INPUT:
            quant = operands[0].quant
        else:
            quant = per_tensor(*policy)
    output = Operand("output", out_dtype, list(case.output.shape), quant, None)
    return assemble(case, operands, output), inputs, quant

"""A tiny writer for .tflite flatbuffers, built on the `tflite` schema bindings.

It knows just enough of the schema to write small test models: one subgraph,
tensors with optional (per-tensor or per-channel) quantization, constant
buffers, and operators with builtin options. Indices are not checked on
purpose, so deliberately broken models can be written too.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import flatbuffers
import numpy as np
import tflite

# `tflite/__init__.py` star-imports every generated module, so attributes such as
# `tflite.Model` are the classes; the modules themselves hold the builder
# functions we need.
_schema_modules = {}


def schema(name: str):
    if name not in _schema_modules:
        _schema_modules[name] = importlib.import_module("tflite." + name)
    return _schema_modules[name]


TensorType = tflite.TensorType
BuiltinOperator = tflite.BuiltinOperator
BuiltinOptions = tflite.BuiltinOptions
Padding = tflite.Padding
Activation = tflite.ActivationFunctionType

NUMPY_TO_TENSOR_TYPE = {
    np.dtype(np.float32): TensorType.FLOAT32,
    np.dtype(np.int8): TensorType.INT8,
    np.dtype(np.int16): TensorType.INT16,
    np.dtype(np.int32): TensorType.INT32,
    np.dtype(np.int64): TensorType.INT64,
    np.dtype(np.uint8): TensorType.UINT8,
}

# Constant data is aligned like the TFLite converter does, so kernels may read
# int32/float data straight from the flatbuffer.
BUFFER_ALIGNMENT = 16


@dataclass
class Quantization:
    scale: Sequence[float]
    zero_point: Sequence[int]
    quantized_dimension: int = 0


@dataclass
class TensorDef:
    name: str
    tensor_type: int
    shape: Sequence[int]
    buffer: int = 0
    quantization: Optional[Quantization] = None


# Writes the options table and returns (BuiltinOptions union type, offset).
OptionsWriter = Callable[[flatbuffers.Builder], "tuple[int, int]"]


@dataclass
class OperatorDef:
    builtin_code: int
    inputs: Sequence[int]
    outputs: Sequence[int]
    options: Optional[OptionsWriter] = None


@dataclass
class ModelDef:
    """Everything a one-subgraph model holds; buffer 0 is the empty sentinel."""

    tensors: list = field(default_factory=list)
    operators: list = field(default_factory=list)
    buffers: list = field(default_factory=lambda: [b""])
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    description: str = "microgen refgen"

    def add_buffer(self, data: bytes) -> int:
        self.buffers.append(bytes(data))
        return len(self.buffers) - 1

    def add_tensor(self, name, tensor_type, shape, quantization=None, data: Optional[bytes] = None) -> int:
        buffer = 0 if data is None else self.add_buffer(data)
        self.tensors.append(TensorDef(name, tensor_type, list(shape), buffer, quantization))
        return len(self.tensors) - 1

    def add_const(self, name, array: np.ndarray, quantization=None) -> int:
        array = np.ascontiguousarray(array)
        tensor_type = NUMPY_TO_TENSOR_TYPE[array.dtype]
        return self.add_tensor(name, tensor_type, array.shape, quantization, array.astype(array.dtype.newbyteorder("<")).tobytes())

    def add_operator(self, builtin_code, inputs, outputs, options: Optional[OptionsWriter] = None):
        self.operators.append(OperatorDef(builtin_code, list(inputs), list(outputs), options))


def _int_vector(builder, start_fn, values, prepend):
    start_fn(builder, len(values))
    for v in reversed(list(values)):
        prepend(v)
    return builder.EndVector()


def _aligned_bytes(builder: flatbuffers.Builder, data: bytes) -> int:
    builder.StartVector(1, len(data), BUFFER_ALIGNMENT)
    builder.head -= len(data)
    builder.Bytes[builder.head : builder.head + len(data)] = data
    builder.vectorNumElems = len(data)
    return builder.EndVector()


def _write_quantization(b: flatbuffers.Builder, q: Quantization) -> int:
    m = schema("QuantizationParameters")
    scale = _int_vector(b, m.QuantizationParametersStartScaleVector, [float(np.float32(s)) for s in q.scale], b.PrependFloat32)
    zero_point = _int_vector(b, m.QuantizationParametersStartZeroPointVector, [int(z) for z in q.zero_point], b.PrependInt64)
    m.QuantizationParametersStart(b)
    m.QuantizationParametersAddScale(b, scale)
    m.QuantizationParametersAddZeroPoint(b, zero_point)
    m.QuantizationParametersAddQuantizedDimension(b, q.quantized_dimension)
    return m.QuantizationParametersEnd(b)


def _write_tensor(b: flatbuffers.Builder, t: TensorDef) -> int:
    m = schema("Tensor")
    name = b.CreateString(t.name)
    shape = _int_vector(b, m.TensorStartShapeVector, t.shape, b.PrependInt32)
    quant = _write_quantization(b, t.quantization) if t.quantization is not None else None
    m.TensorStart(b)
    m.TensorAddShape(b, shape)
    m.TensorAddType(b, t.tensor_type)
    m.TensorAddBuffer(b, t.buffer)
    m.TensorAddName(b, name)
    if quant is not None:
        m.TensorAddQuantization(b, quant)
    return m.TensorEnd(b)


def _write_operator(b: flatbuffers.Builder, op: OperatorDef, opcode_index: int) -> int:
    m = schema("Operator")
    options = op.options(b) if op.options is not None else None
    inputs = _int_vector(b, m.OperatorStartInputsVector, op.inputs, b.PrependInt32)
    outputs = _int_vector(b, m.OperatorStartOutputsVector, op.outputs, b.PrependInt32)
    m.OperatorStart(b)
    m.OperatorAddOpcodeIndex(b, opcode_index)
    m.OperatorAddInputs(b, inputs)
    m.OperatorAddOutputs(b, outputs)
    if options is not None:
        m.OperatorAddBuiltinOptionsType(b, options[0])
        m.OperatorAddBuiltinOptions(b, options[1])
    return m.OperatorEnd(b)


def _write_operator_code(b: flatbuffers.Builder, builtin_code: int) -> int:
    m = schema("OperatorCode")
    m.OperatorCodeStart(b)
    # Codes past 127 only fit the newer int32 field; the old int8 field then
    # holds PLACEHOLDER_FOR_GREATER_OP_CODES (127), as the converter writes it.
    m.OperatorCodeAddDeprecatedBuiltinCode(b, min(builtin_code, 127))
    m.OperatorCodeAddBuiltinCode(b, builtin_code)
    m.OperatorCodeAddVersion(b, 1)
    return m.OperatorCodeEnd(b)


def _table_vector(b: flatbuffers.Builder, start_fn, offsets) -> int:
    start_fn(b, len(offsets))
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def serialize(model: ModelDef) -> bytes:
    b = flatbuffers.Builder(1024)

    opcodes: list[int] = []
    for op in model.operators:
        if op.builtin_code not in opcodes:
            opcodes.append(op.builtin_code)

    buffer_offsets = []
    bm = schema("Buffer")
    for data in model.buffers:
        data_off = _aligned_bytes(b, data) if data else None
        bm.BufferStart(b)
        if data_off is not None:
            bm.BufferAddData(b, data_off)
        buffer_offsets.append(bm.BufferEnd(b))

    tensor_offsets = [_write_tensor(b, t) for t in model.tensors]
    operator_offsets = [_write_operator(b, op, opcodes.index(op.builtin_code)) for op in model.operators]

    sg = schema("SubGraph")
    tensors_vec = _table_vector(b, sg.SubGraphStartTensorsVector, tensor_offsets)
    operators_vec = _table_vector(b, sg.SubGraphStartOperatorsVector, operator_offsets)
    inputs_vec = _int_vector(b, sg.SubGraphStartInputsVector, model.inputs, b.PrependInt32)
    outputs_vec = _int_vector(b, sg.SubGraphStartOutputsVector, model.outputs, b.PrependInt32)
    sg_name = b.CreateString("main")
    sg.SubGraphStart(b)
    sg.SubGraphAddTensors(b, tensors_vec)
    sg.SubGraphAddInputs(b, inputs_vec)
    sg.SubGraphAddOutputs(b, outputs_vec)
    sg.SubGraphAddOperators(b, operators_vec)
    sg.SubGraphAddName(b, sg_name)
    subgraph = sg.SubGraphEnd(b)

    mm = schema("Model")
    opcode_offsets = [_write_operator_code(b, c) for c in opcodes]
    opcodes_vec = _table_vector(b, mm.ModelStartOperatorCodesVector, opcode_offsets)
    subgraphs_vec = _table_vector(b, mm.ModelStartSubgraphsVector, [subgraph])
    buffers_vec = _table_vector(b, mm.ModelStartBuffersVector, buffer_offsets)
    description = b.CreateString(model.description)
    mm.ModelStart(b)
    mm.ModelAddVersion(b, 3)
    mm.ModelAddOperatorCodes(b, opcodes_vec)
    mm.ModelAddSubgraphs(b, subgraphs_vec)
    mm.ModelAddDescription(b, description)
    mm.ModelAddBuffers(b, buffers_vec)
    root = mm.ModelEnd(b)
    b.Finish(root, file_identifier=b"TFL3")
    return bytes(b.Output())


# ---- builtin options -------------------------------------------------------
# Each helper returns an OptionsWriter for OperatorDef.options.


def _options(module: str, union_type: int, fields: dict) -> OptionsWriter:
    def write(b: flatbuffers.Builder):
        m = schema(module)
        vectors = {}
        for key, value in fields.items():
            if isinstance(value, (list, tuple)):
                start = getattr(m, f"{module}Start{key}Vector")
                vectors[key] = _int_vector(b, start, value, b.PrependInt32)
        getattr(m, f"{module}Start")(b)
        for key, value in fields.items():
            add = getattr(m, f"{module}Add{key}")
            add(b, vectors[key] if key in vectors else value)
        return union_type, getattr(m, f"{module}End")(b)

    return write


def conv2d_options(padding, stride_h, stride_w, activation, dilation_h=1, dilation_w=1):
    return _options("Conv2DOptions", BuiltinOptions.Conv2DOptions, {
        "Padding": padding, "StrideW": stride_w, "StrideH": stride_h,
        "FusedActivationFunction": activation,
        "DilationWFactor": dilation_w, "DilationHFactor": dilation_h})


def depthwise_options(padding, stride_h, stride_w, multiplier, activation, dilation_h=1, dilation_w=1):
    return _options("DepthwiseConv2DOptions", BuiltinOptions.DepthwiseConv2DOptions, {
        "Padding": padding, "StrideW": stride_w, "StrideH": stride_h,
        "DepthMultiplier": multiplier, "FusedActivationFunction": activation,
        "DilationWFactor": dilation_w, "DilationHFactor": dilation_h})


def fully_connected_options(activation, keep_num_dims=False):
    return _options("FullyConnectedOptions", BuiltinOptions.FullyConnectedOptions, {
        "FusedActivationFunction": activation, "KeepNumDims": keep_num_dims})


def pool2d_options(padding, stride_h, stride_w, filter_h, filter_w, activation):
    return _options("Pool2DOptions", BuiltinOptions.Pool2DOptions, {
        "Padding": padding, "StrideW": stride_w, "StrideH": stride_h,
        "FilterWidth": filter_w, "FilterHeight": filter_h,
        "FusedActivationFunction": activation})


def softmax_options(beta):
    return _options("SoftmaxOptions", BuiltinOptions.SoftmaxOptions, {"Beta": beta})


def add_options(activation):
    return _options("AddOptions", BuiltinOptions.AddOptions, {"FusedActivationFunction": activation})


def sub_options(activation):
    return _options("SubOptions", BuiltinOptions.SubOptions, {"FusedActivationFunction": activation})


def mul_options(activation):
    return _options("MulOptions", BuiltinOptions.MulOptions, {"FusedActivationFunction": activation})


def leaky_relu_options(alpha):
    return _options("LeakyReluOptions", BuiltinOptions.LeakyReluOptions, {"Alpha": alpha})


def concatenation_options(axis, activation=Activation.NONE):
    return _options("ConcatenationOptions", BuiltinOptions.ConcatenationOptions, {
        "Axis": axis, "FusedActivationFunction": activation})


def reducer_options(keep_dims):
    return _options("ReducerOptions", BuiltinOptions.ReducerOptions, {"KeepDims": keep_dims})


def strided_slice_options(begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0):
    return _options("StridedSliceOptions", BuiltinOptions.StridedSliceOptions, {
        "BeginMask": begin_mask, "EndMask": end_mask, "EllipsisMask": ellipsis_mask,
        "NewAxisMask": new_axis_mask, "ShrinkAxisMask": shrink_axis_mask})


def squeeze_options(squeeze_dims):
    return _options("SqueezeOptions", BuiltinOptions.SqueezeOptions, {"SqueezeDims": list(squeeze_dims)})


def empty_options(module: str):
    """Ops whose options table has no fields (PAD, TRANSPOSE, ...)."""
    return _options(module, getattr(BuiltinOptions, module), {})


def gather_options(axis, batch_dims=0):
    return _options("GatherOptions", BuiltinOptions.GatherOptions, {"Axis": axis, "BatchDims": batch_dims})

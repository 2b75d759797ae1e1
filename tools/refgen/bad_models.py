"""Models that microgen must reject, each with a clear error.

The first two are valid TFLite models (TFLite Micro runs them); the last two are
broken on purpose and must never reach TFLite Micro.
"""

from __future__ import annotations

import numpy as np

import tflite_builder as tb
import tflm_runner
from tflite_builder import Activation, BuiltinOperator, ModelDef, Quantization, TensorType, serialize

BAD_MODELS = {
    "int16_activations.tflite":
        "a valid 16x8 FULLY_CONNECTED (int16 activations, int8 weights, int64 bias): int16 activations are unsupported",
    "unsupported_ops.tflite":
        "a valid float32 graph SIN -> SIN -> GATHER -> RELU: SIN x2 and GATHER x1 are unsupported, RELU is supported",
    "tensor_index_out_of_range.tflite":
        "ADD whose second input is tensor 7 while the subgraph has 3 tensors",
    "buffer_index_out_of_range.tflite":
        "FULLY_CONNECTED whose weights tensor names buffer 9 while the model has 3 buffers",
}


def int16_activations():
    rng = np.random.default_rng(16)
    m = ModelDef(description="microgen refgen bad: int16 activations")
    in_scale, w_scale, out_scale = 0.0005, 0.01, 0.002
    x = m.add_tensor("fc_in", TensorType.INT16, [1, 16], Quantization([in_scale], [0]))
    w = m.add_const("fc_weights", rng.integers(-127, 128, size=(8, 16), dtype=np.int8), Quantization([w_scale], [0]))
    b = m.add_const("fc_bias", rng.integers(-20000, 20000, size=8).astype(np.int64),
                    Quantization([in_scale * w_scale], [0]))
    y = m.add_tensor("fc_out", TensorType.INT16, [1, 8], Quantization([out_scale], [0]))
    m.add_operator(BuiltinOperator.FULLY_CONNECTED, [x, w, b], [y], tb.fully_connected_options(Activation.NONE))
    m.inputs, m.outputs = [x], [y]
    data = serialize(m)
    probe = rng.integers(-3000, 3000, size=(1, 16)).astype(np.int16)
    return data, [probe]


def unsupported_ops():
    m = ModelDef(description="microgen refgen bad: unsupported ops")
    x = m.add_tensor("x", TensorType.FLOAT32, [4, 8])
    s1 = m.add_tensor("sin1", TensorType.FLOAT32, [4, 8])
    s2 = m.add_tensor("sin2", TensorType.FLOAT32, [4, 8])
    idx = m.add_const("gather_indices", np.array([3, 0], dtype=np.int32))
    g = m.add_tensor("gathered", TensorType.FLOAT32, [2, 8])
    y = m.add_tensor("y", TensorType.FLOAT32, [2, 8])
    m.add_operator(BuiltinOperator.SIN, [x], [s1])
    m.add_operator(BuiltinOperator.SIN, [s1], [s2])
    m.add_operator(BuiltinOperator.GATHER, [s2, idx], [g], tb.gather_options(0))
    m.add_operator(BuiltinOperator.RELU, [g], [y])
    m.inputs, m.outputs = [x], [y]
    probe = np.random.default_rng(17).standard_normal((4, 8)).astype(np.float32)
    return serialize(m), [probe]


def tensor_index_out_of_range():
    m = ModelDef(description="microgen refgen bad: tensor index out of range")
    a = m.add_tensor("a", TensorType.FLOAT32, [1, 4])
    b = m.add_tensor("b", TensorType.FLOAT32, [1, 4])
    y = m.add_tensor("y", TensorType.FLOAT32, [1, 4])
    m.add_operator(BuiltinOperator.ADD, [a, 7], [y], tb.add_options(Activation.NONE))
    m.inputs, m.outputs = [a, b], [y]
    return serialize(m)


def buffer_index_out_of_range():
    m = ModelDef(description="microgen refgen bad: buffer index out of range")
    x = m.add_tensor("x", TensorType.FLOAT32, [1, 4])
    w = m.add_const("weights", np.ones((2, 4), dtype=np.float32))
    bias = m.add_const("bias", np.zeros(2, dtype=np.float32))
    y = m.add_tensor("y", TensorType.FLOAT32, [1, 2])
    m.tensors[w].buffer = 9
    m.add_operator(BuiltinOperator.FULLY_CONNECTED, [x, w, bias], [y], tb.fully_connected_options(Activation.NONE))
    m.inputs, m.outputs = [x], [y]
    assert len(m.buffers) == 3
    return serialize(m)


def build_all():
    """Returns {file name: bytes}; the valid ones are first run through TFLite Micro."""
    files = {}
    for name, make in (("int16_activations.tflite", int16_activations), ("unsupported_ops.tflite", unsupported_ops)):
        data, probe = make()
        tflm_runner.run(data, probe)  # raises if TFLite Micro does not accept it
        files[name] = data
    files["tensor_index_out_of_range.tflite"] = tensor_index_out_of_range()
    files["buffer_index_out_of_range.tflite"] = buffer_index_out_of_range()
    return files

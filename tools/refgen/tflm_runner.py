"""Runs a model through the TensorFlow Lite Micro Python interpreter."""

from __future__ import annotations

import numpy as np
from tflite_micro.python.tflite_micro import runtime

# The runtime's default arena (10x the model size) is too small for tiny models.
ARENA_BYTES = 1 << 20


class Refused(Exception):
    """TFLite Micro rejected the model (at prepare or at invoke)."""


def run(model: bytes, inputs, arena_bytes: int = ARENA_BYTES) -> np.ndarray:
    try:
        interpreter = runtime.Interpreter.from_bytes(model, arena_size=arena_bytes)
        for index, array in enumerate(inputs):
            interpreter.set_input(array, index)
        interpreter.invoke()
        return np.array(interpreter.get_output(0), copy=True)
    except RuntimeError as error:
        raise Refused(str(error)) from error

#!/usr/bin/env python3
"""Writes the reference vectors of the MLPerf Tiny models in models/mlperf/.

    python3 tools/refgen/make_model_vectors.py [--models models/mlperf] [--out models/mlperf/vectors]

For every <model>.tflite in --models, into <out>/<model>/: the inputs (from the
recipe below, so they are the same on every run), the output of the TensorFlow
Lite Micro interpreter (the bit-exact target), the output of the TensorFlow Lite
reference kernels (ai-edge-litert, BUILTIN_REF), and for int8 models every
operator's output on cases 0 and 1 (from the TFLite reference kernels), all
listed in manifest.json. models/mlperf/README.md describes the layout.
To check the committed vectors: write them to another folder and `diff -r`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import tflm_runner  # noqa: E402
from make_op_fixtures import save_npy  # noqa: E402
from ai_edge_litert import interpreter as litert  # noqa: E402

REPO = HERE.parent.parent
INT8_CASES, FLOAT_CASES = 5, 3
# Cases whose every operator output is stored (int8 models only).
INTERMEDIATE_CASES = (0, 1)
# The float models need more than the runner's default arena.
TFLM_ARENA_BYTES = 4 << 20

TFLM_VERSION = "0.dev20261023182759"
LITERT_VERSION = "2.3.0"
INPUT_RECIPE = ("float: numpy default_rng(1000+k).standard_normal; int: case 0 = ((i*7+3)%256)-128 "
                "over the flat index i, case k>0 = default_rng(k).integers(-128,128)")
INTERMEDIATES_NOTE = ("Every operator output (cases 0 and 1) from the TFLite reference kernels. For kws, vww "
                      "and ResNet they equal TFLite Micro's bit for bit; for ad01 the TFLite Micro rounding "
                      "can differ by 1-2.")
TFLM_REFUSED_NOTE = ("TFLM cannot run this model (hybrid weights-only quantization); only the TFLite "
                     "reference output exists")


def make_input(detail: dict, case: int) -> np.ndarray:
    shape, dtype = tuple(detail["shape"]), detail["dtype"]
    if dtype == np.float32:
        return np.random.default_rng(1000 + case).standard_normal(shape).astype(np.float32)
    if case == 0:
        flat = (np.arange(int(np.prod(shape))) * 7 + 3) % 256 - 128
        return flat.reshape(shape).astype(dtype)
    return np.random.default_rng(case).integers(-128, 128, size=shape).astype(dtype)


def reference_interpreter(model: Path):
    """The TFLite reference kernels, keeping every tensor so intermediates can be read."""
    interpreter = litert.Interpreter(
        model_path=str(model),
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    return interpreter


def describe(detail: dict) -> dict:
    scale, zero_point = detail["quantization"]
    return {"name": detail["name"], "shape": [int(d) for d in detail["shape"]],
            "dtype": np.dtype(detail["dtype"]).name, "scale": float(scale), "zero_point": int(zero_point)}


def intermediates(interpreter, prefix: str, directory: Path) -> list:
    rows = []
    for op in interpreter._get_ops_details():
        tensor = int(op["outputs"][0])
        name = f"{prefix}_op{op['index']:02d}_{op['op_name'].lower()}_t{tensor}.npy"
        save_npy(directory / name, interpreter.get_tensor(tensor))
        rows.append({"op_index": int(op["index"]), "op": op["op_name"], "tensor_index": tensor,
                     "tensor_name": interpreter._get_tensor_details(tensor, 0)["name"], "file": name})
    return rows


def write_model(model: Path, directory: Path) -> list:
    """Writes one model's vectors; returns a line per case for the summary."""
    directory.mkdir(parents=True, exist_ok=True)
    interpreter = reference_interpreter(model)
    (input_detail,), (output_detail,) = interpreter.get_input_details(), interpreter.get_output_details()
    quantized = input_detail["dtype"] != np.float32
    model_bytes = model.read_bytes()
    cases, summary = [], []
    for k in range(INT8_CASES if quantized else FLOAT_CASES):
        prefix = f"case{k}"
        case_input = make_input(input_detail, k)
        save_npy(directory / f"{prefix}_input0.npy", case_input)
        interpreter.set_tensor(input_detail["index"], case_input)
        interpreter.invoke()
        reference = interpreter.get_tensor(output_detail["index"])
        save_npy(directory / f"{prefix}_output0_tflite_ref.npy", reference)
        case = {"inputs": [f"{prefix}_input0.npy"]}
        try:
            tflm = tflm_runner.run(model_bytes, [case_input], arena_bytes=TFLM_ARENA_BYTES)
        except tflm_runner.Refused:
            case["outputs_tflite_ref"] = [f"{prefix}_output0_tflite_ref.npy"]
            case["note"] = TFLM_REFUSED_NOTE
            summary.append(f"{model.stem} {prefix}: TFLM refused; TFLite reference only")
        else:
            save_npy(directory / f"{prefix}_output0.npy", tflm)
            difference = float(np.max(np.abs(tflm.astype(np.float64) - reference.astype(np.float64))))
            case["outputs"] = [f"{prefix}_output0.npy"]
            case["outputs_tflite_ref"] = [f"{prefix}_output0_tflite_ref.npy"]
            case["max_abs_diff_tflm_vs_tflite_ref"] = [difference]
            summary.append(f"{model.stem} {prefix}: TFLM vs TFLite reference max |diff| {difference:g}")
        if quantized and k in INTERMEDIATE_CASES:
            case["intermediates_tflite_ref"] = intermediates(interpreter, prefix, directory)
        cases.append(case)

    manifest = {
        "model": model.name,
        "outputs_from": f"TensorFlow Lite Micro reference interpreter (PyPI tflite-micro {TFLM_VERSION})",
        "outputs_tflite_ref_from": f"TensorFlow Lite reference kernels (ai-edge-litert {LITERT_VERSION}, BUILTIN_REF)",
        "input_recipe": INPUT_RECIPE,
        "inputs": [describe(input_detail)],
        "outputs": [describe(output_detail)],
        "cases": cases,
    }
    if quantized:
        manifest["intermediates_note"] = INTERMEDIATES_NOTE
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=REPO / "models" / "mlperf",
                        help="folder with the .tflite files (default: models/mlperf of this repository)")
    parser.add_argument("--out", type=Path, help="vectors root (default: <models>/vectors)")
    args = parser.parse_args()
    out = args.out or args.models / "vectors"
    models = sorted(args.models.glob("*.tflite"))
    if not models:
        raise SystemExit(f"no .tflite files in {args.models}")
    for model in models:
        for line in write_model(model, out / model.stem):
            print(line)
    print(f"\nvectors of {len(models)} models written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

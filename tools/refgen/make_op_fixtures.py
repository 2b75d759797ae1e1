#!/usr/bin/env python3
"""Writes single-operator reference fixtures and bad-input models for microgen's tests.

    python3 tools/refgen/make_op_fixtures.py [--out Tests/Fixtures] [--only conv_2d]

For each case in op_cases.py: a one-operator model.tflite, its inputs, the
TensorFlow Lite Micro output and a case.json, under <out>/ops/<op>/<variant>/
(layout in the fixtures contract). Bad models go to <out>/bad/. Everything is
seeded, so re-running gives byte-identical files. Prints a summary table and
exits non-zero if TFLite Micro refused a case or an int8 output is saturated.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import bad_models  # noqa: E402
import fixture_builder  # noqa: E402
import op_cases  # noqa: E402
import tflm_runner  # noqa: E402

REPO = HERE.parent.parent
# An int8 output with more than this fraction of its elements clamped to the int8
# range is reported as saturated (its scale was badly chosen).
SATURATION_LIMIT = 0.25


def save_npy(path: Path, array: np.ndarray):
    # Little-endian, C order; np.save writes format 1.0 for these small headers.
    array = np.ascontiguousarray(array)
    array = array.astype(array.dtype.newbyteorder("<"))
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=(1, 0), allow_pickle=False)


def describe_tensor(array: np.ndarray, quant) -> dict:
    info = {"shape": list(array.shape), "dtype": str(array.dtype)}
    if quant is not None:
        info["scale"] = float(np.float32(quant.scale[0]))
        info["zero_point"] = int(quant.zero_point[0])
    return info


def saturated_fraction(output: np.ndarray, quant) -> float:
    """Fraction at 127, or at -128 unless -128 is the zero point (where it means
    real 0, e.g. a ReLU or softmax output, not a clamp)."""
    if output.dtype != np.int8:
        return 0.0
    low_clamped = output == -128 if quant.zero_point[0] != -128 else np.zeros(output.shape, bool)
    return float(np.mean(low_clamped | (output == 127)))


def write_case(root: Path, case) -> dict:
    model, inputs, out_quant = fixture_builder.build(case)
    output = tflm_runner.run(model, inputs)
    expected_shape = tuple(case.output.shape)
    if output.shape != expected_shape:
        raise AssertionError(f"{case.key}: TFLM output shape {output.shape}, model says {expected_shape}")

    directory = root / case.op.lower() / case.variant
    directory.mkdir(parents=True)
    (directory / "model.tflite").write_bytes(model)
    operands = [o for o in case.operands if isinstance(o, op_cases.Input)]
    input_info = []
    for index, array in enumerate(inputs):
        save_npy(directory / f"input{index}.npy", array)
        spec = operands[index]
        quant = None
        if array.dtype == np.int8:
            quant = fixture_builder.per_tensor(*(spec.quant or fixture_builder.DEFAULT_INPUT_QUANT[index]))
        input_info.append(describe_tensor(array, quant))
    save_npy(directory / "output0.npy", output)
    meta = {
        "op": case.op,
        "variant": case.variant,
        "dtype": case.dtype,
        "description": case.description,
        "inputs": input_info,
        "output": describe_tensor(output, out_quant),
    }
    (directory / "case.json").write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
    return {"case": case, "output": output, "quant": out_quant, "bytes": len(model)}


def write_bad(root: Path):
    root.mkdir(parents=True)
    for name, data in bad_models.build_all().items():
        (root / name).write_bytes(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "Tests" / "Fixtures",
                        help="fixtures root (default: Tests/Fixtures of this repository)")
    parser.add_argument("--only", help="write only this op (lower-case builtin name); skips bad models")
    args = parser.parse_args()

    ops_root = args.out / "ops"
    cases = list(op_cases.all_cases())
    keys = [c.key for c in cases]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise SystemExit(f"duplicate cases: {sorted(duplicates)}")
    if args.only:
        cases = [c for c in cases if c.op.lower() == args.only]
        shutil.rmtree(ops_root / args.only, ignore_errors=True)
    else:
        shutil.rmtree(ops_root, ignore_errors=True)
        shutil.rmtree(args.out / "bad", ignore_errors=True)
        write_bad(args.out / "bad")

    rows, refused, saturated = [], [], []
    for case in cases:
        try:
            rows.append(write_case(ops_root, case))
        except tflm_runner.Refused as error:
            refused.append((case.key, str(error).strip()))
            continue
        fraction = saturated_fraction(rows[-1]["output"], rows[-1]["quant"])
        if fraction > SATURATION_LIMIT:
            saturated.append((case.key, fraction))

    print(f"{'op':<18} {'variant':<42} {'dtype':<7} {'output shape':<15} {'min':>10} {'max':>10} {'sat%':>5}")
    for row in rows:
        case, out = row["case"], row["output"]
        lo, hi = out.min(), out.max()
        fmt = (lambda v: f"{int(v):>10d}") if out.dtype == np.int8 else (lambda v: f"{float(v):>10.4f}")
        print(f"{case.op:<18} {case.variant:<42} {str(out.dtype):<7} {str(list(out.shape)):<15} "
              f"{fmt(lo)} {fmt(hi)} {100 * saturated_fraction(out, row['quant']):>5.1f}")
    ops = sorted({r["case"].op for r in rows})
    print(f"\n{len(rows)} fixtures for {len(ops)} ops written to {ops_root}")
    for key, message in refused:
        print(f"REFUSED by TFLite Micro: {key}: {message}")
    for key, fraction in saturated:
        print(f"SATURATED: {key}: {100 * fraction:.1f}% of int8 outputs at -128/127")
    return 1 if refused or saturated else 0


if __name__ == "__main__":
    sys.exit(main())

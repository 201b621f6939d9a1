#!/usr/bin/python3
"""Writes internal/npy/testdata/*.npy with NumPy's own np.save (the reference for the Go reader and writer).

Run from the repository root: /usr/bin/python3 scripts/goldens/vlm/npy_goldens.py
The values are simple closed forms that the Go test restates.
"""
import os
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "internal", "npy", "testdata")
os.makedirs(OUT, exist_ok=True)

arrays = {
    # (i - 2.5) / 4 for i in 0..5, plus special values
    "f32_2x3": (np.arange(6, dtype=np.float32) - np.float32(2.5)) / np.float32(4),
    "f32_special": np.array([0.0, -0.0, np.inf, -np.inf, 1e-45, 3.4028235e38], dtype=np.float32),
    "i64_5": np.array([0, 1, -1, 2**62, -(2**63)], dtype=np.int64),
    "bool_2x2": np.array([[True, False], [False, True]]),
    "u8_3x1x2": np.arange(250, 256, dtype=np.uint8).reshape(3, 1, 2),
    "i64_1x0": np.zeros((1, 0), dtype=np.int64),
    "f32_scalar": np.array(7.5, dtype=np.float32),
}
arrays["f32_2x3"] = arrays["f32_2x3"].reshape(2, 3)
# A long shape so the header needs more than one 64-byte block.
arrays["u8_long_shape"] = np.zeros((1,) * 20 + (2,), dtype=np.uint8)
for name, a in arrays.items():
    np.save(os.path.join(OUT, name + ".npy"), a)
print("numpy", np.__version__, "wrote", len(arrays), "files to", os.path.normpath(OUT))

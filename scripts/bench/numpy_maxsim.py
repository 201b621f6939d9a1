#!/usr/bin/env python3
"""NumPy baseline for colsmol's MaxSim benchmark (issue 5).

Reads documents as a float16 .npy of shape [N, L, D] and a query as a float32 .npy of shape [Q, D],
computes max(Q @ D.T, axis=1).sum() per page in batches, and prints one JSON line with the timing and
the BLAS library that NumPy actually loaded (read from /proc/self/maps). The float16 -> float32
conversion of each batch is timed separately, so "pages_per_s" is NumPy's best case on float32 data.
Optionally writes the scores to --out (float32 .npy) so the Go benchmark can check them.

Run with OpenBLAS, e.g.:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=2 \
    /usr/bin/python3 scripts/bench/numpy_maxsim.py --docs docs.npy --query q.npy
"""
import argparse
import json
import time

import numpy as np


def blas_libraries():
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = path.rsplit("/", 1)[-1]
            if "blas" in name or "lapack" in name:
                libs.add(path)
    return sorted(libs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out")
    a = ap.parse_args()

    docs = np.load(a.docs, mmap_mode="r")
    q = np.ascontiguousarray(np.load(a.query), dtype=np.float32)
    n, length, dim = docs.shape
    scores = np.empty(n, dtype=np.float32)
    np.matmul(q, np.ones((dim, 8), np.float32))  # load BLAS before reading the maps

    compute = convert = 0.0
    for i in range(0, n, a.batch):
        t0 = time.perf_counter()
        batch = np.asarray(docs[i:i + a.batch], dtype=np.float32)
        t1 = time.perf_counter()
        sim = np.matmul(q, batch.transpose(0, 2, 1))  # [B, Q, L]
        scores[i:i + a.batch] = sim.max(axis=2).sum(axis=1)
        t2 = time.perf_counter()
        convert += t1 - t0
        compute += t2 - t1

    flop = 2.0 * n * q.shape[0] * length * dim
    if a.out:
        np.save(a.out, scores)
    print(json.dumps({
        "pages": n, "vectors_per_page": length, "dim": dim, "query_vectors": q.shape[0],
        "batch": a.batch, "seconds": compute, "convert_seconds": convert,
        "pages_per_s": n / compute, "gflop_per_s": flop / compute / 1e9,
        "pages_per_s_with_f16_convert": n / (compute + convert),
        "numpy": np.__version__, "blas": blas_libraries(),
    }))


if __name__ == "__main__":
    main()

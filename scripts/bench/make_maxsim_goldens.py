#!/usr/bin/env python3
"""Writes maxsim/testdata/goldens.json from independent NumPy references.

- f16: float32 values (as bit patterns) and NumPy's float16 rounding of each (bits).
- maxsim: small query/page pairs and MaxSim in float64 over the float16-rounded page.
- pool: hierarchical token pooling done the naive way (greedy Ward agglomeration on the rows of the
  cosine-distance matrix, Ward distance sqrt(2·na·nb/(na+nb))·‖ca−cb‖, until max(n//factor,1) clusters
  remain), i.e. what colpali-engine's HierarchicalTokenPooler gets from SciPy, without SciPy.

Run: /usr/bin/python3 scripts/bench/make_maxsim_goldens.py  (from the repository root)
"""
import json

import numpy as np

rng = np.random.default_rng(20261127)


def f16_cases():
    specials = np.array([0.0, -0.0, 1.0, -1.0, 0.1, 65504.0, 65520.0, 70000.0, -1e6, 6.1035156e-05,
                         5.9604645e-08, 2.9802322e-08, 2.98023259e-08, 1e-9, 3.0e-05, 0.33333334,
                         np.inf, -np.inf, 1.0009765625, 1.00048828125, 1.00146484375], dtype=np.float32)
    rand = np.concatenate([rng.standard_normal(200).astype(np.float32) * 0.1,
                           rng.standard_normal(100).astype(np.float32) * 1e-5,
                           rng.standard_normal(100).astype(np.float32) * 1e4])
    x = np.concatenate([specials, rand]).astype(np.float32)
    with np.errstate(over="ignore"):
        h = x.astype(np.float16)
    return {"f32_bits": [int(b) for b in x.view(np.uint32)],
            "f16_bits": [int(b) for b in h.view(np.uint16)]}


def f32list(a):
    """Lists float32 values with 9 significant digits, which round-trip exactly."""
    return [[float(f"{x:.9g}") for x in row] for row in np.asarray(a, dtype=np.float32)]


def unit(a):
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def maxsim_cases():
    out = []
    for nq, nd, dim in [(1, 1, 128), (3, 7, 128), (25, 50, 128), (5, 33, 64), (4, 10, 96)]:
        q = unit(rng.standard_normal((nq, dim))).astype(np.float32)
        d = unit(rng.standard_normal((nd, dim))).astype(np.float32)
        d16 = d.astype(np.float16).astype(np.float64)
        score = float((q.astype(np.float64) @ d16.T).max(axis=1).sum())
        out.append({"q": f32list(q), "d": f32list(d), "score": score})
    return out


def greedy_ward(obs, t):
    clusters = [[i] for i in range(len(obs))]
    while len(clusters) > t:
        best = None
        for a in range(len(clusters)):
            ca = obs[clusters[a]].mean(axis=0)
            for b in range(a + 1, len(clusters)):
                cb = obs[clusters[b]].mean(axis=0)
                na, nb = len(clusters[a]), len(clusters[b])
                dist = np.sqrt(2.0 * na * nb / (na + nb)) * np.linalg.norm(ca - cb)
                if best is None or dist < best[0]:
                    best = (dist, a, b)
        _, a, b = best
        clusters[a] = sorted(clusters[a] + clusters[b])
        del clusters[b]
    return sorted(clusters, key=lambda c: c[0])


def pool_cases():
    out = []
    for n, dim, factor, centers in [(24, 16, 2, 5), (40, 32, 3, 6), (31, 128, 2, 4)]:
        c = unit(rng.standard_normal((centers, dim)))
        e = unit(c[rng.integers(0, centers, n)] + 0.35 * rng.standard_normal((n, dim))).astype(np.float32)
        e64 = e.astype(np.float64)
        obs = 1.0 - e64 @ e64.T
        clusters = greedy_ward(obs, max(n // factor, 1))
        pooled = f32list([unit(e64[c].mean(axis=0)) for c in clusters])
        out.append({"vectors": f32list(e), "factor": factor, "clusters": clusters, "pooled": pooled})
    return out


if __name__ == "__main__":
    goldens = {"generator": "scripts/bench/make_maxsim_goldens.py", "numpy": np.__version__,
               "f16": f16_cases(), "maxsim": maxsim_cases(), "pool": pool_cases()}
    with open("maxsim/testdata/goldens.json", "w") as f:
        json.dump(goldens, f)

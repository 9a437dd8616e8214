#!/usr/bin/python3
"""Gaussian-mixture embeddings for the Ward benchmarks (docs/BENCHMARKS.md, "Ward at any N").

Run: /usr/bin/python3 benchmarks/reference/ward_mixture.py N D K OUT_PREFIX [seed]
Writes OUT_PREFIX.npy (float32 N x D) and OUT_PREFIX_labels.csv (row,label): K well-separated
Gaussian blobs (centres ~ N(0, 4^2), unit noise), seeded.
"""
import sys

import numpy as np

n, d, k, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
rng = np.random.default_rng(seed)
centres = rng.normal(0, 4, size=(k, d)).astype(np.float32)
labels = rng.integers(0, k, size=n)
x = np.empty((n, d), dtype=np.float32)
for start in range(0, n, 100_000):
    end = min(n, start + 100_000)
    x[start:end] = centres[labels[start:end]] + rng.standard_normal((end - start, d), dtype=np.float32)
np.save(out + ".npy", x)
with open(out + "_labels.csv", "w") as f:
    f.write("id,label\n")
    for i, label in enumerate(labels):
        f.write(f"{i},c{label}\n")

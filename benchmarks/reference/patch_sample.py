#!/usr/bin/python3
"""Real 256-dimensional embeddings for the Ward agreement runs: patch vectors sampled from a product feature cache.

Run: /usr/bin/python3 benchmarks/reference/patch_sample.py STORE N OUT_PREFIX [seed]

STORE is a `cluster --store` folder (its blobs/features/v1/*.bag hold each image's patch bag Z_i, T = 256 floats a
patch, after the product's projection and layer norm). Writes OUT_PREFIX.npy: N float32 rows drawn without replacement,
seeded, from every patch of every cached bag (all the datasets the store has seen), in bag-file order.
"""
import glob
import os
import struct
import sys

import numpy as np

store, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
bags = []
for path in sorted(glob.glob(os.path.join(store, "blobs", "features", "v1", "*", "*.bag"))):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"ACPB":
        raise SystemExit(f"{path}: not a patch bag")
    h, w, t = struct.unpack_from("<iii", data, 8)
    bags.append(np.frombuffer(data, dtype="<f4", count=h * w * t, offset=32).reshape(h * w, t))
patches = np.concatenate(bags)
rows = np.sort(np.random.default_rng(seed).choice(len(patches), size=n, replace=False))
np.save(out + ".npy", patches[rows].astype(np.float32))
print(f"{len(bags)} bags, {len(patches)} patches of {patches.shape[1]} floats; {n} sampled (seed {seed}) -> {out}.npy")

#!/usr/bin/python3
"""Clustering and image-AUROC figures from a running job's image outcomes, before the job ends (issue 13).

An image grain leaves one outcome blob per image in the store (`blobs/jobs/<job>/outcomes/<n>.bin`, ImageOutcomeFormat
version 4: x_i, alpha, s_ik, the image anomaly score and the image file's SHA-256) as soon as it has weighed its image;
the job deletes them when it ends. With all normal images and no coreset, the semi-supervised job then spends longer on
the normal images' leave-one-out detection threshold than on the test images, so this script reads a copy of the
outcomes taken once every test image had one, matches them to the dataset's images by file hash, checks that x_i is
alpha times the cached bag (the product's pooling, recomputed in float64), and computes what `cluster` would print
for them: Ward into K with NMI / ARI / F1 (bag_variants.evaluate, which reproduces the product's figures), and the
image AUROC of the anomaly scores (good against defective). Centred cosine with average linkage is printed beside it.

Usage: /usr/bin/python3 tools/experiments/job_outcomes.py ../shared/data/magnetic_tile OUTCOMES_COPY --store STORE
"""
import argparse
import hashlib
import os
import struct
import sys
import zlib

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bag_variants  # noqa: E402  (the product's cache key, bag reader, dataset order and evaluation)


def read_outcome(path):
    """ImageOutcomeFormat version 4: magic ACIO, version, T, M, S, H, T + M + S floats, score (double), H hash bytes, CRC-32."""
    with open(path, "rb") as f:
        data = f.read()
    magic, version, t, m, s, h = struct.unpack_from("<4siiiii", data, 0)
    if magic != b"ACIO" or version != 4:
        raise ValueError(f"{path}: not a version-4 image outcome")
    if zlib.crc32(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
        raise ValueError(f"{path}: fails its checksum")
    floats = np.frombuffer(data, dtype="<f4", count=t + m + s, offset=24)
    offset = 24 + 4 * (t + m + s)
    score = struct.unpack_from("<d", data, offset)[0]
    sha = data[offset + 8:offset + 8 + h].hex()
    return floats[:t], floats[t:t + m], score, sha


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("outcomes", help="a copy of blobs/jobs/<job>/outcomes")
    parser.add_argument("--store", required=True, help="the job's --store (for the check x_i = alpha Z_i)")
    parser.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "../../../shared/models/resnet50_imagenet_layer2_layer3.onnx"))
    args = parser.parse_args()
    images, truth, _ = bag_variants.load_dataset(args.dataset)
    by_sha = {}
    for name in os.listdir(args.outcomes):
        x, alpha, score, sha = read_outcome(os.path.join(args.outcomes, name))
        by_sha[sha] = (x, alpha, score)
    rows = []
    for p in images:
        with open(p, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        if sha not in by_sha:
            raise SystemExit(f"no outcome for {p}: copy the outcomes once every test image has one")
        rows.append(by_sha[sha])
    x = np.stack([r[0] for r in rows])
    alpha = np.stack([r[1] for r in rows])
    scores = np.array([r[2] for r in rows])
    identity = bag_variants.backbone_identity(args.model, ["layer2", "layer3"])
    bags = bag_variants.load_bags(args.store, images, identity)
    pooled = bag_variants.embed(bags, alpha)
    print(f"{len(images)} images; max |x_i - alpha_i Z_i| = {np.abs(pooled - x).max():.2e}", file=sys.stderr)
    k = len(set(truth))
    nmi, ari, f1 = bag_variants.evaluate(x, truth, k, "ward")
    print(f"Ward on x_i: NMI {nmi:.3f}  ARI {ari:.3f}  F1 {f1:.3f}")
    nmi, ari, f1 = bag_variants.evaluate(bag_variants.centred_l2(x), truth, k, "average")
    print(f"centred cosine, average linkage: NMI {nmi:.3f}  ARI {ari:.3f}  F1 {f1:.3f}")
    print(f"image AUROC {roc_auc_score(truth != 'good', scores):.3f}  ({(truth != 'good').sum()} defective vs {(truth == 'good').sum()} good)")


if __name__ == "__main__":
    main()

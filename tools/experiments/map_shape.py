#!/usr/bin/python3
"""Offline experiment (issue 13, session 24): the shape of each image's anomaly map as features beside x_i.

Magnetic tile's defect types differ in the shape of the anomalous region more than in texture: a blowhole is a small
round spot, a crack a thin line, a break a chunk at the edge, fray a ragged edge, uneven a large diffuse area. x_i is a
weighted mean of patch embeddings and keeps none of that geometry. This script reads a finished job's alpha maps
(alpha.npy, N x M on the square alpha grid) and computes label-free shape descriptors of each map:

  - the region r = alpha / max(alpha) >= 1/2 (patches whose score s_ik is within tau ln 2 of the image's largest; the
    softmax's per-image constant cancels in the ratio) and r >= 1/10: area fractions, number of 8-connected components,
    elongation (1 - l2/l1 of the region's coordinate covariance), extent (sqrt(l1) over the grid side), the centroid's
    distance to the nearest border, and the region's share of border patches;
  - the map's concentration: exp(entropy of alpha) over M (the effective share of patches pooled);
  - the image's anomaly score (clusters.csv, log), when the job wrote one.

Each descriptor is standardised over the batch (label-free) and the block scaled to unit mean norm; x_i (plain, or
centred cosine) likewise; then [x, w * shape] is clustered. w = 0 is the product's input (the check). Prints NMI / ARI /
F1 (bag_variants.py's metrics) per run, block weight and method.

Usage: /usr/bin/python3 tools/experiments/map_shape.py out/mt-semi out/mt-unsup ... --weights 0 0.25 0.5 1 \
           --transforms plain centred-l2 --methods ward average
"""
import argparse
import os

import numpy as np
from scipy import ndimage
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bag_variants import centred_l2, hungarian_f1
from clusterers import cluster
from run_variants import load_run

EIGHT = np.ones((3, 3), dtype=int)


def region_descriptors(mask):
    side = mask.shape[0]
    area = mask.mean()
    _, components = ndimage.label(mask, structure=EIGHT)
    rows, cols = np.nonzero(mask)
    if len(rows) >= 2:
        cov = np.cov(np.stack([rows, cols]).astype(np.float64))
        l1, l2 = sorted(np.linalg.eigvalsh(cov), reverse=True)
        elongation = 1.0 - (max(l2, 0.0) + 1e-9) / (l1 + 1e-9)
        extent = np.sqrt(max(l1, 0.0)) / side
    else:
        elongation, extent = 0.0, 0.0
    cy, cx = rows.mean(), cols.mean()
    border_distance = min(cy, cx, side - 1 - cy, side - 1 - cx) / side
    border = np.zeros_like(mask)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    border_share = (mask & border).sum() / mask.sum()
    return [area, np.log(components), elongation, extent, border_distance, border_share]


def shape_features(alpha, scores):
    n, m = alpha.shape
    side = int(round(np.sqrt(m)))
    if side * side != m:
        raise SystemExit(f"alpha maps of {m} values are not on a square grid")
    rows = []
    for a in alpha.astype(np.float64):
        r = (a / a.max()).reshape(side, side)
        p = a / a.sum()
        concentration = np.exp(-(p[p > 0] * np.log(p[p > 0])).sum()) / m
        rows.append(region_descriptors(r >= 0.5) + region_descriptors(r >= 0.1) + [concentration])
    f = np.array(rows)
    if scores is not None:
        f = np.column_stack([f, np.log(np.maximum(scores, 1e-12))])
    std = f.std(axis=0)
    f = (f - f.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return unit_mean_norm(f)


def unit_mean_norm(x):
    return x / np.linalg.norm(x, axis=1).mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", help="cluster job output folders (embeddings.npy, alpha.npy, clusters.csv with labels)")
    parser.add_argument("--weights", nargs="+", type=float, default=[0, 0.25, 0.5, 1])
    parser.add_argument("--transforms", nargs="+", default=["plain", "centred-l2"])
    parser.add_argument("--methods", nargs="+", default=["ward", "average"])
    parser.add_argument("--no-score", action="store_true", help="leave the anomaly score out of the shape block")
    args = parser.parse_args()
    for run in args.runs:
        x, truth, scores = load_run(run)
        alpha = np.load(os.path.join(run, "alpha.npy"))
        shape = shape_features(alpha, None if args.no_score else scores)
        k = len(set(truth))
        name = os.path.basename(os.path.normpath(run))
        for t in args.transforms:
            base = unit_mean_norm(x if t == "plain" else centred_l2(x))
            for w in args.weights:
                data = base if w == 0 else np.hstack([base, w * shape])
                # w = 0 on plain x must equal the job's own clustering: the scale does not change Ward's merges.
                data = x if (w == 0 and t == "plain") else data
                for method in args.methods:
                    pred = cluster(data, k, method)
                    figures = (normalized_mutual_info_score(truth, pred), adjusted_rand_score(truth, pred), hungarian_f1(truth, pred))
                    print(f"| {name} | {t} | {w:g} | {method} | %.3f | %.3f | %.3f |" % figures, flush=True)


if __name__ == "__main__":
    main()

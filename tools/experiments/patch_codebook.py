#!/usr/bin/python3
"""Offline experiment (issue 13, session 12, idea B): a codebook of the job's anomalous patches.

From a finished job (RUN: alpha.npy, clusters.csv with anomaly_score, embeddings.npy) and its cached patch bags (the
--store of bag_variants.py), every patch's score is rebuilt exactly: s_ik = S_i + tau (ln alpha_ik - ln max_k alpha_ik),
S_i the image's anomaly score (its largest patch score, in both modes), as pixel_metrics_check.py does. The patches
whose s_ik is at or above the job's q-quantile (--quantile 0.95: the top 5 % of all N x 784 scores) train a k-means
codebook (k-means++ seeded by --seed, --starts starts, Lloyd to convergence, the lowest inertia kept; distances by
oneDNN as in bag_variants.py). Each image is then the alpha-weighted histogram of its counted patches' nearest
codewords: h_ic = sum of alpha_ik over its patches above the quantile that fall in cell c; an image with none counts
its single highest-scoring patch (so no histogram is empty). Representations and clusterings (K from the labels):
  hist cosine       h / ||h||; average linkage on cosine distance (SciPy pdist 'cosine'), Ward on the unit vectors;
  hist hellinger    sqrt(h / sum h) (Euclidean distance = sqrt 2 x Hellinger); average linkage and Ward;
  x+hist w          [x_i / m_x, w * sqrt(h_i / sum h_i) / m_h], each part scaled to mean norm 1; Ward, and average
                    linkage on the centred cosine of the concatenation.
Prints NMI / ARI / F1 (bag_variants.py's metrics) per k, representation and method.

With --probe it also prints zoom_variants.py's label-using diagnostic (5-fold logistic regression on the centred cosine:
good against uneven, all classes) for the Hellinger histogram.

Usage: /usr/bin/python3 tools/experiments/patch_codebook.py DATASET --store S --run RUN [--ks 32 64 128] [--quantile 0.95] [--probe]
"""
import argparse
import csv
import json
import os
import sys
import time

import numpy as np
import torch
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bag_variants import backbone_identity, centred_l2, hungarian_f1, inner_products, load_bags, load_dataset
from clusterers import cluster
from zoom_variants import probe


def squared_distances(points, centres):
    return (points * points).sum(1, keepdim=True) + (centres * centres).sum(1)[None, :] - 2.0 * inner_products(points, centres)


def kmeans(points, k, seed, starts, iterations=300):
    """k-means++ seeding (numpy Generator(seed)), Lloyd until no assignment changes; the lowest inertia of `starts` kept."""
    random = np.random.default_rng(seed)
    p = torch.from_numpy(points)
    best, best_inertia = None, np.inf
    for _ in range(starts):
        chosen = [int(random.integers(len(points)))]
        nearest = squared_distances(p, p[chosen]).clamp_min(0)[:, 0]
        for _ in range(k - 1):
            weights = nearest.double().numpy()
            chosen.append(int(random.choice(len(points), p=weights / weights.sum())))
            nearest = torch.minimum(nearest, squared_distances(p, p[chosen[-1:]]).clamp_min(0)[:, 0])
        centres = p[chosen].clone()
        labels = None
        for _ in range(iterations):
            d = squared_distances(p, centres)
            new = d.argmin(1)
            if labels is not None and torch.equal(new, labels):
                break
            labels = new
            for c in range(k):
                members = p[labels == c]
                if len(members):
                    centres[c] = members.mean(0)
        inertia = float(d.gather(1, labels[:, None]).clamp_min(0).sum())
        if inertia < best_inertia:
            best, best_inertia = centres.clone(), inertia
    return best


def load_run(run, images, root):
    rows = list(csv.DictReader(open(os.path.join(run, "clusters.csv"), newline="")))
    if [os.path.normpath(os.path.join(root, r["image"])) for r in rows] != [os.path.normpath(p) for p in images]:
        raise SystemExit(f"{run}: its images are not the dataset's, in the product's order")
    tau = json.load(open(os.path.join(run, "result.json")))["options"]["tau"]
    log_alpha = np.log(np.load(os.path.join(run, "alpha.npy")).astype(np.float64))
    top = np.array([float(r["anomaly_score"]) for r in rows])
    s = top[:, None] + tau * (log_alpha - log_alpha.max(axis=1, keepdims=True))
    x = np.load(os.path.join(run, "embeddings.npy")).astype(np.float64)
    return s, np.exp(log_alpha), x


def histograms(bags, s, alpha, codebook, threshold):
    h = np.zeros((len(bags), len(codebook)))
    centres = codebook
    for i, bag in enumerate(bags):
        counted = np.flatnonzero(s[i] >= threshold)
        if len(counted) == 0:
            counted = np.array([int(np.argmax(s[i]))])
        cells = squared_distances(torch.from_numpy(np.ascontiguousarray(bag[counted])), centres).argmin(1).numpy()
        np.add.at(h[i], cells, alpha[i, counted])
    return h


def scores_of(truth, pred):
    return normalized_mutual_info_score(truth, pred), adjusted_rand_score(truth, pred), hungarian_f1(truth, pred)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("--store", required=True)
    parser.add_argument("--run", required=True, help="the job's output folder: alpha.npy, clusters.csv (anomaly_score), embeddings.npy")
    parser.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "../../../shared/models/resnet50_imagenet_layer2_layer3.onnx"))
    parser.add_argument("--ks", nargs="+", type=int, default=[32, 64, 128])
    parser.add_argument("--quantile", type=float, default=0.95)
    parser.add_argument("--weights", nargs="+", type=float, default=[0.5, 1.0, 2.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--probe", action="store_true", help="also the supervised logistic-regression diagnostic")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images, truth, _ = load_dataset(args.dataset)
    k_classes = len(set(truth))
    s, alpha, x = load_run(args.run, images, args.dataset)
    bags = load_bags(args.store, images, backbone_identity(args.model, ["layer2", "layer3"]))
    threshold = np.quantile(s, args.quantile)
    top = np.concatenate([bag[s[i] >= threshold] for i, bag in enumerate(bags)])
    empty = int(sum((s[i] >= threshold).sum() == 0 for i in range(len(bags))))
    name = f"{os.path.basename(os.path.normpath(args.dataset))} {os.path.basename(os.path.normpath(args.run))}"
    print(f"{name}: {len(images)} images, K = {k_classes}, {len(top)} patches at or above the {args.quantile} quantile "
          f"({threshold:.3f}); {empty} images have none (their top patch counts)", file=sys.stderr)
    for k in args.ks:
        started = time.time()
        codebook = kmeans(np.ascontiguousarray(top), k, args.seed, args.starts)
        h = histograms(bags, s, alpha, codebook, threshold)
        print(f"  codebook k = {k}: {time.time() - started:.0f} s", file=sys.stderr, flush=True)
        unit = h / np.linalg.norm(h, axis=1, keepdims=True)
        hellinger = np.sqrt(h / h.sum(axis=1, keepdims=True))
        rows = [("hist cosine", "average", fcluster(linkage(pdist(h, "cosine"), "average"), k_classes, "maxclust")),
                ("hist cosine", "ward", cluster(unit, k_classes, "ward")),
                ("hist hellinger", "average", cluster(hellinger, k_classes, "average")),
                ("hist hellinger", "ward", cluster(hellinger, k_classes, "ward"))]
        for w in args.weights:
            both = np.concatenate([x / np.linalg.norm(x, axis=1).mean(),
                                   w * hellinger / np.linalg.norm(hellinger, axis=1).mean()], axis=1)
            rows.append((f"x+hist {w:g}", "ward", cluster(both, k_classes, "ward")))
            rows.append((f"x+hist {w:g}", "centred-average", cluster(centred_l2(both), k_classes, "average")))
        for representation, method, pred in rows:
            print(f"| {name} | k {k} | {representation} | {method} | %.3f | %.3f | %.3f |" % scores_of(truth, pred), flush=True)
        if args.probe:
            probe(f"{name} | k {k}", {"hist hellinger": hellinger}, truth)


if __name__ == "__main__":
    main()

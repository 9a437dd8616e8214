#!/usr/bin/python3
"""Offline experiment (issue 13, session 11): cluster finished jobs' image embeddings x_i by other label-free methods.

Reads each `anomaly-cluster cluster` output folder (embeddings.npy; clusters.csv with label and anomaly_score), applies
a post-processing of x_i and a clustering method of clusterers.py, and prints NMI / ARI / F1 (METHOD section 5, the same
metrics as bag_variants.py) and, with --sizes, the cluster sizes against the class sizes.

Post-processings:
  plain            x_i as the product clusters it today;
  centred-l2       x_i less the batch mean, then unit length ("centred cosine");
  centred-l2-score centred cosine times the image's anomaly score over the batch's median score, so that images
                   that look normal gather near the origin and the defective ones spread by type on the outside.

Usage: /usr/bin/python3 tools/experiments/run_variants.py out/mt-semi [out/mt-unsup ...] \
           --transforms centred-l2 --methods average average-fold0.02 spectral-nn10 [--sizes]
"""
import argparse
import csv
import os

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bag_variants import centred_l2, hungarian_f1
from clusterers import cluster


def load_run(folder):
    x = np.load(os.path.join(folder, "embeddings.npy")).astype(np.float64)
    with open(os.path.join(folder, "clusters.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "label" not in rows[0]:
        raise SystemExit(f"{folder}/clusters.csv has no label column: run the job on a labelled (MVTec-layout) folder")
    truth = np.array([row["label"] for row in rows])
    scores = np.array([float(row["anomaly_score"]) for row in rows]) if "anomaly_score" in rows[0] else None
    return x, truth, scores


def transform(name, x, scores):
    if name == "plain":
        return x
    if name == "centred-l2":
        return centred_l2(x)
    if name == "centred-l2-score":
        if scores is None:
            raise SystemExit("centred-l2-score needs an anomaly_score column (an image job with anomaly scores)")
        return centred_l2(x) * (scores / np.median(scores))[:, None]
    raise SystemExit(f"unknown post-processing {name}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", help="cluster job output folders (embeddings.npy, clusters.csv with labels)")
    parser.add_argument("--transforms", nargs="+", default=["plain", "centred-l2"])
    parser.add_argument("--methods", nargs="+", default=["ward", "average"])
    parser.add_argument("--sizes", action="store_true", help="print each clustering's sizes, largest first, and the class sizes")
    args = parser.parse_args()
    for run in args.runs:
        x, truth, scores = load_run(run)
        k = len(set(truth))
        name = os.path.basename(os.path.normpath(run))
        if args.sizes:
            print(f"| {name} | classes | {sorted(np.unique(truth, return_counts=True)[1].tolist(), reverse=True)} |")
        for t in args.transforms:
            data = transform(t, x, scores)
            for method in args.methods:
                pred = cluster(data, k, method)
                if pred is None:
                    print(f"| {name} | {t} | {method} | - | - | - | no cut of the tree has K large clusters |", flush=True)
                    continue
                figures = (normalized_mutual_info_score(truth, pred), adjusted_rand_score(truth, pred), hungarian_f1(truth, pred))
                sizes = f" {sorted(np.unique(pred, return_counts=True)[1].tolist(), reverse=True)} |" if args.sizes else ""
                print(f"| {name} | {t} | {method} | %.3f | %.3f | %.3f |{sizes}" % figures, flush=True)


if __name__ == "__main__":
    main()

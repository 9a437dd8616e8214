#!/usr/bin/python3
"""Offline experiment: detect-then-cluster (METHOD section 7b) on a finished job's output folder.

Reads the image embeddings x_i, the image anomaly scores and the label-free threshold that `anomaly-cluster cluster`
recorded (embeddings.npy, the anomaly_score and label columns of clusters.csv, anomalyThreshold in result.json; the
job must have run with --labels), and compares, against the labels, without re-running the backbone or the patch scores:
  plain  - Ward on all images into K clusters (what the job did; recomputed here as a check);
  detect - images at or under the threshold form the `good` cluster, Ward groups the rest into K - 1;
  oracle - the same with the threshold replaced by the score quantile that puts exactly as many images under it as
           there are good images (uses the labels: an upper bound for any threshold, not a usable setting).
Metrics as METHOD section 5: scikit-learn NMI (arithmetic), ARI, Hungarian F1.

Usage: /usr/bin/python3 tools/experiments/detect_then_cluster.py out/semi [--threshold X]   (the folder or its result.json)
"""
import argparse
import csv
import json
import os

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix


def hungarian_f1(truth, pred):
    table = contingency_matrix(truth, pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return table[rows, cols].sum() / len(truth)


def scores(truth, pred):
    return (normalized_mutual_info_score(truth, pred), adjusted_rand_score(truth, pred), hungarian_f1(truth, pred))


def ward(x, k):
    return fcluster(linkage(x, method="ward"), k, criterion="maxclust") if len(x) > k else np.arange(len(x))


def detect_then_cluster(x, s, threshold, k):
    pred = np.zeros(len(x), dtype=np.int64)
    defective = s > threshold
    if defective.sum() >= 1:
        pred[defective] = ward(x[defective], k - 1)
    return pred


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("result", help="the job's output folder or its result.json")
    parser.add_argument("--threshold", type=float, default=None)
    args = parser.parse_args()
    # result.json is a bounded summary; the per-image rows are the folder's embeddings.npy and clusters.csv.
    folder = os.path.dirname(args.result) if os.path.isfile(args.result) else args.result
    with open(os.path.join(folder, "result.json")) as f:
        doc = json.load(f)
    with open(os.path.join(folder, "clusters.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    for column in ("label", "anomaly_score"):
        if rows and column not in rows[0]:
            raise SystemExit(f"{folder}/clusters.csv has no {column} column: needs an image job run with --labels")
    x = np.load(os.path.join(folder, "embeddings.npy")).astype(np.float64)
    s = np.array([float(row["anomaly_score"]) for row in rows], dtype=np.float64)
    truth = np.array([row["label"] for row in rows])
    k = doc["clusterCount"]
    threshold = args.threshold if args.threshold is not None else doc.get("anomalyThreshold")
    good = (truth == "good").sum()
    print(f"{args.result}: {len(x)} images, K = {k}, {good} good, mode {doc['options']['mode']}")
    print("plain   NMI %.3f  ARI %.3f  F1 %.3f" % scores(truth, ward(x, k)))
    if threshold is not None:
        pred = detect_then_cluster(x, s, threshold, k)
        under = (s <= threshold).sum()
        print(f"detect  NMI %.3f  ARI %.3f  F1 %.3f   (threshold {threshold:.4g}: {under} images called good)" % scores(truth, pred))
    oracle = np.sort(s)[good - 1]
    print(f"oracle  NMI %.3f  ARI %.3f  F1 %.3f   (threshold {oracle:.4g}: as many under it as good images)" % scores(truth, detect_then_cluster(x, s, oracle, k)))


if __name__ == "__main__":
    main()

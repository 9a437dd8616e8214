#!/usr/bin/python3
"""Diagnostic (issue 13): how much class information a job's x_i hold, and where clustering loses it.

For each finished `anomaly-cluster cluster` run (embeddings.npy, clusters.csv with labels) it prints
- supervised ceilings, which use the labels and are therefore not a clustering method: 5-fold stratified
  cross-validated accuracy of 1-nearest-neighbour and of a standardised, L2-regularised logistic regression
  (C = 0.1), on x_i and on centred cosine (x_i less the batch mean, unit length);
- the purity of flat clusters at K, 2K, 4K and 8K (each cluster counted as its largest class) for Ward on x_i and
  Ward and average linkage on centred cosine: whether over-clustering makes clusters pure.
Micro F1 after Hungarian matching (METHOD section 5) equals the matched accuracy, so the ceilings compare to F1 directly.

With --group-pattern the cross-validation also runs grouped (GroupKFold, 5 folds): magnetic tile photographs the same
tile region several times (exp1_num_262480.jpg and exp2_num_262572.jpg are one region, two captures), and a plain split
puts one capture in training and its twin in the test fold. Groups: within a class, images sorted by the number the
pattern captures, a new group where two consecutive numbers differ by more than --group-gap.

Usage: /usr/bin/python3 tools/experiments/separability.py out/mt-semi out/mt-unsup [--group-pattern 'num_(\d+)' --group-gap 200]
"""
import argparse
import csv
import os
import re

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bag_variants import centred_l2


def purity(truth, pred):
    return sum(np.unique(truth[pred == c], return_counts=True)[1].max() for c in np.unique(pred)) / len(truth)


def capture_groups(names, truth, pattern, gap):
    numbers = np.array([int(re.search(pattern, n).group(1)) for n in names])
    order = np.lexsort((numbers, truth))
    groups = np.zeros(len(names), dtype=int)
    for previous, current in zip(order[:-1], order[1:]):
        new = truth[current] != truth[previous] or numbers[current] - numbers[previous] > gap
        groups[current] = groups[previous] + (1 if new else 0)
    return groups


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--group-pattern", help="regular expression whose group 1 is a capture number in the image name")
    parser.add_argument("--group-gap", type=int, default=200)
    args = parser.parse_args()
    for run in args.runs:
        x = np.load(os.path.join(run, "embeddings.npy")).astype(np.float64)
        with open(os.path.join(run, "clusters.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        truth = np.array([r["label"] for r in rows])
        k = len(set(truth))
        centred = centred_l2(x)
        name = os.path.basename(os.path.normpath(run))
        splits = [("stratified", StratifiedKFold(5, shuffle=True, random_state=0), None)]
        if args.group_pattern:
            groups = capture_groups([r["image"] for r in rows], truth, args.group_pattern, args.group_gap)
            print(f"| {name} | {groups.max() + 1} capture groups, sizes {np.bincount(np.bincount(groups))[1:].tolist()} (count of groups of size 1, 2, ...) |")
            splits.append(("grouped", GroupKFold(5), groups))
        for split, folds, groups in splits:
            for label, v in (("x_i", x), ("centred cosine", centred)):
                knn = cross_val_score(KNeighborsClassifier(1), v, truth, cv=folds, groups=groups).mean()
                logistic = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000)),
                                           v, truth, cv=folds, groups=groups).mean()
                print(f"| {name} | {split} | {label} | 1-NN {knn:.3f} | logistic {logistic:.3f} |")
        for label, v, method in (("Ward on x_i", x, "ward"), ("Ward on centred cosine", centred, "ward"),
                                 ("average on centred cosine", centred, "average")):
            tree = linkage(v, method)
            cells = [f"{purity(truth, fcluster(tree, m * k, 'maxclust')):.3f}" for m in (1, 2, 4, 8)]
            print(f"| {name} | {label} | purity at K / 2K / 4K / 8K | {' / '.join(cells)} |")


if __name__ == "__main__":
    main()

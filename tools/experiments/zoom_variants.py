#!/usr/bin/python3
"""Offline experiment (issue 13, session 12, idea A): cluster zoomed-crop embeddings, alone and beside x_i.

RUN is the job whose alpha chose the crops (zoom_crops.py) and whose x_i (embeddings.npy) is today's representation;
CROPS is the `anomaly-cluster cluster <crops> --mode average` output over those crops (one embedding per crop: the
uniform mean of the crop's patch features). Rows are matched by class and file stem. Representations:
  crop                 the crop embedding alone;
  x+crop w             [x_i / m_x, w * c_i / m_c], m the part's mean norm over the batch (each part mean norm 1);
  x                    today's x_i, for reference.
Each is clustered by Ward on the vectors as they are and by average linkage on their centred cosine (the batch mean
subtracted, then unit length), K from the labels; prints NMI / ARI / F1 (the metrics of bag_variants.py).

With --probe it also prints a diagnostic that uses the labels (not a method): 5-fold accuracy of a logistic regression
(scikit-learn, C = 1) on the centred cosine of x and of the crop embedding, good against uneven and all six classes, as
session 11 measured for x (0.882 / 0.836 semi-supervised): does the crop carry the information at all?

Usage: /usr/bin/python3 tools/experiments/zoom_variants.py RUN CROPS [--weights 0.5 1 2] [--methods ward centred-average] [--probe]
"""
import argparse
import csv
import os

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bag_variants import centred_l2, hungarian_f1
from clusterers import cluster


def load(folder):
    x = np.load(os.path.join(folder, "embeddings.npy")).astype(np.float64)
    rows = list(csv.DictReader(open(os.path.join(folder, "clusters.csv"), newline="")))
    keys = [(r["label"], os.path.splitext(os.path.basename(r["image"]))[0]) for r in rows]
    return x, keys


def unit_mean_norm(v):
    return v / np.linalg.norm(v, axis=1).mean()


def figures(x, truth, k, method):
    if method == "centred-average":
        pred = cluster(centred_l2(x), k, "average")
    elif method == "centred-ward":
        pred = cluster(centred_l2(x), k, "ward")
    else:
        pred = cluster(x, k, method)
    return normalized_mutual_info_score(truth, pred), adjusted_rand_score(truth, pred), hungarian_f1(truth, pred)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("crops")
    parser.add_argument("--weights", nargs="+", type=float, default=[0.5, 1.0, 2.0])
    parser.add_argument("--methods", nargs="+", default=["ward", "centred-average"])
    parser.add_argument("--probe", action="store_true", help="also the supervised logistic-regression diagnostic")
    args = parser.parse_args()
    x, keys = load(args.run)
    c, crop_keys = load(args.crops)
    where = {key: i for i, key in enumerate(crop_keys)}
    if len(where) != len(crop_keys) or set(where) != set(keys):
        raise SystemExit("the crop run's images are not the job's images, one for one")
    c = c[[where[key] for key in keys]]
    truth = np.array([label for label, _ in keys])
    k = len(set(truth))
    name = f"{os.path.basename(os.path.normpath(args.run))} / {os.path.basename(os.path.normpath(args.crops))}"
    representations = [("x", x), ("crop", c)]
    representations += [(f"x+crop {w:g}", np.concatenate([unit_mean_norm(x), w * unit_mean_norm(c)], axis=1)) for w in args.weights]
    for label, data in representations:
        for method in args.methods:
            print(f"| {name} | {label} | {method} | %.3f | %.3f | %.3f |" % figures(data, truth, k, method), flush=True)
    if args.probe:
        probe(name, {"x": x, "crop": c}, truth)


def probe(name, representations, truth):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    pair = np.isin(truth, ["good", "uneven"])
    for label, data in representations.items():
        data = centred_l2(data)
        two = cross_val_score(LogisticRegression(C=1, max_iter=2000), data[pair], truth[pair], cv=5).mean()
        six = cross_val_score(LogisticRegression(C=1, max_iter=2000), data, truth, cv=5).mean()
        print(f"| {name} | probe | {label} | good vs uneven {two:.3f} | all classes {six:.3f} |", flush=True)


if __name__ == "__main__":
    main()

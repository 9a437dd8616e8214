#!/usr/bin/python3
"""Offline experiment (issue 13): cluster a finished job's image embeddings x_i after centring them on the batch mean
and scaling each to unit length (so Euclidean distance is a monotone function of cosine distance), with Ward and with
average linkage, against today's plain Ward on x_i.

Reads the folder that `anomaly-cluster cluster` wrote (embeddings.npy, clusters.csv with labels), prints SciPy +
scikit-learn NMI / ARI / F1 (METHOD section 5) for each, and writes centred-l2.npy and labels.csv into --export so the
product's own clustering can confirm the figures:
  anomaly-cluster cluster-vectors EXPORT/centred-l2.npy --labels EXPORT/labels.csv --linkage average

Usage: /usr/bin/python3 tools/experiments/centred_cosine.py out/run [--export DIR]
"""
import argparse
import csv
import os

import numpy as np

from bag_variants import centred_l2, evaluate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run", help="a cluster job's output folder (embeddings.npy, clusters.csv with a label column)")
    parser.add_argument("--export", help="folder for centred-l2.npy and labels.csv")
    args = parser.parse_args()
    x = np.load(os.path.join(args.run, "embeddings.npy"))
    with open(os.path.join(args.run, "clusters.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "label" not in rows[0]:
        raise SystemExit(f"{args.run}/clusters.csv has no label column: run the job on a labelled (MVTec-layout) folder")
    truth = np.array([row["label"] for row in rows])
    k = len(set(truth))
    name = os.path.basename(os.path.normpath(args.run))
    centred = centred_l2(x.astype(np.float64))
    for label, data, method in (("x, Ward (today)", x, "ward"), ("centred cosine, Ward", centred, "ward"),
                                ("centred cosine, average linkage", centred, "average")):
        print(f"| {name} | {label} | %.3f | %.3f | %.3f |" % evaluate(data, truth, k, method))
    if args.export:
        os.makedirs(args.export, exist_ok=True)
        np.save(os.path.join(args.export, "centred-l2.npy"), centred.astype(np.float32))
        with open(os.path.join(args.export, "labels.csv"), "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["index", "label"])
            writer.writerows(enumerate(truth))


if __name__ == "__main__":
    main()

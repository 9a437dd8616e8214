#!/usr/bin/python3
"""The automatic-K table of docs/RESULTS.md: K found by each criterion vs the true number of classes, and NMI / ARI / F1
at the found K next to those at the true K, all measured by this repository's CLI (`cluster-vectors`).

Inputs are labelled embeddings: the output folder of an `anomaly-cluster cluster` run with --labels (embeddings.npy holds
every image's embedding, clusters.csv its label, in the same order; the folder or its result.json may be given), or a
seeded Gaussian mixture made here (numpy, float32). For each input it runs
  cluster-vectors X.npy --labels L.csv                                  (K = the number of classes)
  cluster-vectors X.npy --labels L.csv --clusters auto --cluster-criterion C   for C in silhouette, calinski-harabasz, height-gap
and prints one markdown row per input and criterion.

Run: /usr/bin/python3 tools/benchmarks/auto_k_table.py --cli <anomaly-cluster> [--result name=path/out-folder ...] [--mixtures]
"""
import argparse
import csv
import json
import os
import subprocess
import tempfile

import numpy as np

CRITERIA = ["silhouette", "calinski-harabasz", "height-gap"]

# (name, K, points per cluster, D, centre spread): centres ~ N(0, spread^2 I), unit-variance clusters.
MIXTURES = [
    ("gauss K=3 D=64 separated", 3, 100, 64, 1.0),
    ("gauss K=5 D=256 separated", 5, 100, 256, 1.0),
    ("gauss K=10 D=256 separated", 10, 100, 256, 1.0),
    ("gauss K=10 D=16 separated", 10, 100, 16, 3.0),
    ("gauss K=20 D=64 separated", 20, 50, 64, 1.0),
    ("gauss K=10 D=16 overlapping", 10, 100, 16, 0.6),
    ("gauss K=10 unequal sizes D=32", 10, None, 32, 1.0),
]


def mixture(rng, k, per, d, spread):
    centres = rng.standard_normal((k, d)) * spread
    sizes = [per] * k if per is not None else list(rng.integers(20, 200, k))
    labels = np.concatenate([[c] * n for c, n in enumerate(sizes)])
    x = centres[labels] + rng.standard_normal((len(labels), d))
    order = rng.permutation(len(labels))
    return x[order].astype(np.float32), labels[order].astype(str)


def from_result(path):
    # result.json is a bounded summary; the per-image rows are the folder's embeddings.npy and clusters.csv.
    folder = os.path.dirname(path) if os.path.isfile(path) else path
    x = np.load(os.path.join(folder, "embeddings.npy")).astype(np.float32)
    with open(os.path.join(folder, "clusters.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and "label" not in rows[0]:
        raise SystemExit(f"{folder}/clusters.csv has no label column: run anomaly-cluster with --labels")
    return x, np.array([row["label"] for row in rows])


def run(cli, npy, labels_csv, out, extra):
    subprocess.run([cli, "cluster-vectors", npy, "--labels", labels_csv, "--out", out] + extra, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "result.json")) as f:
        result = json.load(f)
    choice = result.get("clusterCountChoice")
    return result["clusterCount"], result["metrics"], choice


def evaluate(cli, name, x, labels, folder):
    npy = os.path.join(folder, "x.npy")
    csv = os.path.join(folder, "labels.csv")
    np.save(npy, x)
    with open(csv, "w") as f:
        f.write("id,label\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels)))
    true_k, at_true, _ = run(cli, npy, csv, os.path.join(folder, "true"), [])
    rows = []
    for criterion in CRITERIA:
        k, at_found, _ = run(cli, npy, csv, os.path.join(folder, criterion), ["--clusters", "auto", "--cluster-criterion", criterion])
        rows.append(f"| {name} | {len(labels)} | {x.shape[1]} | {criterion} | {true_k} | **{k}** | "
                    f"{at_found['nmi']:.3f} / {at_found['ari']:.3f} / {at_found['f1']:.3f} | "
                    f"{at_true['nmi']:.3f} / {at_true['ari']:.3f} / {at_true['f1']:.3f} |")
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--result", action="append", default=[], help="name=path/to/output-folder (or its result.json)")
    parser.add_argument("--mixtures", action="store_true")
    args = parser.parse_args()
    print("| data | N | D | criterion | true K | found K | NMI / ARI / F1 at found K | NMI / ARI / F1 at true K |")
    print("|---|---|---|---|---|---|---|---|")
    inputs = []
    for item in args.result:
        name, path = item.split("=", 1)
        inputs.append((name, *from_result(path)))
    if args.mixtures:
        rng = np.random.default_rng(20261202)
        for name, k, per, d, spread in MIXTURES:
            inputs.append((name, *mixture(rng, k, per, d, spread)))
    for name, x, labels in inputs:
        with tempfile.TemporaryDirectory() as folder:
            for row in evaluate(args.cli, name, x, labels, folder):
                print(row, flush=True)


main()

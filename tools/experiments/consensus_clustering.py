#!/usr/bin/python3
"""Offline experiment (issue 13, session 26): consensus (evidence-accumulation) clustering over tau.

The default sits on a narrow peak in tau (docs/RESULTS.md, "Issue 13 ... measured variants": moving tau by 0.025 moves
magnetic tile's NMI by up to 0.07). This script averages over that peak instead of betting on one point of it. For each
finished `anomaly-cluster cluster` job (its output folder: clusters.csv for the image order and labels, alpha.npy for the
patch scores) it rebuilds x_i at every tau of a fixed list from the cached patch bags Z_i (bag_variants.py's cache key
and reader; s_ik = 0.3 log alpha_ik + c_i, the softmax being invertible up to a per-image constant that no tau depends
on), then measures:

  consensus (EAC, Fred & Jain): base partitions of the N images, one per (tau, base method, cut), where
    tau in TAUS = 0.2, 0.25, 0.275, 0.3, 0.325, 0.35, 0.4 (fixed before any result was seen),
    base method: ward (Ward on x_i, the product's), cc-ward (Ward on centred cosine: x_i less the batch mean, unit
      length), cc-average (average linkage on centred cosine),
    cut: K or 2K clusters (finer partitions are the classic EAC choice), or both;
  co-association C_ij = the fraction of the partitions that put i and j together; final clustering into K by average
  linkage on 1 - C (eac-average) and by Ward on the rows of C (eac-ward). Two ensembles: all three base methods
  ("all": 21 partitions per cut) and today's clustering alone ("ward": Ward on x_i at the 7 taus).

  concatenation: [x(tau_1), ..., x(tau_7)], each block scaled to unit mean norm (so no tau weighs more by scale), cut
  into K by Ward, by Ward on centred cosine and by average linkage on centred cosine.

Every constant (the tau list, the methods, the cuts) is fixed here, not chosen per dataset. Checks first: x_i at tau 0.3
must equal the job's embeddings.npy (the max |difference| is printed) and Ward on them must give the job's own NMI / ARI
/ F1 (result.json), and the script stops if not. NMI / ARI / F1 are bag_variants.py's (sklearn NMI and ARI, its
Hungarian-matched F1), clusterings are clusterers.cluster's. Output: one Markdown row per run and variant.

Usage (from tools/experiments; the store is the --store of the jobs, which cached every image's bag):
  nice -n 10 /usr/bin/python3 consensus_clustering.py /work/exp24/out/mt-semi /work/exp24/out/mt-unsup \
      /work/exp24/out/neu-unsup /work/exp24/out/pcb-semi /work/exp24/out/pcb-unsup --store /work/exp24/store
  add --seeds 1 2 to measure unsupervised jobs at other reference seeds too: their patch scores are computed here
  (bag_variants.unsup_scores, the product's seeded reference sample; about 6 CPU minutes per seed for magnetic tile).
Results: docs/RESULTS.md, "Session 26 variant: consensus over tau".
"""
import argparse
import csv
import json
import os
import sys
import time

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bag_variants import backbone_identity, centred_l2, embed, hungarian_f1, load_bags, softmax, unsup_scores
from clusterers import cluster
from run_variants import load_run

TAUS = (0.2, 0.25, 0.275, 0.3, 0.325, 0.35, 0.4)
BASE_METHODS = {"ward": (lambda x: x, "ward"), "cc-ward": (centred_l2, "ward"), "cc-average": (centred_l2, "average")}
ENSEMBLES = {"all": ("ward", "cc-ward", "cc-average"), "ward": ("ward",)}
CUTS = {"K": (1,), "2K": (2,), "K+2K": (1, 2)}


def figures(truth, pred):
    return normalized_mutual_info_score(truth, pred), adjusted_rand_score(truth, pred), hungarian_f1(truth, pred)


def co_association(partitions):
    """C_ij: the fraction of the partitions in which images i and j share a cluster."""
    n = len(partitions[0])
    c = np.zeros((n, n))
    for labels in partitions:
        c += labels[:, None] == labels[None, :]
    return c / len(partitions)


def consensus(c, k, final):
    if final == "eac-average":
        distance = 1.0 - c
        np.fill_diagonal(distance, 0.0)
        return fcluster(linkage(squareform(distance, checks=False), method="average"), k, criterion="maxclust")
    if final == "eac-ward":
        return fcluster(linkage(c, method="ward"), k, criterion="maxclust")
    raise ValueError(final)


def unit_mean_norm(x):
    return x / np.linalg.norm(x, axis=1).mean()


def measure(name, truth, k, xs, job_tau):
    """Prints the default, the base partitions at K, every consensus and every concatenation for one set of x(tau)."""
    def row(variant, pred):
        nmi, ari, f1 = figures(truth, pred)
        print(f"| {name} | {variant} | {nmi:.3f} | {ari:.3f} | {f1:.3f} |", flush=True)

    row(f"default (Ward on x_i, tau {job_tau})", cluster(xs[job_tau], k, "ward"))
    partitions = {}
    for tau in TAUS:
        for method, (transform, how) in BASE_METHODS.items():
            data = transform(xs[tau])
            for m in (1, 2):
                partitions[(tau, method, m)] = cluster(data, m * k, how)
            row(f"base {method}, tau {tau}", partitions[(tau, method, 1)])
    for ensemble, methods in ENSEMBLES.items():
        for cut, multiples in CUTS.items():
            chosen = [partitions[(tau, method, m)] for tau in TAUS for method in methods for m in multiples]
            c = co_association(chosen)
            for final in ("eac-average", "eac-ward"):
                row(f"consensus {ensemble}, cut {cut} ({len(chosen)} partitions), {final}", consensus(c, k, final))
    concatenated = np.concatenate([unit_mean_norm(xs[tau]) for tau in TAUS], axis=1)
    row("concatenation, Ward", cluster(concatenated, k, "ward"))
    row("concatenation, centred cosine, Ward", cluster(centred_l2(concatenated), k, "ward"))
    row("concatenation, centred cosine, average", cluster(centred_l2(concatenated), k, "average"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", help="cluster job output folders (clusters.csv with labels, alpha.npy, embeddings.npy, result.json)")
    parser.add_argument("--store", required=True, help="the --store folder of the jobs (their cached patch bags)")
    parser.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "../../../shared/models/resnet50_imagenet_layer2_layer3.onnx"))
    parser.add_argument("--job-tau", type=float, default=0.3, help="the tau the jobs ran at (alpha.npy's)")
    parser.add_argument("--seeds", nargs="*", type=int, default=[], help="unsupervised jobs: also measure at these reference "
                        "seeds, scoring the bags here (bag_variants.unsup_scores); the job's own seed is checked against embeddings.npy")
    args = parser.parse_args()
    identity = backbone_identity(args.model, ["layer2", "layer3"])
    for run in args.runs:
        started = time.time()
        name = os.path.basename(os.path.normpath(run))
        with open(os.path.join(run, "result.json")) as f:
            result = json.load(f)
        root = result["source"]["path"]
        _, truth, _ = load_run(run)
        with open(os.path.join(run, "clusters.csv"), newline="") as f:
            paths = [os.path.join(root, row["image"]) for row in csv.DictReader(f)]
        k = len(set(truth))
        bags = load_bags(args.store, paths, identity)
        s = args.job_tau * np.log(np.load(os.path.join(run, "alpha.npy")).astype(np.float64))
        xs = {tau: embed(bags, softmax(s, tau)).astype(np.float64) for tau in TAUS}
        product = np.load(os.path.join(run, "embeddings.npy")).astype(np.float64)
        difference = np.abs(xs[args.job_tau] - product).max()
        default = figures(truth, cluster(xs[args.job_tau], k, "ward"))
        expected = (result["metrics"]["nmi"], result["metrics"]["ari"], result["metrics"]["f1"])
        print(f"{name}: {len(truth)} images, K = {k}; x_i at tau {args.job_tau} vs embeddings.npy: max |difference| {difference:.3g}; "
              f"Ward {default[0]:.3f} / {default[1]:.3f} / {default[2]:.3f}, job {expected[0]:.3f} / {expected[1]:.3f} / {expected[2]:.3f}",
              file=sys.stderr, flush=True)
        if not np.allclose(default, expected, atol=5e-4):
            raise SystemExit(f"{name}: the offline default does not reproduce the job's figures")

        measure(name, truth, k, xs, args.job_tau)
        if result["options"]["mode"] == "unsupervised":
            for seed in args.seeds:
                # The script's own unsupervised scores (bag_variants.unsup_scores: the product's seeded reference sample).
                s_seed = unsup_scores(bags, result["options"]["refs"], seed)
                seeded = {tau: embed(bags, softmax(s_seed, tau)).astype(np.float64) for tau in TAUS}
                if seed == result["options"]["seed"]:
                    print(f"{name}: seed {seed} scored here vs embeddings.npy: max |difference| {np.abs(seeded[args.job_tau] - product).max():.3g}",
                          file=sys.stderr, flush=True)
                measure(f"{name} seed {seed}", truth, k, seeded, args.job_tau)
        del bags
        print(f"{name}: {time.time() - started:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

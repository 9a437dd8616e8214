#!/usr/bin/python3
"""Offline experiment (issue 13): discriminative refinement of a clustering, label-free.

Start from a flat clustering of a job's x_i (Ward on x_i, or centred cosine + average linkage), then repeat: fit a
shrinkage LDA (shrinkage 0.5) on centred cosine with the current clusters as classes, project onto its K - 1
discriminant directions, and re-cluster there by k-means (10 starts, seed 0). The projection keeps the directions that
separate the current clusters and drops the rest, which is the hope: nuisance directions fade round by round. Prints
NMI / ARI / F1 (METHOD section 5) of the start and after each of 5 rounds.

Usage: /usr/bin/python3 tools/experiments/discriminative_refinement.py out/mt-semi out/mt-unsup ...
"""
import csv
import os
import sys

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import KMeans
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bag_variants import centred_l2, hungarian_f1


def scores(truth, pred):
    return f"{normalized_mutual_info_score(truth, pred):.3f} / {adjusted_rand_score(truth, pred):.3f} / {hungarian_f1(truth, pred):.3f}"


def main():
    for run in sys.argv[1:]:
        x = np.load(os.path.join(run, "embeddings.npy")).astype(np.float64)
        with open(os.path.join(run, "clusters.csv"), newline="") as f:
            truth = np.array([r["label"] for r in csv.DictReader(f)])
        k = len(set(truth))
        centred = centred_l2(x)
        for start, v, method in (("Ward on x_i", x, "ward"), ("centred cosine, average", centred, "average")):
            pred = fcluster(linkage(v, method), k, criterion="maxclust")
            rounds = [scores(truth, pred)]
            for _ in range(5):
                projected = LinearDiscriminantAnalysis(solver="eigen", shrinkage=0.5).fit(centred, pred).transform(centred)
                pred = KMeans(k, n_init=10, random_state=0).fit_predict(projected)
                rounds.append(scores(truth, pred))
            print(f"| {os.path.basename(os.path.normpath(run))} | {start} | {' | '.join(rounds)} |")


if __name__ == "__main__":
    main()

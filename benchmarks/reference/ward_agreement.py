#!/usr/bin/python3
"""Anchors and agreement for exact and two-stage Ward (docs/BENCHMARKS.md, "Ward at any N").

Run: /usr/bin/python3 benchmarks/reference/ward_agreement.py X.npy exact two_stage

exact and two_stage are output folders (or their result.json) made from the float32 N x D input X.npy (anomaly-cluster cluster-vectors
with --algorithm linear-memory-ward and --algorithm two-stage-ward). Prints, for K = 5, 10, 20:
  * fastcluster.linkage_vector(X, 'ward') wall time, and the ARI of its flat clusters with ours (exact);
  * scikit-learn Birch(n_clusters=AgglomerativeClustering(K, linkage='ward')) wall time and ARI with exact Ward;
  * the ARI of our two-stage clusters with our exact clusters.
The trees are cut with scipy.cluster.hierarchy.fcluster(Z, K, 'maxclust'); a two-stage tree is cut over
its micro-clusters and every image takes its leaf's cluster. Each folder's tree is its linkage.npy, an image's leaf the
leaf column of its clusters.csv (result.json is a bounded summary without them).
"""
import csv
import json
import os
import sys
import time

import fastcluster
import numpy as np
from scipy.cluster.hierarchy import fcluster
from sklearn.cluster import AgglomerativeClustering, Birch
from sklearn.metrics import adjusted_rand_score

KS = [5, 10, 20]


def tree_and_leaves(path):
    folder = os.path.dirname(path) if os.path.isfile(path) else path
    with open(os.path.join(folder, "result.json")) as f:
        doc = json.load(f)
    z = np.load(os.path.join(folder, "linkage.npy")).astype(np.float64)
    with open(os.path.join(folder, "clusters.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    # Only a two-stage tree (leaves are micro-clusters) has the leaf column.
    leaves = np.array([int(row["leaf"]) for row in rows]) if rows and "leaf" in rows[0] else None
    return doc["algorithm"]["name"], z, leaves, doc.get("timingsSeconds", {})


def cut(z, leaves, k):
    labels = fcluster(z, k, "maxclust")
    return labels if leaves is None else labels[leaves]


x = np.load(sys.argv[1]).astype(np.float64)
exact_name, exact_z, exact_leaves, exact_times = tree_and_leaves(sys.argv[2])
two_name, two_z, two_leaves, two_times = tree_and_leaves(sys.argv[3])
print(f"N = {x.shape[0]}, D = {x.shape[1]}; ours: {exact_name} {exact_times}, {two_name} {two_times}")

start = time.perf_counter()
fc_z = fastcluster.linkage_vector(x, "ward")
print(f"fastcluster.linkage_vector ward: {time.perf_counter() - start:.1f} s")
for k in KS:
    exact = cut(exact_z, exact_leaves, k)
    print(f"K={k}: ARI(fastcluster, ours exact) = {adjusted_rand_score(fcluster(fc_z, k, 'maxclust'), exact):.6f}; "
          f"ARI(two-stage, exact) = {adjusted_rand_score(cut(two_z, two_leaves, k), exact):.6f}")
for k in KS:
    start = time.perf_counter()
    birch = Birch(n_clusters=AgglomerativeClustering(n_clusters=k, linkage="ward")).fit_predict(x)
    elapsed = time.perf_counter() - start
    print(f"K={k}: Birch + Agglomerative ward {elapsed:.1f} s, ARI(Birch, exact) = {adjusted_rand_score(birch, cut(exact_z, exact_leaves, k)):.6f}")

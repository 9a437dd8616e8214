#!/usr/bin/python3
"""Anchors and agreement for exact and two-stage Ward (docs/BENCHMARKS.md, "Ward at any N").

Run: /usr/bin/python3 benchmarks/reference/ward_agreement.py X.npy exact two_stage [fastcluster_Z.npy]

exact and two_stage are output folders (or their result.json) made from the float32 N x D input X.npy (anomaly-cluster cluster-vectors
with --algorithm linear-memory-ward and --algorithm two-stage-ward). Prints, for K = 5, 10, 20:
  * fastcluster.linkage_vector(X, 'ward') wall and CPU time, and the ARI of its flat clusters with ours (exact);
    with fastcluster_Z.npy (a saved linkage_vector result) it is read instead of recomputed;
  * the largest height difference between fastcluster's tree and ours (relative), and whether the merges agree;
  * scikit-learn Birch(n_clusters=AgglomerativeClustering(K, linkage='ward')) wall and CPU time and its ARI with
    exact Ward, beside the ARI of our two-stage clusters with our exact clusters;
  * the cophenetic correlation between the two-stage and the exact trees: the Pearson correlation, over all
    N(N-1)/2 point pairs, of the height at which each tree first joins the pair (two-stage: 0 inside a
    micro-cluster, else the height at which the pair's leaves join).
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
from scipy.cluster.hierarchy import cophenet, fcluster
from scipy.spatial.distance import squareform
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

def timed(call):
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def cophenetic_correlation(exact_z, two_z, leaves):
    """Pearson correlation of the exact tree's cophenetic distances with the two-stage tree's, all pairs, row by row."""
    exact = cophenet(exact_z)  # condensed, N(N-1)/2 doubles
    micro = squareform(cophenet(two_z))  # C x C, 0 on the diagonal (same micro-cluster)
    n = leaves.shape[0]
    sums = np.zeros(5)
    offset = 0
    for i in range(n - 1):
        a = exact[offset:offset + n - 1 - i]
        b = micro[leaves[i], leaves[i + 1:]]
        offset += n - 1 - i
        sums += [a.sum(), b.sum(), (a * a).sum(), (b * b).sum(), (a * b).sum()]
    m = n * (n - 1) / 2
    sa, sb, saa, sbb, sab = sums
    return (sab / m - sa / m * sb / m) / np.sqrt((saa / m - (sa / m) ** 2) * (sbb / m - (sb / m) ** 2))


if len(sys.argv) > 4:
    fc_z = np.load(sys.argv[4])
    print(f"fastcluster.linkage_vector ward: read from {sys.argv[4]}")
else:
    fc_z, wall, cpu = timed(lambda: fastcluster.linkage_vector(x, "ward"))
    print(f"fastcluster.linkage_vector ward: {wall:.1f} s wall, {cpu:.1f} s CPU")
if exact_leaves is None and fc_z.shape == exact_z.shape:
    same = np.array_equal(fc_z[:, :2].astype(np.int64), exact_z[:, :2].astype(np.int64))
    rel = np.max(np.abs(fc_z[:, 2] - exact_z[:, 2]) / np.maximum(np.abs(fc_z[:, 2]), 1e-300))
    print(f"fastcluster vs ours exact: merges identical: {same}, largest relative height difference {rel:.2e}")
for k in KS:
    exact = cut(exact_z, exact_leaves, k)
    print(f"K={k}: ARI(fastcluster, ours exact) = {adjusted_rand_score(fcluster(fc_z, k, 'maxclust'), exact):.6f}; "
          f"ARI(two-stage, exact) = {adjusted_rand_score(cut(two_z, two_leaves, k), exact):.6f}")
for k in KS:
    birch, wall, cpu = timed(lambda: Birch(n_clusters=AgglomerativeClustering(n_clusters=k, linkage="ward")).fit_predict(x))
    exact = cut(exact_z, exact_leaves, k)
    print(f"K={k}: Birch + Agglomerative ward {wall:.1f} s wall, {cpu:.1f} s CPU; ARI(Birch, exact) = {adjusted_rand_score(birch, exact):.6f}, "
          f"ARI(two-stage, exact) = {adjusted_rand_score(cut(two_z, two_leaves, k), exact):.6f}")
if exact_leaves is None and two_leaves is not None:
    r, wall, _ = timed(lambda: cophenetic_correlation(exact_z, two_z, two_leaves))
    print(f"cophenetic correlation(two-stage, exact) over {x.shape[0] * (x.shape[0] - 1) // 2} pairs = {r:.6f} ({wall:.0f} s)")

#!/usr/bin/python3
"""Two-stage Ward against exact Ward at any N (docs/BENCHMARKS.md, "Ward at any N"), without an N x N array.

Run: /usr/bin/python3 benchmarks/reference/ward_two_stage_agreement.py exact two_stage [labels.csv] [sample] [seed]

exact and two_stage are cluster-vectors output folders (--algorithm linear-memory-ward, and two-stage-ward or
refined-two-stage-ward, whose tree is over the points like the exact one) over the same input. Prints, for K = 5, 10, 20, the ARI of the two flat clusterings (and of each with the true labels when labels.csv,
"id,label" in input order, is given), and the cophenetic correlation of the two trees estimated on a seeded sample of
`sample` points (default 4,000): the Pearson correlation, over every pair of sampled points, of the height at which each
tree first joins the pair (two-stage: 0 inside a micro-cluster). ward_agreement.py computes that correlation over all
N(N-1)/2 pairs, which needs 4 N^2 bytes of SciPy's condensed cophenetic matrix (40 GB at N = 100,000): the sample is
what makes N = 50,000 and 100,000 possible; at 20,000 both are printed by running both scripts.
"""
import csv
import os
import sys

import numpy as np
from scipy.cluster.hierarchy import cophenet, fcluster
from scipy.spatial.distance import squareform
from sklearn.metrics import adjusted_rand_score

KS = [5, 10, 20]


def tree_and_leaves(folder):
    z = np.load(os.path.join(folder, "linkage.npy")).astype(np.float64)
    with open(os.path.join(folder, "clusters.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    leaves = np.array([int(row["leaf"]) for row in rows]) if rows and "leaf" in rows[0] else None
    return z, leaves


def cut(z, leaves, k):
    labels = fcluster(z, k, "maxclust")
    return labels if leaves is None else labels[leaves]


def sampled_cophenetic(z, n, sample):
    """The S x S cophenetic heights of the sampled points in a tree over n leaves: each merge sets the pairs it joins."""
    position = {int(p): i for i, p in enumerate(sample)}
    members = {p: [i] for p, i in position.items()}
    heights = np.zeros((len(sample), len(sample)))
    for step, (a, b, h, _) in enumerate(z):
        left, right = members.pop(int(a), []), members.pop(int(b), [])
        if left and right:
            heights[np.ix_(left, right)] = h
            heights[np.ix_(right, left)] = h
        if left or right:
            members[n + step] = left + right
    return heights


exact_z, exact_leaves = tree_and_leaves(sys.argv[1])
two_z, two_leaves = tree_and_leaves(sys.argv[2])
if exact_leaves is not None:
    sys.exit("the first folder must hold an exact tree (no leaf column)")
n = exact_z.shape[0] + 1
truth = None
if len(sys.argv) > 3 and sys.argv[3] != "-":
    with open(sys.argv[3], newline="") as f:
        truth = [row["label"] for row in csv.DictReader(f)]
sample_size = int(sys.argv[4]) if len(sys.argv) > 4 else 4000
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
print(f"N = {n}; leaves of the second tree: {two_z.shape[0] + 1}" + (" (micro-clusters)" if two_leaves is not None else " (the points)"))
for k in KS:
    exact_labels, two_labels = cut(exact_z, None, k), cut(two_z, two_leaves, k)
    line = f"K = {k}: ARI(two-stage, exact) = {adjusted_rand_score(exact_labels, two_labels):.6f}"
    if truth is not None:
        line += (f"; ARI with the true labels: exact {adjusted_rand_score(truth, exact_labels):.6f},"
                 f" two-stage {adjusted_rand_score(truth, two_labels):.6f}")
    print(line)

sample = np.sort(np.random.default_rng(seed).choice(n, size=min(sample_size, n), replace=False))
exact_heights = sampled_cophenetic(exact_z, n, sample)
if two_leaves is None:
    two_heights = sampled_cophenetic(two_z, n, sample)
else:
    micro = squareform(cophenet(two_z))
    leaf = two_leaves[sample]
    two_heights = micro[np.ix_(leaf, leaf)]  # 0 where both points share a micro-cluster (the diagonal of micro is 0)
upper = np.triu_indices(len(sample), 1)
r = np.corrcoef(exact_heights[upper], two_heights[upper])[0, 1]
print(f"cophenetic correlation on {len(sample)} sampled points ({len(upper[0])} pairs, seed {seed}): {r:.6f}")

#!/usr/bin/python3
"""fastcluster's Ward tree against ours (linkage.npy of a cluster-vectors folder): same merges, height difference, ARI at K."""
import sys
import numpy as np
from scipy.cluster.hierarchy import fcluster
from sklearn.metrics import adjusted_rand_score
ours = np.load(sys.argv[1] + "/linkage.npy")
fc = np.load(sys.argv[2])
same = np.array_equal(np.sort(ours[:, :2], axis=1), np.sort(fc[:, :2], axis=1))
rel = np.max(np.abs(ours[:, 2] - fc[:, 2]) / np.maximum(np.abs(fc[:, 2]), 1e-300))
print(f"{sys.argv[1]}: merges identical row for row: {same}; largest relative height difference {rel:.3g}")
for k in (5, 10, 20):
    print(f"  K = {k}: ARI(ours, fastcluster) = {adjusted_rand_score(fcluster(ours, k, 'maxclust'), fcluster(fc, k, 'maxclust')):.6f}")

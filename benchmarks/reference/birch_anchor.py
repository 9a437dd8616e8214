#!/usr/bin/python3
"""scikit-learn's Birch as the anchor for two-stage Ward at N where Birch's default degenerates (docs/BENCHMARKS.md).

Run: /usr/bin/python3 benchmarks/reference/birch_anchor.py X.npy exact_folder THRESHOLD [K ...]

Birch(threshold=THRESHOLD, n_clusters=AgglomerativeClustering(K, linkage='ward')) on the float32 N x D input; prints
its number of CF subclusters, its CPU and wall time (the CF tree once, then the global Ward step and the assignment per K) and the ARI of
its flat clusters with our exact Ward tree (exact_folder/linkage.npy cut with fcluster 'maxclust'). With the default
threshold 0.5 every point of the benchmark mixtures is its own subcluster (points are about 22 apart inside a blob), so
Birch's global step is Ward on all N points through SciPy's N x N matrix (40 GB at N = 100,000); a threshold at the
blobs' scale gives it a micro-cluster stage like ours (two-stage-ward's 2,048 k-means micro-clusters).
"""
import os
import sys
import time

import numpy as np
from scipy.cluster.hierarchy import fcluster
from sklearn.cluster import AgglomerativeClustering, Birch
from sklearn.metrics import adjusted_rand_score

x = np.load(sys.argv[1])
exact = np.load(os.path.join(sys.argv[2], "linkage.npy")).astype(np.float64)
threshold = float(sys.argv[3])
ks = [int(k) for k in sys.argv[4:]] or [5, 10, 20]

wall, cpu = time.perf_counter(), time.process_time()
birch = Birch(threshold=threshold, n_clusters=None).fit(x)
print(f"N = {x.shape[0]}, D = {x.shape[1]}, threshold {threshold}: {len(birch.subcluster_centers_)} subclusters,"
      f" CF tree {time.process_time() - cpu:.1f} s CPU ({time.perf_counter() - wall:.1f} s wall)")
for k in ks:
    # partial_fit() without data reruns only Birch's global step on the CF subclusters it already has.
    wall, cpu = time.perf_counter(), time.process_time()
    birch.set_params(n_clusters=AgglomerativeClustering(n_clusters=k, linkage="ward"))
    birch.partial_fit()
    labels = birch.predict(x)
    print(f"K = {k}: ARI(Birch, exact Ward) = {adjusted_rand_score(fcluster(exact, k, 'maxclust'), labels):.6f};"
          f" global Ward step + predict {time.process_time() - cpu:.1f} s CPU ({time.perf_counter() - wall:.1f} s wall)")

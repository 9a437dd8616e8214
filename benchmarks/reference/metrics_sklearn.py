#!/usr/bin/python3
"""Reference timings for the `metrics` and `assignment` benchmarks (scikit-learn 1.2.1, SciPy 1.10.1).

Run: /usr/bin/python3 benchmarks/reference/metrics_sklearn.py metrics [N=1000000] [classes=15] [clusters=15] [repeats=3]
     /usr/bin/python3 benchmarks/reference/metrics_sklearn.py assignment [rows=1000] [columns=1000] [repeats=3]
The same work as `dotnet run -c Release --project benchmarks/AnomalyClustering.Benchmarks -- metrics|assignment`
(the labelings and matrices are drawn alike, not identically).
"""
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix


def timed(repeats, work):
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        summary = work()
        times.append(time.perf_counter() - start)
        print(f"  run {r + 1}: {times[-1]:.3f} s ({summary})")
    times.sort()
    print(f"  median {times[len(times) // 2]:.3f} s")


def metrics(args):
    n = int(args[0]) if len(args) > 0 else 1_000_000
    classes = int(args[1]) if len(args) > 1 else 15
    clusters = int(args[2]) if len(args) > 2 else 15
    repeats = int(args[3]) if len(args) > 3 else 3
    rng = np.random.default_rng(12345)
    y_true = rng.integers(0, classes, size=n)
    y_pred = np.where(rng.random(n) < 0.7, y_true % clusters, rng.integers(0, clusters, size=n))
    print(f"scikit-learn metrics N={n} classes={classes} clusters={clusters}")

    def work():
        nmi = normalized_mutual_info_score(y_true, y_pred)
        ari = adjusted_rand_score(y_true, y_pred)
        table = contingency_matrix(y_true, y_pred)
        rows, cols = linear_sum_assignment(table, maximize=True)
        f1 = table[rows, cols].sum() / n
        return f"NMI {nmi:.6f}, ARI {ari:.6f}, F1 {f1:.6f}"
    timed(repeats, work)


def assignment(args):
    rows = int(args[0]) if len(args) > 0 else 1000
    columns = int(args[1]) if len(args) > 1 else 1000
    repeats = int(args[2]) if len(args) > 2 else 3
    cost = np.random.default_rng(12345).random((rows, columns))
    print(f"scipy linear_sum_assignment {rows} x {columns}")

    def work():
        r, c = linear_sum_assignment(cost)
        return f"total cost {cost[r, c].sum():.6f}"
    timed(repeats, work)


if __name__ == "__main__":
    {"metrics": metrics, "assignment": assignment}[sys.argv[1]](sys.argv[2:])

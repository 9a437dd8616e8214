#!/usr/bin/python3
"""Reference timing for the `hac` benchmark: fastcluster.linkage(X, method) on N x D random float64.

Run: /usr/bin/python3 benchmarks/reference/hac_fastcluster.py [method=ward] [N=10000] [D=256] [repeats=1]
fastcluster computes the condensed distances with scipy's pdist, then links in place, so this
times the same work as `dotnet run -c Release --project benchmarks/AnomalyClustering.Benchmarks -- hac`.
"""
import resource
import sys
import time

import fastcluster
import numpy as np


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "ward"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    d = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    x = np.random.default_rng(12345).standard_normal((n, d))
    fastcluster.linkage(x[:500], method)  # warm-up
    print(f"fastcluster {fastcluster.__version__} {method} N={n} D={d}")
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        z = fastcluster.linkage(x, method)
        times.append(time.perf_counter() - start)
        print(f"  run {r + 1}: {times[-1]:.3f} s (root height {z[-1, 2]:.6g})")
    times.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"  median {times[len(times) // 2]:.3f} s, peak RSS {peak:.2f} GB")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Reference for the nearest-patch benchmark: OpenBLAS sgemm through numpy, same shape and flop count.

(784 x 1024) @ (1024 x 784R) in float32, counted as 2 * 784 * 784 * R * 1024 flops, as
`dotnet run -c Release --project benchmarks/AnomalyClustering.Benchmarks -- nearest-patch R` counts them.

Run: /usr/bin/python3 benchmarks/reference/sgemm_numpy.py [R] [repeats]
"""
import sys
import time

import numpy as np


def blas_threads():
    try:
        from threadpoolctl import threadpool_info
        return ", ".join(f"{p['internal_api']} {p.get('version')} threads={p['num_threads']}" for p in threadpool_info())
    except ImportError:
        return "threadpoolctl not installed (OpenBLAS uses all cores unless OPENBLAS_NUM_THREADS is set)"


def main():
    references = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    m, t = 784, 1024
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, t), dtype=np.float32)
    b = rng.standard_normal((t, m * references), dtype=np.float32)
    a @ b  # warm-up: thread pool start, page faults
    best = float("inf")
    best_cpu = float("inf")
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        a @ b
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    flops = 2.0 * m * m * references * t
    print(f"blas: {blas_threads()}")
    print(f"sgemm (784 x 1024) @ (1024 x {m * references}): best of {repeats} {best * 1e3:.1f} ms, {flops / best / 1e9:.1f} GFLOP/s"
          f" (cpu {best_cpu * 1e3:.0f} ms, {flops / best_cpu / 1e9:.1f} GFLOP per cpu-second)")


if __name__ == "__main__":
    main()

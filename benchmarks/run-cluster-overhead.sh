#!/usr/bin/env bash
# Distribution overhead: the same 500 NEU-DET images (../shared) with ResNet-50 layer2+layer3 and the CLI's defaults,
# once through the single-process CLI and once through a local cluster of separate processes (redis-server, Azurite,
# one coordinator silo, two gpu-worker silos; the job submitted with an Orleans client), then a second, cached job.
# Needs redis-server (apt-get install redis-server) and Azurite (npm ci --prefix tools/azurite). Run on a quiet machine:
#   bash benchmarks/run-cluster-overhead.sh 2>&1 | tee /tmp/bench-cluster-overhead.txt
# Extra arguments go to the benchmark (e.g. --images 200, --worker-threads 1, --in-flight 16; see its description).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install -y redis-server" >&2; exit 1; }
[ -x tools/azurite/node_modules/.bin/azurite-blob ] || npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error
# Builds the benchmarks, and with them the silo host and the CLI they start.
dotnet build -c Release benchmarks/AnomalyClustering.Benchmarks >/dev/null
dotnet benchmarks/AnomalyClustering.Benchmarks/bin/Release/net10.0/AnomalyClustering.Benchmarks.dll cluster-overhead --rerun "$@"

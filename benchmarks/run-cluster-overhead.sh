#!/usr/bin/env bash
# Distribution overhead: the same 500 NEU-DET images (../shared) with ResNet-50 layer2+layer3 and the CLI's defaults,
# once through the single-process CLI and once through a local cluster of separate processes (redis-server, Azurite,
# one coordinator silo, two gpu-worker silos), then a second, cached job. See docs/BENCHMARKS.md ("Cluster").
# Needs redis-server (apt-get install redis-server) and Azurite (npm ci --prefix tools/azurite). Run on a quiet machine:
#   bash benchmarks/run-cluster-overhead.sh --worker-threads 1 --remote-cli 2>&1 | tee /tmp/bench-cluster-overhead.txt
# By default the silo and the CLI are published ReadyToRun (as Dockerfile.silo publishes the silo) into
# artifacts/benchmarks/ and those builds run; --as-built runs `dotnet build`'s outputs instead.
# Other arguments go to the benchmark (e.g. --images 200, --worker-threads 1, --in-flight 16, --remote-cli, --rerun).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install -y redis-server" >&2; exit 1; }
[ -x tools/azurite/node_modules/.bin/azurite-blob ] || npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error
# Builds the benchmarks, and with them the silo host and the CLI they start.
dotnet build -c Release benchmarks/AnomalyClustering.Benchmarks >/dev/null
arguments=()
as_built=false
for argument in "$@"; do
  if [ "$argument" = "--as-built" ]; then as_built=true; else arguments+=("$argument"); fi
done
if [ "$as_built" = false ]; then
  for project in Silo Cli; do
    dotnet publish "src/AnomalyClustering.$project" -c Release --use-current-runtime --self-contained false \
      -p:PublishReadyToRun=true -o "artifacts/benchmarks/$project" >/dev/null
  done
  arguments+=(--silo artifacts/benchmarks/Silo/AnomalyClustering.Silo.dll --cli artifacts/benchmarks/Cli/anomaly-cluster.dll)
fi
dotnet benchmarks/AnomalyClustering.Benchmarks/bin/Release/net10.0/AnomalyClustering.Benchmarks.dll cluster-overhead ${arguments[@]+"${arguments[@]}"}

#!/usr/bin/env bash
# Runs the Core benchmarks and their reference runs back to back on this machine, so that the
# ratios in docs/BENCHMARKS.md compare like with like. Run it on a quiet machine:
#   bash benchmarks/run-core.sh 2>&1 | tee /tmp/bench-core.txt
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release benchmarks/AnomalyClustering.Benchmarks >/dev/null
bench() { dotnet benchmarks/AnomalyClustering.Benchmarks/bin/Release/net10.0/AnomalyClustering.Benchmarks.dll "$@"; }
py=/usr/bin/python3

echo "### nearest-patch kernel vs OpenBLAS sgemm"
$py benchmarks/reference/sgemm_numpy.py 16 5
bench nearest-patch 16 5

echo "### HAC ward and average, 10,000 x 256, vs fastcluster"
for method in ward average; do
  $py benchmarks/reference/hac_fastcluster.py $method 10000 256 2
  bench hac $method 10000 256 2
done

echo "### HAC peak memory at N = 20,000"
bench hac ward 20000 64 1

echo "### patch embedding (ResNet-50 layer2+layer3, P = T = 1024)"
bench patch-embedding 300

echo "### metrics and assignment vs scikit-learn / scipy"
$py benchmarks/reference/metrics_sklearn.py metrics
$py benchmarks/reference/metrics_sklearn.py assignment
bench metrics
bench assignment

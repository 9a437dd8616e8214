#!/usr/bin/env bash
# Embedding benchmarks beside their references (torch eager, PIL + numpy), same machine, same session.
# Needs ../shared/models (ResNet-50) and Debian's python3-torchvision. Run on a quiet machine:
#   bash benchmarks/run-embedding.sh 2>&1 | tee /tmp/bench-embedding.txt
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release benchmarks/AnomalyClustering.Benchmarks >/dev/null
bench() { dotnet benchmarks/AnomalyClustering.Benchmarks/bin/Release/net10.0/AnomalyClustering.Benchmarks.dll "$@"; }
py=/usr/bin/python3

echo "### ResNet-50 conv1..layer3 at 224 x 224, 2 threads: torch eager vs ONNX Runtime"
for round in 1 2; do
  OMP_WAIT_POLICY=PASSIVE $py benchmarks/reference/resnet50_torch_eager.py --batch 1,8,16 --seconds 6
  $py benchmarks/reference/resnet50_torch_eager.py --batch 8 --seconds 6
  bench embed-throughput --batch 1,8,16 --seconds 6
  bench embed-throughput --batch 1,8,16 --seconds 6 --no-spinning
done

echo "### decode + preprocess a 512 x 512 JPEG: ours vs PIL + numpy"
$py benchmarks/reference/imaging.py
bench imaging 300

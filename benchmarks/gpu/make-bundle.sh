#!/usr/bin/env bash
# Builds the GPU check's bundle into .gpu/ (ignored; add "/.gpu/" to .git/info/exclude): the check published against
# Microsoft.ML.OnnxRuntime.Gpu (as Dockerfile.gpu-worker builds the worker), the .NET runtime it needs (that machine has
# none), the backbone and real input tensors. The CUDA provider library (284 MB) is cut to its sm_90 (Hopper) kernels by
# zeroing the other architectures' cubins (strip-fatbin.py) so that, compressed, each part fits one transfer.
# Usage: benchmarks/gpu/make-bundle.sh [SHARED=../shared]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
shared=$(cd "${1:-$repo/../shared}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$repo/.gpu/a" "$repo/.gpu/b" "$repo/.gpu/c"
# A copy of the sources, so the GPU restore does not touch this checkout's obj/ folders.
(cd "$repo" && git ls-files -co --exclude-standard | grep -v '^\.gpu/' | tar cf - -T -) | (mkdir -p "$work/src" && cd "$work/src" && tar xf -)
dotnet publish "$work/src/benchmarks/AnomalyClustering.GpuCheck" -c Release -p:UseOnnxRuntimeGpu=true --self-contained false -r linux-x64 -o "$work/app" >/dev/null
rm -f "$work/app/"*.pdb "$work/app/"*.xml "$work/app/"onnxruntime*.dll "$work/app/libonnxruntime_providers_tensorrt.so" "$work/app/libSkiaSharp.so"
python3 "$repo/benchmarks/gpu/strip-fatbin.py" "$work/app/libonnxruntime_providers_cuda.so" "$work/cuda90.so" 90
rm "$work/app/libonnxruntime_providers_cuda.so"
xz -9 -T2 -c "$work/cuda90.so" > "$repo/.gpu/a/cuda90.xz"
cp "$shared/models/resnet50_imagenet_layer2_layer3.onnx" "$repo/.gpu/b/"
dotnet run --project "$repo/benchmarks/AnomalyClustering.GpuCheck" -c Release -- prepare "$shared/data/magnetic_tile/test" "$repo/.gpu/b/inputs.f32" 8
tar cf - -C "$work/app" . | xz -9 -T2 > "$repo/.gpu/c/app.tar.xz"
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ {v=$2} END {print v}')
tar cf - -C "$dotnet_root" dotnet host/fxr "shared/Microsoft.NETCore.App/$runtime" | xz -9 -T2 > "$repo/.gpu/c/rt.tar.xz"
du -sh "$repo/.gpu/"*

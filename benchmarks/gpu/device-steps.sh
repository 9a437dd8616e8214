#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, in steps (the bundle that make-bundle.sh writes to .gpu/ is larger
# than one transfer, so it travels in three parts: a, b, c): stage-a and stage-b unpack into /tmp/gpu; run unpacks the
# last part and runs the worker's check; cluster (after stage-a only) unpacks the last part and runs the clustering
# check. Locally: `PROVIDER=cpu benchmarks/gpu/device-steps.sh run` after stage-a and stage-b.
set -u
# Python unpacks (that machine has no zstd; its xz is not promised, its python3 is).
unxz() { python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'), 1 << 24)" "$1" "$2"; }
untar() { python3 -c "import tarfile, sys; tarfile.open(sys.argv[1], 'r:xz').extractall(sys.argv[2], filter='tar')" "$1" "$2"; }
G=/tmp/gpu
mkdir -p "$G"
# Unpacks part c (the program and the .NET runtime) next to the CUDA provider of stage-a and finds CUDA 13's libraries.
unpack_app() {
    test -f "$G/libonnxruntime_providers_cuda.so" || { echo "stage-a did not run on this machine"; exit 3; }
    mkdir -p "$G/rt" "$G/app"
    untar .gpu/c/rt.tar.xz "$G/rt"
    untar .gpu/c/app.tar.xz "$G/app"
    cp "$G/libonnxruntime_providers_cuda.so" "$G/app/"
    # CUDA 13's libraries where this machine has them (the CUDA toolkit, the Python wheels of cuBLAS, cuDNN, cuRAND).
    libdirs=$(find /usr/local /opt /usr/lib \( -name 'libcublas.so.13' -o -name 'libcublasLt.so.13' -o -name 'libcudart.so.13' \
        -o -name 'libcurand.so.10' -o -name 'libcudnn.so.9' \) 2>/dev/null | xargs -r -n1 dirname | sort -u | paste -sd:)
    export LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    ldd "$G/app/libonnxruntime_providers_cuda.so" | grep -E "not found|cublas|cudart|curand" || true
    export DOTNET_ROOT="$G/rt"
}
case "${1:-}" in
stage-a)
    unxz .gpu/a/cuda90.xz "$G/libonnxruntime_providers_cuda.so" && ls -la "$G" && { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true; }
    ;;
stage-b)
    cp .gpu/b/* "$G/" && ls -la "$G"
    ;;
run)
    test -f "$G/inputs.f32" || { echo "stage-b did not run on this machine"; exit 3; }
    unpack_app
    "$G/rt/dotnet" "$G/app/AnomalyClustering.GpuCheck.dll" run --inputs "$G/inputs.f32" --model "$G/resnet50_imagenet_layer2_layer3.onnx" \
        --provider "${PROVIDER:-cuda}" --seconds "${SECONDS_EACH:-3}" --references "${REFERENCES:-16,64,256}" ${PROFILE:+--profile "$G/profile"} ${NO_TF32:+--no-tf32} 2>&1 | tee "${OUT:-$G}/gpu-check${NO_TF32:+-no-tf32}.txt"
    ;;
cluster)
    # The two-stage clustering's k-means assignment on a simulated million-image job (needs stage-a only).
    unpack_app
    "$G/rt/dotnet" "$G/app/AnomalyClustering.GpuCheck.dll" cluster --points "${POINTS:-1000000}" --dimension "${DIMENSION:-256}" \
        --provider "${PROVIDER:-cuda}" --seconds "${SECONDS_EACH:-3}" ${NO_TF32:+--no-tf32} 2>&1 | tee "${OUT:-$G}/gpu-check-cluster${NO_TF32:+-no-tf32}.txt"
    ;;
*)
    echo "usage: $0 stage-a|stage-b|run|cluster"; exit 2
    ;;
esac

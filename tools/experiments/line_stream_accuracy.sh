#!/bin/bash
# A line's accuracy on one shared dataset, fed as a stream (issue 14, "Measured"; docs/RESULTS.md "Production lines:
# NEU-DET and DeepPCB fed as streams"): a job on a seeded half of each class, its clusters named by majority, a line made
# from it, the other half fed with `line feed`; then the same with one defect class held out of the job, and the novel
# pool reclustered. Run from the repository root after `dotnet build -c Release src/AnomalyClustering.Cli`.
# usage: tools/experiments/line_stream_accuracy.sh DATASET MODE K HOLD_OUT_CLASS WORK_FOLDER
set -euo pipefail
D=$1; MODE=$2; K=$3; HOLD=$4; W=$5
ROOT=$(pwd)
B=${B:-$ROOT/src/AnomalyClustering.Cli/bin/Release/net10.0/anomaly-cluster}
M=${M:-$ROOT/../shared/models/resnet50_imagenet_layer2_layer3.onnx}
T=$ROOT/tools/experiments/line_acceptance.py
DATA=$ROOT/../shared/data/$D
mkdir -p "$W"; cd "$W"
STORE=$W/store
run() {  # NAME SPLIT_ARGS...: split, job, names, line, feed, recluster, pool make-up
  local name=$1 split=$2 k=$3; shift 3
  /usr/bin/python3 "$T" split "$DATA" "$split" --seed 0 "$@"
  /usr/bin/time -v "$B" cluster "$split/job" --model "$M" --mode "$MODE" -k "$k" --out "out/$name" --store "$STORE" 2> "time-job-$name.txt"
  /usr/bin/python3 "$T" names "out/$name" "out/$name/names.json"
  "$B" report "out/$name/result.json" --names "out/$name/names.json"
  "$B" line create "$name" --from-result "out/$name" --model "$M" --store "$STORE"
  /usr/bin/time -v "$B" line feed "$name" "$split/feed" --store "$STORE" 2> "time-feed-$name.txt"
  "$B" line recluster "$name" --store "$STORE"
  /usr/bin/python3 "$T" pool "$STORE/blobs/lines/_/$name"
}
run "$D" split "$K"
run "$D-no-$HOLD" "split-no-$HOLD" $((K - 1)) --hold-out "$HOLD"

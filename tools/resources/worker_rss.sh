#!/usr/bin/env bash
# Issue 15, "Bounded resources": a loopback cluster (redis-server, Azurite, one coordinator, ONE gpu-worker, each its own
# process) receives the huge-image attack of tools/resources/make_huge_images.py, and the worker's peak RSS is recorded
# against its memory limit. Prints what the API answered to each request and the worker's VmHWM.
#
#   dotnet build -c Release src/AnomalyClustering.Silo
#   /usr/bin/python3 tools/resources/make_huge_images.py /tmp/huge-images
#   tools/resources/worker_rss.sh /tmp/huge-images [WORKER_LIMIT_BYTES]   # default 4 GiB, as a 4 GiB pod
#
# The worker's memory limit is DOTNET_GCHeapHardLimit (what the GC reports as the process's limit, as a pod's cgroup
# limit would be): the pixel budget's default (a quarter of it) follows from it. Ports 6391, 10011, 8190/8191,
# 11191/11192, 30191/30192 on 127.0.0.1; everything this script starts is stopped at exit.
set -euo pipefail
data=${1:?usage: worker_rss.sh DATA_DIR [WORKER_LIMIT_BYTES]}
limit=${2:-4294967296}
root=$(cd "$(dirname "$0")/../.." && pwd)
silo=$root/src/AnomalyClustering.Silo/bin/Release/net10.0/AnomalyClustering.Silo.dll
work=$(mktemp -d /tmp/worker-rss.XXXXXX)
api=http://127.0.0.1:8190
pids=()
worker=
cleanup() {
  # The worker first (its /usr/bin/time does not pass a signal on), then the rest in reverse order of starting.
  [[ -n $worker ]] && kill "$worker" 2>/dev/null || true
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill "${pids[i]}" 2>/dev/null || true; sleep 1; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

redis-server --port 6391 --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 & pids+=($!)
"$root/tools/azurite/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort 10011 --location "$work/azurite" \
  --skipApiVersionCheck --silent >"$work/azurite.log" 2>&1 & pids+=($!)
export AnomalyClustering__Clustering=Redis ConnectionStrings__Redis=127.0.0.1:6391 AnomalyClustering__Storage__Kind=AzureBlob \
  ConnectionStrings__Blobs='DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10011/devstoreaccount1;' \
  Orleans__ClusterId=worker-rss Orleans__ServiceId=worker-rss DOTNET_gcServer=0 Logging__LogLevel__Orleans=Warning
listening() { for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.5; done; echo "nothing on port $1" >&2; exit 1; }
listening 6391; listening 10011
AnomalyClustering__Auth__AllowAnonymous=true AnomalyClustering__Roles=coordinator Orleans__SiloPort=11191 Orleans__GatewayPort=30191 \
  dotnet "$silo" --urls http://127.0.0.1:8190 >"$work/coordinator.log" 2>&1 & pids+=($!)
# The worker under /usr/bin/time -v: its maximum resident set size is the second measure of its peak.
DOTNET_GCHeapHardLimit=$(printf '0x%x' "$limit") AnomalyClustering__Roles=gpu-worker Orleans__SiloPort=11192 Orleans__GatewayPort=30192 \
  /usr/bin/time -v -o "$work/worker.time" dotnet "$silo" --urls http://127.0.0.1:8191 >"$work/worker.log" 2>&1 & pids+=($!)
timer=$!
for port in 8190 8191; do
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 1; done
done
worker=$(pgrep -P "$timer" -f AnomalyClustering.Silo.dll)
echo "work folder: $work; worker pid $worker; limit $limit bytes"
(while kill -0 "$worker" 2>/dev/null; do
   echo "$(date +%s.%N) $(grep -E 'VmRSS|VmHWM' /proc/$worker/status | tr -s ' \n' ' ')"; sleep 0.5
 done) >"$work/rss.log" & sampler=$!

files=()
while IFS= read -r path; do files+=(-F "images=@$data/$path;filename=$path"); done < <(cd "$data" && find . -name '*.png' -printf '%P\n' | sort)

request() { # name, curl args...: prints the status and the body
  local name=$1; shift
  local code; code=$(curl -s -o "$work/$name.json" -w '%{http_code}' "$@")
  echo "$name: HTTP $code $(head -c 600 "$work/$name.json")"
}
wait_job() {
  for _ in $(seq 1 900); do
    state=$(curl -s "$api/jobs/$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("state"))')
    case $state in completed|failed|cancelled) break;; esac; sleep 1
  done
  echo "$1: $state"
  curl -s "$api/jobs/$1/result/errors?limit=100" | /usr/bin/python3 -c '
import collections, json, sys
page = json.load(sys.stdin)
for e in page.get("errors", page.get("items", [])):
    print("   ", e.get("id"), e.get("reason"), (e.get("message") or "")[:230])'
}

echo "== 1. pretrainDimension 1e9 (must be a 4xx before any upload work)"
request pretrain -X POST "$api/jobs/upload" -F 'jobId=attack-pretrain' -F 'options={"pretrainDimension": 1000000000, "clusters": 3}' "${files[@]:0:2}"
request pretrain-json -X POST "$api/jobs" -H 'Content-Type: application/json' \
  -d '{"jobId": "attack-pretrain-json", "prefix": "uploads/none/", "options": {"pretrainDimension": 1000000000}}'
echo "== 2. maxImageDimension 1e6 over the whole folder (capped by the server)"
request huge -X POST "$api/jobs/upload" -F 'jobId=attack-huge' -F 'options={"maxImageDimension": 1000000, "clusters": 4}' "${files[@]}"
wait_job attack-huge
echo "== 3. the same images, maxImageDimension 4000: the cache must not let the 8000 x 8000 ones past the lower limit"
request cache -X POST "$api/jobs/upload" -F 'jobId=attack-cache' -F 'options={"maxImageDimension": 4000, "clusters": 2}' "${files[@]}"
wait_job attack-cache
echo "== 4. GET /thumbnails/<256 characters>"
request thumbnail "$api/thumbnails/$(printf 'a%.0s' $(seq 1 256))"

kill "$sampler" 2>/dev/null || true
echo "== worker memory (limit $limit bytes = $((limit >> 20)) MiB)"
grep -E 'VmHWM' /proc/$worker/status
sort -k5 -n "$work/rss.log" | tail -1 | awk '{print "peak VmRSS sampled every 0.5 s:", $5, $6}'
kill "$worker"; while kill -0 "$worker" 2>/dev/null; do sleep 1; done; worker=
sleep 1
grep -E 'Maximum resident|Elapsed|User time|System time' "$work/worker.time" || true
grep -c '' "$work/rss.log" | xargs echo "samples:"

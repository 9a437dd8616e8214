#!/usr/bin/env bash
# Exact linear-memory Ward of two builds back to back on the same data, then fastcluster's linkage_vector on the
# isotropic blob (docs/BENCHMARKS.md, "Half the bytes a scan"). Run it on a quiet machine from an empty folder:
#   bash benchmarks/run-ward-compare.sh BASE/AnomalyClustering.Benchmarks.dll NEW/AnomalyClustering.Benchmarks.dll
# (copy each build's benchmarks/AnomalyClustering.Benchmarks/bin/Release/net10.0 folder away first).
set -euo pipefail
base=$1
new=$2
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[ -f flat20k.npy ] || $py "$here/reference/ward_mixture.py" 20000 256 1 flat20k
[ -f mix20k.npy ] || $py "$here/reference/ward_mixture.py" 20000 256 10 mix20k
[ -f mix50k.npy ] || $py "$here/reference/ward_mixture.py" 50000 256 10 mix50k
# The same blob 1,000 away from the origin in every dimension (values far from 0 next to their spread).
[ -f flat20k_off1e3.npy ] || $py -c "import numpy as np; np.save('flat20k_off1e3.npy', (np.load('flat20k.npy') + 1000).astype(np.float32))"
t() { /usr/bin/time -v dotnet "$1" ward "$2" exact "$3" 2>&1 | grep -E "linear|User time|System time|Elapsed|Maximum resident" | tr '\n' ' '; echo; }
date; uptime
for threads in 1 2; do
  echo "== flat20k $threads thread(s), base"; t "$base" flat20k.npy $threads
  echo "== flat20k $threads thread(s), new"; t "$new" flat20k.npy $threads
done
for f in flat20k_off1e3 mix20k mix50k; do
  echo "== $f 1 thread, base"; t "$base" $f.npy 1
  echo "== $f 1 thread, new"; t "$new" $f.npy 1
done
echo "== fastcluster.linkage_vector, flat20k"
/usr/bin/time -v $py -c "import numpy as np, fastcluster; np.save('fc-flat20k.npy', fastcluster.linkage_vector(np.load('flat20k.npy').astype(np.float64), 'ward'))" 2>&1 | grep -E "User time|System time|Elapsed|Maximum resident" | tr '\n' ' '; echo
date; uptime

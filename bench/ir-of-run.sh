#!/usr/bin/env bash
# bench/ir-of-run — instructions a bench child executes in Simulator.run, counted by valgrind's cachegrind
# ("I refs"), for comparing two trees on a shared machine. CPU time here moves by ±15 % with the load;
# the instruction count of the same tree moved by 0.014 % between two H1 runs at load 6 and 9
# (16,509,945,294 and 16,512,264,048 for the whole process). It counts every thread (JIT compiler and GC
# helpers too), which is what process CPU time counts. It is not time: a cache miss costs ~100
# instructions' worth, so it suits small worlds that fit in cache (S1, S2, H1) and a change that saves
# work, not one that saves memory traffic (the big cluster's run is not measured well by it).
#
# The run's count is the whole process's minus the same child's with Simulator.run skipped
# (bench/skip-run.mjs), so module loading and the scenario's build are left out. ~50x slower than
# native: H1 takes 5-8 minutes for the two runs.
#
#   bash bench/ir-of-run.sh H1 [tree]        (tree: a checkout with dist/, default this one; npm run build first)
#   bash bench/ir-of-run.sh scale:100:1000:3:20:500:10 [tree]
#                                            (a generated cluster, bench/scale.js --child N S K FLOWS REQUESTS RATE)
#   bash bench/ir-of-run.sh scale:100:1000:3:20:500-1000:10 [tree]
#                                            (steady state: the same cluster run with 500 and with 1,000 requests
#                                            a flow; the difference of the two whole-process counts divided by the
#                                            extra requests, so start-up, build and JIT warm-up cancel out)
#   CACHE_SIM=yes bash bench/ir-of-run.sh …  (also D1 and last-level misses: 32 KiB D1, 4 MiB 16-way LL;
#                                            the big cluster's run is bound by these, not by instructions)
#
# Prints: ID ir_total=… ir_build=… ir_run=… deliveries=… ir_run_per_delivery=… [d1_run=… ll_run=…]
# node runs with --single-threaded --predictable: no helper threads (their work is counted on the main
# thread), a fixed hash seed and a GC schedule that does not depend on wall-clock time, so where a
# collection falls does not move with the machine's load (session 26: without --predictable the build of one
# tree moved 3.04 -> 3.10 G between two runs at load 14).
set -euo pipefail
id="${1:?usage: bench/ir-of-run.sh S1|S2|S3|H1|I1|scale:N:S:K:FLOWS:REQUESTS:RATE [tree]}"
tree="$(cd "${2:-$(dirname "$0")/..}" && pwd)"
command -v valgrind >/dev/null || { echo "ir-of-run: valgrind is not installed (apt-get install -y valgrind)" >&2; exit 1; }
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

count() { # $1: log file, $2: the counter's label; prints what the run it logged counted
  sed -n "s/.*$2: *\([0-9,]*\).*/\1/p" "$1" | head -1 | tr -d ', '
}
sim="${CACHE_SIM:-no}"
vg=(valgrind --tool=cachegrind --cache-sim="$sim" --cachegrind-out-file=/dev/null)
[ "$sim" = yes ] && vg+=(--I1=32768,8,64 --D1=32768,8,64 --LL=4194304,16,64)
if [[ "$id" == scale:*:*-*:* ]]; then
  IFS=: read -r _ n s k flows requests rate <<<"$id"
  r1="${requests%-*}"; r2="${requests#*-}"
  for r in "$r1" "$r2"; do
    "${vg[@]}" node --single-threaded --predictable --max-old-space-size=7000 "$tree/dist/bench/scale.js" --child "$n" "$s" "$k" "$flows" "$r" "$rate" >"$out/r$r.out" 2>"$out/r$r.log"
  done
  extra=$(( $(sed -n 's/.*"requestsOk":\([0-9]*\).*/\1/p' "$out/r$r2.out") - $(sed -n 's/.*"requestsOk":\([0-9]*\).*/\1/p' "$out/r$r1.out") ))
  [ "$extra" -gt 0 ] || { echo "ir-of-run: no extra requests (see $out)" >&2; cat "$out/r$r2.log" >&2; exit 1; }
  line="$id extra_requests=$extra ir_per_request=$(( ($(count "$out/r$r2.log" 'I *refs') - $(count "$out/r$r1.log" 'I *refs')) / extra ))"
  if [ "$sim" = yes ]; then
    line+=" d1_per_request=$(( ($(count "$out/r$r2.log" 'D1  misses') - $(count "$out/r$r1.log" 'D1  misses')) / extra ))"
    line+=" ll_per_request=$(( ($(count "$out/r$r2.log" 'LL misses') - $(count "$out/r$r1.log" 'LL misses')) / extra ))"
  fi
  echo "$line"
  exit 0
fi
if [[ "$id" == scale:* ]]; then
  IFS=: read -r _ n s k flows requests rate <<<"$id"
  child=(--max-old-space-size=7000 "$tree/dist/bench/scale.js" --child "$n" "$s" "$k" "$flows" "$requests" "$rate")
else
  child=("$tree/dist/bench/run.js" --child "$id")
fi
"${vg[@]}" node --single-threaded --predictable "${child[@]}" >"$out/full.out" 2>"$out/full.log"
TREE="$tree" "${vg[@]}" node --single-threaded --predictable --import "$here/skip-run.mjs" "${child[@]}" >/dev/null 2>"$out/build.log"
total="$(count "$out/full.log" 'I *refs')"
build="$(count "$out/build.log" 'I *refs')"
if [[ "$id" == scale:* ]]; then
  deliveries="$(sed -n 's/.*"requestsOk":\([0-9]*\).*/\1/p' "$out/full.out")"
else
  deliveries="$(sed -n 's/.*deliveries=\([0-9]*\).*/\1/p' "$out/full.out")"
fi
[ -n "$total" ] && [ -n "$build" ] && [ -n "$deliveries" ] || { echo "ir-of-run: no count (see valgrind's output above)" >&2; cat "$out/full.log" >&2; exit 1; }
run=$((total - build))
misses=""
if [ "$sim" = yes ]; then
  d1=$(( $(count "$out/full.log" 'D1  misses') - $(count "$out/build.log" 'D1  misses') ))
  ll=$(( $(count "$out/full.log" 'LL misses') - $(count "$out/build.log" 'LL misses') ))
  misses=" d1_run=$d1 ll_run=$ll ll_run_per_delivery=$((ll / deliveries))"
fi
echo "$id ir_total=$total ir_build=$build ir_run=$run deliveries=$deliveries ir_run_per_delivery=$((run / deliveries))$misses"

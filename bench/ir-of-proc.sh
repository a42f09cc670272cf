#!/usr/bin/env bash
# bench/ir-of-proc — cachegrind's instruction count ("I refs") of a whole bench child process WITH its helper
# threads (no --single-threaded): what V8 flags that move work between the main thread and the compiler or
# GC threads change. bench/ir-of-run.sh runs node --single-threaded --predictable, which puts TurboFan's
# and the GC's work on the main thread but also changes how V8 schedules it, so it cannot judge a flag
# such as --concurrent-recompilation or --single-threaded-gc. valgrind serialises the threads; the count
# of one tree moves between runs more than ir-of-run.sh's (concurrent jobs finish at other points).
#
#   FLAGS="--maglev" bash bench/ir-of-proc.sh H1 [tree]                 (node FLAGS TREE/dist/bench/run.js --child H1)
#   FLAGS="…" bash bench/ir-of-proc.sh scale:100:1000:3:20:500:10 [tree]
#   BUILD=yes …                                                        (also the same child with Simulator.run
#                                                                      skipped, bench/skip-run.mjs: ir_run = total - build)
# Prints: ID flags=… ir_total=… [ir_build=… ir_run=…] plus the child's own result line's events/deliveries.
set -euo pipefail
id="${1:?usage: FLAGS=… bench/ir-of-proc.sh H1|scale:N:S:K:FLOWS:REQUESTS:RATE [tree]}"
tree="$(cd "${2:-$(dirname "$0")/..}" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
read -r -a flags <<<"${FLAGS:-}"
count() { sed -n "s/.*$2: *\([0-9,]*\).*/\1/p" "$1" | head -1 | tr -d ', '; }
vg=(valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null)
if [[ "$id" == scale:* ]]; then
  IFS=: read -r _ n s k fl requests rate <<<"$id"
  child=(--max-old-space-size=7000 "$tree/dist/bench/scale.js" --child "$n" "$s" "$k" "$fl" "$requests" "$rate")
else
  child=("$tree/dist/bench/run.js" --child "$id")
fi
"${vg[@]}" node "${flags[@]}" "${child[@]}" >"$out/full.out" 2>"$out/full.log"
total="$(count "$out/full.log" 'I *refs')"
[ -n "$total" ] || { echo "ir-of-proc: no count" >&2; cat "$out/full.log" >&2; exit 1; }
events="$(grep -o 'events[=":]*[0-9]*' "$out/full.out" | head -1 || true)"
line="$id flags='${FLAGS:-}' ir_total=$total $events"
if [ "${BUILD:-no}" = yes ]; then
  TREE="$tree" "${vg[@]}" node "${flags[@]}" --import "$here/skip-run.mjs" "${child[@]}" >/dev/null 2>"$out/build.log"
  build="$(count "$out/build.log" 'I *refs')"
  line+=" ir_build=$build ir_run=$((total - build))"
fi
echo "$line"

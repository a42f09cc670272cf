#!/usr/bin/env bash
# bench/ir-marginal-h1 — H1's steady-state instructions per request: cachegrind of the whole process of H1 at
# two simulated durations (bench/h1-at.mjs: the same scenario with `duration` changed), the
# difference of the two "I refs" divided by the difference in completed requests. Start-up, the build and most
# of the JIT's warm-up cancel out; what is left is the per-request cost of the warmed-up run.
#   bash bench/ir-marginal-h1.sh [tree] [short_s] [long_s]      (defaults: this checkout, 20, 50; past ~56 s
# of simulated time H1's client runs out of ports with a minute of TIME_WAIT and failures enter the count)
set -euo pipefail
tree="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
short="${2:-20}"; long="${3:-50}"
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for d in "$short" "$long"; do
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    node --single-threaded --predictable "$here/h1-at.mjs" "$tree" "$d" >"$out/d$d.out" 2>"$out/d$d.log"
done
ir() { sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' "$1" | head -1 | tr -d ', '; }
ok() { sed -n 's/.*"ok":\([0-9]*\).*/\1/p' "$1"; }
extra=$(( $(ok "$out/d$long.out") - $(ok "$out/d$short.out") ))
d=$(( $(ir "$out/d$long.log") - $(ir "$out/d$short.log") ))
if (( extra <= 0 )); then echo "ir-marginal-h1: no more requests at ${long}s than at ${short}s" >&2; exit 1; fi
echo "H1 ${short}s->${long}s tree=$tree ir_short=$(ir "$out/d$short.log") ir_long=$(ir "$out/d$long.log") extra_requests=$extra ir_per_request=$(( d / extra ))"

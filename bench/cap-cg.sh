#!/usr/bin/env bash
# bench/cap-cg.sh TREE TAG [MODE=early] [WINDOW=close|run] [OUTDIR=/tmp/cap-cg]: callgrind of capture-cost's child MODE
# (bench/capture-cost.ts) of TREE's dist (copied first, so TREE may be rebuilt meanwhile; capture-cost's 5 s wait for the
# spare writer thread raised to 600 s: under valgrind its warm-up takes longer), threads apart (--separate-threads=yes:
# OUTDIR/cg-TAG.out-01 is the simulation thread, the highest-numbered large file the writer thread), node
# --single-threaded (TurboFan and the GC's helpers run on the thread they work for), with --dump-instr=yes and the cache
# simulation, then the same child natively with the optimized code printed (OUTDIR/asm-TAG.txt.gz). Session 46 (s46-cap);
# sessions 39–45 used the same script from /tmp. ~1.5 min each on this VM. Then, e.g.:
#   python3 bench/cg-funcs.py OUTDIR/cg-TAG.out-01 OUTDIR/perf-TAG.map --sort ir --top 30   # "per request" = per 2,021: ×2021/800,004 a departure
# The instruction counts of the simulation thread's JS are repeatable to ~0.1 M; the natives (compiler, GC) move by
# ±20 M between runs of one tree, and the simulated cache's misses move by far more (the two threads' interleaving under
# valgrind differs from run to run): compare misses only across several runs.
set -e
src=$(cd "$1" && pwd); tag=$2; mode=${3:-early}; win=${4:-close}; D=${5:-/tmp/cap-cg}; T=$D/T-$tag
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$D"; rm -rf "$T"; mkdir -p "$T"; cp -r "$src/dist" "$src/package.json" "$T/"; ln -s "$src/node_modules" "$T/node_modules"
sed -i 's/waitThreadUp(5000)/waitThreadUp(600000)/' "$T/dist/bench/capture-cost.js"
cd "$D"
TREE=$T WINDOW=$win timeout 3000 valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --cache-sim=yes --dump-instr=yes \
  --D1=32768,8,64 --LL=4194304,16,64 --callgrind-out-file="$D/cg-$tag.out" node --single-threaded --perf-basic-prof \
  --import "$here/cap-cg-window.mjs" "$T/dist/bench/capture-cost.js" --child "$mode" > "$D/cg-$tag.log" 2>&1 || echo "rc=$?" >> "$D/cg-$tag.log"
pid=$(grep -m1 -o '^==[0-9]*==' "$D/cg-$tag.log" | tr -d =)
cp "/tmp/perf-$pid.map" "$D/perf-$tag.map"
node --single-threaded --print-opt-code --code-comments "$T/dist/bench/capture-cost.js" --child "$mode" 2>&1 | gzip -1 > "$D/asm-$tag.txt.gz"
echo "done $tag"

#!/usr/bin/env bash
# bench/cg-window.sh NAME TREE [OUTDIR]: the 300 x 3,000 callgrind window (simulated 140-142 s, 2,021 requests) of TREE's
# dist, copied first (TREE may be rebuilt meanwhile), with --dump-instr=yes and --initial-old-space-size=1500 (no major GC
# in the window), then the same window natively with the optimized code printed, filtered for bench/cg-barriers.py.
# Writes OUTDIR/{cg-NAME.out,cg-NAME.log,perf-NAME.map,wb-NAME.txt,asm-NAME.txt.gz (the whole listing, for
# bench/cg-instr.py --asm and bench/cg-cells.py)}. Then, e.g.:
#   python3 bench/cg-barriers.py OUTDIR/cg-NAME.out OUTDIR/perf-NAME.map OUTDIR/wb-NAME.txt 0
#   python3 bench/cg-area.py OUTDIR/cg-NAME.out OUTDIR/perf-NAME.map OUTDIR/wb-NAME.txt 'netfilter/[a-z/-]+|net/[a-z-]+'
# (session 38's area figures also counted the generated walks and scans: perf-map names `JS:*walk :L:C` / `JS:*scan …`).
# Environment (defaults: the window of sessions 34-46): CG_WORLD="N S K F R RATE FROM TO" (e.g. the 1 M run's world,
# "1000 10000 3 100 10000 10 140 142"), CG_D1 and CG_LL (valgrind's size,assoc,line; e.g. this Zen 5 guest's L1D
# 49152,12,64 and its 32 MiB L3 33554432,16,64).
set -e
world=${CG_WORLD:-300 3000 3 100 2000 10 140 142}; d1=${CG_D1:-32768,8,64}; ll=${CG_LL:-4194304,16,64}
name=$1; src=$(cd "$2" && pwd); D=${3:-/tmp/cg-window}; T=$D/T-$name
mkdir -p "$D"; rm -rf "$T"; mkdir -p "$T"; cp -r "$src/dist" "$src/bench" "$src/package.json" "$T/"; ln -s "$src/node_modules" "$T/node_modules"
cd "$D"
timeout 3000 valgrind --tool=callgrind --instr-atstart=no --cache-sim=yes --dump-instr=yes --D1=$d1 --LL=$ll \
  --callgrind-out-file="$D/cg-$name.out" node --single-threaded --predictable --perf-basic-prof --max-old-space-size=7000 \
  --initial-old-space-size=1500 "$T/bench/scale-window.mjs" "$T" $world --callgrind > "$D/cg-$name.log" 2>&1 || echo "rc=$?" >> "$D/cg-$name.log"
pid=$(grep -m1 -o '^==[0-9]*==' "$D/cg-$name.log" | tr -d =)
cp "/tmp/perf-$pid.map" "$D/perf-$name.map"
timeout 1500 node --single-threaded --predictable --max-old-space-size=7000 --initial-old-space-size=1500 --print-opt-code --code-comments \
  "$T/bench/scale-window.mjs" "$T" $world 2>&1 | gzip -1 > "$D/asm-$name.txt.gz"
zcat "$D/asm-$name.txt.gz" | grep -E '^name = |^Instructions \(size|testb \[r[0-9a-z]+\+0x8\],0x[0-9a-f]+ *$' > "$D/wb-$name.txt"
echo "done $name"

#!/usr/bin/env python3
# bench/capalt — the capture ratio of two built trees, alternated: N rounds, each running capture-cost's `none` and
# `early` children of tree A and tree B (`node TREE/dist/bench/capture-cost.js --child MODE`), the order of the trees
# and of the modes reversed every other round, so a change in the host's speed hits both alike. Prints per tree the
# medians of none's and early's wall, early × none paired by round (the goal's figure, issue 13), the ratio of
# medians, close() and the final fsync (ms), the simulation thread's CPU, and ns-3's window × none, paired.
#   python3 bench/capalt.py N TREE_A TREE_B      (trees are directories holding dist/ and node_modules)
import json, os, statistics as st, subprocess, sys

n = int(sys.argv[1]); trees = [os.path.abspath(t) for t in sys.argv[2:4]]
if len(trees) != 2: sys.exit('usage: capalt.py N TREE_A TREE_B')
rows = {t: {'none': [], 'early': []} for t in trees}

def child(tree, mode):
    js = os.path.join(tree, 'dist/bench/capture-cost.js')
    r = subprocess.run(['node', js, '--child', mode], capture_output=True, text=True, cwd=tree, timeout=300)
    if r.returncode != 0: sys.exit(f'capalt: {tree} {mode} failed (exit {r.returncode}): {r.stderr.strip()[-400:]}')
    return json.loads(r.stdout.strip().splitlines()[-1])

for i in range(n):
    order = trees if i % 2 == 0 else trees[::-1]
    modes = ('none', 'early') if i % 4 < 2 else ('early', 'none')
    for t in order:
        for m in modes: rows[t][m].append(child(t, m))

med = st.median
for t in trees:
    no, ea = rows[t]['none'], rows[t]['early']
    paired = med(e['wall'] / b['wall'] for e, b in zip(ea, no))
    n3 = [e['wallNs3'] / b['wallNs3'] for e, b in zip(ea, no) if e.get('wallNs3') and b.get('wallNs3')]
    close = [e['diag']['closeMs'] for e in ea if e.get('diag')]
    fs = [e['diag']['thFinalFsyncMs'] for e in ea if e.get('diag')]
    print(f"{os.path.basename(t)}: none wall {med(b['wall'] for b in no):.3f} s  early {med(e['wall'] for e in ea):.3f} s  "
          f"early × none paired {paired:.3f} (ratio of medians {med(e['wall'] for e in ea) / med(b['wall'] for b in no):.3f})  "
          f"close {med(close):.1f} ms  final fsync {med(fs):.1f} ms  sim cpu {med(e['simCpu'] for e in ea):.3f} / {med(b['simCpu'] for b in no):.3f}  "
          f"ns-3's window × none {med(n3) if n3 else float('nan'):.3f}")

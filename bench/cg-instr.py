#!/usr/bin/env python3
# bench/cg-instr — the instructions of optimized JS functions with the most cache misses in a callgrind window, per
# request, and (with the window's full --print-opt-code --code-comments listing, as bench/cg-cells.py takes) the
# code around each: which load misses, to find the object and field it reads.
#   python3 bench/cg-instr.py callgrind.out perf.map FUNCTION_REGEX [--asm listing.txt[.gz]] [--req N] [--top N] [--by ll|d1] [--ctx N]
import argparse, collections, gzip, os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cglib import instr_costs, perf_lookup, short

ap = argparse.ArgumentParser()
ap.add_argument('out'); ap.add_argument('pmap'); ap.add_argument('fn')
ap.add_argument('--asm'); ap.add_argument('--req', type=int, default=2021); ap.add_argument('--top', type=int, default=12)
ap.add_argument('--by', choices=['ll', 'd1'], default='ll'); ap.add_argument('--ctx', type=int, default=6)
a = ap.parse_args()
look = perf_lookup(a.pmap); rx = re.compile(a.fn)
acc = collections.defaultdict(lambda: [0, 0, 0])
for addr, vals, (iI, iD, iL) in instr_costs(a.out):
    e = look(addr)
    if e is None or not e[2].startswith('JS:*') or not rx.search(e[2]): continue
    s = acc[(e[2], e[1], addr - e[0])]; s[0] += vals[iI]; s[1] += vals[iD]; s[2] += vals[iL]
hot = sorted(acc.items(), key=lambda x: -x[1][2 if a.by == 'll' else 1])[:a.top]
listing = {}
if a.asm:
    want = {(re.match(r'JS:\*(\S*)', n).group(1), sz) for (n, sz, _), _ in hot}
    opener = gzip.open if a.asm.endswith('.gz') else open
    name = size = None; body = None
    for line in opener(a.asm, 'rt', errors='replace'):
        if line.startswith('name = '): name, size, body = line[7:].strip(), None, None
        elif line.startswith('Instructions (size'):
            size = int(re.search(r'\d+', line).group())
            if (name, size) in want and (name, size) not in listing: body = listing[(name, size)] = []
        elif body is not None:
            if line.startswith(('Safepoints', '--- End', 'RelocInfo')): body = None
            else: body.append(line.rstrip('\n'))
for (n, sz, off), s in hot:
    print(f'{short(n)[:70]}  size {sz}  +0x{off:x}: Ir {s[0] / a.req:.2f}  D1 {s[1] / a.req:.2f}  LL {s[2] / a.req:.2f}')
    body = listing.get((re.match(r'JS:\*(\S*)', n).group(1), sz))
    if body:
        idx = next((i for i, l in enumerate(body) if (m := re.match(r'0x[0-9a-f]+\s+([0-9a-f]+)\s', l)) and int(m.group(1), 16) >= off), None)
        if idx is not None:
            for l in body[max(0, idx - a.ctx):idx + 2]: print(('  >> ' if l is body[idx] else '     ') + l[:150])

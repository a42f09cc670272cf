#!/usr/bin/env python3
# bench/cg-annot — one optimized JS function's whole listing with each instruction's Ir per call, from a callgrind output
# made with --dump-instr=yes (bench/cap-cg.sh, bench/cg-window.sh) and a --print-opt-code --code-comments listing of the
# same code (matched by name and code size; the version with the most Ir is taken). CALLS: what to divide by (a
# departure: 800,004 in capture-cost's S1). Session 46 (s46-cap): where departed's 258.6 instructions go.
#   python3 bench/cg-annot.py OUT PERF_MAP ASM_LISTING[.gz] 'departed .*capture/point' 800004
import collections, gzip, os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cglib import instr_costs, perf_lookup

out, pmap, asm, fn, calls = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
look = perf_lookup(pmap); rx = re.compile(fn)
acc = collections.defaultdict(int); sizes = collections.Counter()
for addr, vals, ix in instr_costs(out):
    e = look(addr)
    if e is None or not e[2].startswith('JS:*') or not rx.search(e[2]): continue
    acc[(e[2], e[1], addr - e[0])] += vals[ix[0]]; sizes[(e[2], e[1])] += vals[ix[0]]
if not sizes: sys.exit(f'cg-annot: no optimized code matching {fn!r}')
for (n, sz), tot in sizes.most_common(3): print(f'{n}  size {sz}: {tot / calls:.1f} Ir a call')
(n, sz), _ = sizes.most_common(1)[0]
name = re.match(r'JS:\*(\S*)', n).group(1)
cur = body = None; found = None
opener = gzip.open if asm.endswith('.gz') else open
for line in opener(asm, 'rt', errors='replace'):
    if line.startswith('name = '): cur, body = line[7:].strip(), None
    elif line.startswith('Instructions (size'):
        if found is None and cur == name and int(re.search(r'\d+', line).group()) == sz: body = found = []
    elif body is not None:
        if line.startswith(('Safepoints', '--- End', 'RelocInfo')): body = None
        else: body.append(line.rstrip('\n'))
if found is None: sys.exit(f'cg-annot: no listing of {name} with {sz} bytes of code in {asm}')
for l in found:
    m = re.match(r'0x[0-9a-f]+\s+([0-9a-f]+)\s', l)
    c = acc.get((n, sz, int(m.group(1), 16)), 0) / calls if m else 0
    print(f'{c:6.2f} ' if c else '       ', l)

#!/usr/bin/env python3
# bench/cg-funcs — a callgrind window's cost per function, per request: optimized JS named by node's perf map, the
# rest (V8's garbage collector and compiler, builtins, libc) by callgrind's own names, so the GC's and the builtins'
# share stands beside the JS. With a page-flag listing (bench/cg-window.sh's wb-NAME.txt) it also splits each JS
# function's last-level misses at its write barriers' page-flag tests (a simulation artefact: bench/cg-barriers.py).
#   python3 bench/cg-funcs.py callgrind.out perf.map [--wb wb.txt] [--req N] [--top N] [--sort ir|d1|ll|ll-out] [--match REGEX]
import argparse, collections, os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cglib import named_costs, page_flag_tests

ap = argparse.ArgumentParser()
ap.add_argument('out'); ap.add_argument('pmap')
ap.add_argument('--wb'); ap.add_argument('--req', type=int, default=2021); ap.add_argument('--top', type=int, default=40)
ap.add_argument('--sort', choices=['ir', 'd1', 'll', 'll-out'], default='ll'); ap.add_argument('--match', default='')
a = ap.parse_args()
tests = page_flag_tests(a.wb) if a.wb else {}
acc = collections.defaultdict(lambda: [0, 0, 0, 0])  # Ir, D1mr, DLmr, DLmr at page-flag tests
for fn, e, addr, vals, (iI, iD, iL) in named_costs(a.out, a.pmap):
    s = acc[fn]; s[0] += vals[iI]; s[1] += vals[iD]; s[2] += vals[iL]
    if e is not None and tests:
        m = re.match(r'JS:\*(\S*)', e[2])
        if m and (addr - e[0]) in tests.get((m.group(1), e[1]), ()): s[3] += vals[iL]
tot = [sum(s[k] for s in acc.values()) / a.req for k in range(4)]
print(f'per request, {a.req} requests: Ir {tot[0]:.0f}  D1 read misses {tot[1]:.1f}  LL read misses {tot[2]:.1f}' + (f' ({tot[2] - tot[3]:.1f} outside page-flag tests)' if tests else ''))
key = {'ir': lambda s: s[0], 'd1': lambda s: s[1], 'll': lambda s: s[2], 'll-out': lambda s: s[2] - s[3]}[a.sort]
rx = re.compile(a.match)
print(f'{"Ir":>8} {"D1":>7} {"LL":>6}' + (f' {"LL-out":>6}' if tests else '') + '  function')
for fn, s in sorted(((f, s) for f, s in acc.items() if rx.search(f)), key=lambda x: -key(x[1]))[:a.top]:
    print(f'{s[0] / a.req:8.0f} {s[1] / a.req:7.1f} {s[2] / a.req:6.2f}' + (f' {(s[2] - s[3]) / a.req:6.2f}' if tests else '') + f'  {fn[:110]}')

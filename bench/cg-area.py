#!/usr/bin/env python3
# bench/cg-area — a callgrind run's cost in optimized JS code of chosen source files, per request, by file:
# Ir, D1 read misses, LL read misses, and LL read misses outside V8's write-barrier page-flag tests
# (bench/cg-barriers.py explains those). Each instruction goes to the most recent perf-map entry covering
# it (the map keeps stale entries of reused code space). Inputs as cg-barriers.py's:
#   python3 bench/cg-area.py callgrind.out /tmp/perf-PID.map wb.txt [FILE_REGEX] [REQUESTS]
# FILE_REGEX is matched against the perf-map name's path after dist/src/ (default: session 37's link/net area).
import collections, os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cglib import instr_costs, page_flag_tests, perf_lookup

out, pmap, wb = sys.argv[1:4]
AREA = sys.argv[4] if len(sys.argv) > 4 else None
REQ = int(sys.argv[5]) if len(sys.argv) > 5 else 2021
my = re.compile(r"/dist/src/(" + (AREA or r"link/(bridge|vxlan|veth|channel|device|nic)|net/(neighbour|neighbour-entry|arp|ip-input|ip-output|ip-forward|fib|fib-cache|namespace|br-netfilter)|packet/(packet|length)") + r")\.js:")
tests = page_flag_tests(wb)
look = perf_lookup(pmap)
acc = collections.defaultdict(lambda: [0, 0, 0, 0])
for addr, vals, (iI, iD, iL) in instr_costs(out):
    e = look(addr)
    if e is None or not my.search(e[2]) or not e[2].startswith('JS:*'): continue
    f = e[2].split('/dist/src/')[-1].split(':')[0]
    m = re.match(r'JS:\*(\S*)', e[2]); key = (m.group(1), e[1])
    a = acc[f]; a[0] += vals[iI]; a[1] += vals[iD]; a[2] += vals[iL]
    if (addr - e[0]) in tests.get(key, ()): a[3] += vals[iL]
t = [0, 0, 0, 0]
for f, a in sorted(acc.items(), key=lambda x: -x[1][0]):
    print(f'{f:28s} Ir {a[0]/REQ:7.0f} D1 {a[1]/REQ:6.1f} LL {a[2]/REQ:5.2f} LL-outside-pf {(a[2]-a[3])/REQ:5.2f}')
    for k in range(4): t[k] += a[k]
print(f'{"TOTAL":28s} Ir {t[0]/REQ:7.0f} D1 {t[1]/REQ:6.1f} LL {t[2]/REQ:5.2f} LL-outside-pf {(t[2]-t[3])/REQ:5.2f}')

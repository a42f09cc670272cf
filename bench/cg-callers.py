#!/usr/bin/env python3
# bench/cg-callers — who calls a function in a callgrind window, per request: calls and their inclusive cost by caller
# (optimized JS named by node's perf map, the rest by callgrind's names). E.g. which JS reaches V8's Map lookups
# (FindOrderedHashMapEntry), the generic call builtins, RecordWrite or memcpy.
#   python3 bench/cg-callers.py callgrind.out perf.map CALLEE_SUBSTRING [REQUESTS] [TOP]
import collections, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cglib import call_costs

out, pmap, callee = sys.argv[1:4]
req = int(sys.argv[4]) if len(sys.argv) > 4 else 2021
top = int(sys.argv[5]) if len(sys.argv) > 5 else 25
acc = collections.defaultdict(lambda: [0, 0, 0, 0])
for caller, n, vals, (iI, iD, iL) in call_costs(out, pmap, callee):
    s = acc[caller]; s[0] += n; s[1] += vals[iI]; s[2] += vals[iD]; s[3] += vals[iL]
print(f'{"calls":>7} {"Ir":>8} {"D1":>7} {"LL":>6}  caller (inclusive cost of its calls to *{callee}*, per request)')
for c, s in sorted(acc.items(), key=lambda x: -x[1][1])[:top]:
    print(f'{s[0] / req:7.2f} {s[1] / req:8.0f} {s[2] / req:7.1f} {s[3] / req:6.2f}  {c[:110]}')

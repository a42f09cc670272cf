#!/usr/bin/env python3
"""bench/gc-nvp-sum — sums a --trace-gc-nvp log between @@RUN-START and @@RUN-END (bench/run-marks.mjs):
collections by kind, then each numeric field of the scavenges in all, per scavenge and per request, and
the major GCs' pause and main-thread incremental marking. Usage: gc-nvp-sum.py LOG [REQUESTS]"""
import collections, re, statistics, sys

req = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
inrun = False
rows = []
for line in open(sys.argv[1]):
    if line.startswith('@@RUN-START'):
        inrun = True
    elif line.startswith('@@RUN-END'):
        inrun = False
    elif inrun and ' gc=' in line:
        rows.append(dict(re.findall(r'(\S+?)=(\S+)', line)))
print(dict(collections.Counter(r['gc'] for r in rows)))
sc = [r for r in rows if r['gc'] == 's']
sums = collections.defaultdict(float)
for r in sc:
    for k, v in r.items():
        try:
            sums[k] += float(v)
        except ValueError:
            pass
for k, v in sorted(sums.items()):
    if v:
        print(f's {k:40s} total {v:16.2f}  per-scavenge {v / len(sc):14.3f}  per-request {v / req:12.4f}')
if sc:
    print('median scavenge ms', statistics.median(float(r['scavenge']) for r in sc))
for r in rows:
    if r['gc'] == 'mc':
        print('mc pause', r.get('pause'), 'incremental (main thread)', r.get('incremental'), 'size', r.get('total_size_before'), '->', r.get('total_size_after'))

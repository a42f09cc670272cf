#!/usr/bin/env python3
# bench/cg-barriers — how many of a callgrind run's cache misses are V8 write barriers' page-flag tests.
# A store of a pointer into an object is followed in optimized code by `testb [page+0x8],flag`: the flags
# word in the header of the 256 KiB page holding the host (and, out of line, the stored value). Page
# headers lie at multiples of 256 KiB, so valgrind's virtually indexed caches put them all in set 0 of
# a 4 MiB 16-way LL (and of D1); the real CPU's L2/L3 are physically indexed (4 KiB pages) and do not.
#
#   1. the callgrind run (bench/callgrind-run.mjs's header; keep --dump-instr=yes, --perf-basic-prof, --predictable)
#   2. the same child once more natively with the optimized code printed (same flags but valgrind and the
#      callgrind import; --predictable makes the code the same, checked here by each function's size):
#        node --single-threaded --predictable --max-old-space-size=7000 --print-opt-code --code-comments \
#          T/dist/bench/scale.js --child … 2>&1 | grep -E '^name = |^Instructions \(size|testb \[r[0-9a-z]+\+0x8\],0x[0-9a-f]+ *$' > wb.txt
#   3. python3 bench/cg-barriers.py callgrind.out /tmp/perf-PID.map wb.txt [N]
# Prints each event's total and the part at those tests, then the N sites with most LL read misses.
import bisect, collections, os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cglib import page_flag_tests

out, pmap, asm = sys.argv[1], sys.argv[2], sys.argv[3]
top = int(sys.argv[4]) if len(sys.argv) > 4 else 20
tests = page_flag_tests(asm)  # (name, size) -> offsets of page-flag tests
ranges = []
for line in open(pmap):
    a, sz, nm = line.rstrip('\n').split(' ', 2)
    m = re.match(r'JS:\*(\S*)', nm)
    if m and (m.group(1), int(sz, 16)) in tests:
        ranges.append((int(a, 16), int(sz, 16), tests[(m.group(1), int(sz, 16))], nm.split(' ')[0] + ' ' + nm.split('/')[-1]))
ranges.sort()
starts = [r[0] for r in ranges]
events, npos, addr, skip = None, 1, 0, False
total, at = collections.Counter(), collections.Counter()
sites = collections.Counter()
for line in open(out):
    if line.startswith('positions:'):
        npos = len(line.split()) - 1
    elif line.startswith('events:'):
        events = line.split()[1:]
    elif line.startswith('calls='):
        skip = True
    elif line[:1].isdigit() or line[:1] in '+-*':
        p = line.split()
        if p[0].startswith('0x'): addr = int(p[0], 16)
        elif p[0][0] == '+': addr += int(p[0][1:])
        elif p[0][0] == '-': addr -= int(p[0][1:])
        if skip:
            skip = False
            continue
        vals = [int(x) for x in p[npos:]]
        for i, v in enumerate(vals): total[events[i]] += v
        i = bisect.bisect_right(starts, addr) - 1
        if i >= 0 and addr < ranges[i][0] + ranges[i][1] and addr - ranges[i][0] in ranges[i][2]:
            for j, v in enumerate(vals): at[events[j]] += v
            if 'DLmr' in events and len(vals) > events.index('DLmr'):
                sites[(ranges[i][3], hex(addr - ranges[i][0]))] += vals[events.index('DLmr')]
print(f'optimized functions matched: {len(ranges)}')
for e in events: print(f'{e}: {total[e]:,} in all, {at[e]:,} at page-flag tests ({100 * at[e] / max(1, total[e]):.1f} %)')
for (fn, off), v in sites.most_common(top): print(f'{v:>10,}  {fn} +{off}')

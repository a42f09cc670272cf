#!/usr/bin/env python3
# bench/cg-cells — a callgrind window's cost at module-Cell loads (an imported binding or a module `let` read
# by optimized code: `movq reg,<Cell>` then a load `[reg+0x7]`, a 16-byte object of its own), per request,
# by the reading function's file and the Cell's value (a module `const` alias of a function or primitive is
# folded into the code instead: session 37's s37-l2, session 38's s38-cells).
#   python3 bench/cg-cells.py callgrind.out /tmp/perf-PID.map ASM [FILE_REGEX] [REQUESTS] [TOP]
# callgrind.out needs --dump-instr=yes; ASM is the full --print-opt-code --code-comments output of the same
# window run natively with the same flags (may be .gz); FILE_REGEX matches the path after dist/src/.
import collections, gzip, os, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cglib import instr_costs, perf_lookup

out, pmap, asm = sys.argv[1:4]
AREA = re.compile(r"/dist/src/(" + (sys.argv[4] if len(sys.argv) > 4 else r".*") + r")\.js:")
REQ = int(sys.argv[5]) if len(sys.argv) > 5 else 2021
TOP = int(sys.argv[6]) if len(sys.argv) > 6 else 40
sites = collections.defaultdict(dict)  # (name, size) -> {offset of the load: cell description}
name = size = None; pending = []
opener = gzip.open if asm.endswith('.gz') else open
insn = re.compile(r'0x[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+(.*)')
for line in opener(asm, 'rt', errors='replace'):
    if line.startswith('name = '): name, size, pending = line[7:].strip(), None, []; continue
    if line.startswith('Instructions (size'): size = int(re.search(r'\d+', line).group()); continue
    m = insn.match(line)
    if not m or name is None or size is None: continue
    off, text = int(m.group(1), 16), m.group(2)
    keep = []
    for (reg, desc, left) in pending:
        if re.search(r'\[' + reg + r'\+0x7\]', text): sites[(name, size)][off] = desc
        elif left > 1: keep.append((reg, desc, left - 1))
    pending = keep
    c = re.search(r'movq (r[0-9a-z]+),0x[0-9a-f]+\s+;; object: 0x[0-9a-f]+ <Cell value= (.*)>\s*$', text)
    if c:
        desc = re.sub(r'0x[0-9a-f]+ ', '', c.group(2)); desc = re.sub(r'\(sfi = [^)]*\)', '', desc).strip()
        pending.append((c.group(1), desc[:70], 3))
look = perf_lookup(pmap)
acc = collections.defaultdict(lambda: [0, 0, 0]); byfile = collections.defaultdict(lambda: [0, 0, 0])
for addr, vals, (iI, iD, iL) in instr_costs(out):
    e = look(addr)
    if e is None or not e[2].startswith('JS:*') or not AREA.search(e[2]): continue
    m = re.match(r'JS:\*(\S*)', e[2]); s = sites.get((m.group(1), e[1]))
    if not s: continue
    d = s.get(addr - e[0])
    if d is None: continue
    f = e[2].split('/dist/src/')[-1].split(':')[0]
    for k, i in enumerate((iI, iD, iL)): acc[(f, m.group(1), d)][k] += vals[i]; byfile[f][k] += vals[i]
print('by file: Cell loads executed / D1 read misses / LL read misses, per request')
t = [0, 0, 0]
for f, a in sorted(byfile.items(), key=lambda x: -x[1][1]):
    print(f'  {f:32s} {a[0]/REQ:7.1f} {a[1]/REQ:6.1f} {a[2]/REQ:5.2f}')
    for k in range(3): t[k] += a[k]
print(f'  {"TOTAL":32s} {t[0]/REQ:7.1f} {t[1]/REQ:6.1f} {t[2]/REQ:5.2f}')
print(f'top {TOP} sites (file, function, cell value): loads / D1 / LL per request')
for (f, fn, d), a in sorted(acc.items(), key=lambda x: -x[1][1])[:TOP]:
    print(f'  {a[0]/REQ:6.1f} {a[1]/REQ:5.1f} {a[2]/REQ:5.2f}  {f} {fn}  {d}')

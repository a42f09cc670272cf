#!/usr/bin/env python3
# bench/cg-fields — a callgrind window's read misses by object field: each missing load [REG+off] of an optimized JS
# function is given to the map REG was last checked against in that function's listing (a `cmpq [REG-0x1],MAP` or a
# map loaded from [REG-0x1] and compared; a linear scan, so a heuristic), named by its instance size (`Map[440]`: a
# Namespace in session 47; two classes of one size share a row), and the field's offset in the object (+0x000: the
# map word, read by the map check itself). `pageflag` rows are the write barriers' page-flag tests, `nomem` misses at
# instructions without a memory operand it can read (a call's return, an element load [a+b*8]), `?` a register whose
# map it did not see checked. Session 47 (s47-ip): which lines of a Namespace a packet reads.
#   python3 bench/cg-fields.py OUT/cg-NAME.out OUT/perf-NAME.map OUT/asm-NAME.txt.gz [FN_REGEX] [TOP] | grep 'Map\[440\]'
# usage: fields.py cg.out perf.map asm.gz [FN_REGEX] [--by ll|d1] [--req N]
import sys, gzip, re, collections
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cglib import instr_costs, perf_lookup
out, pmap, asm = sys.argv[1:4]
fnrx = re.compile(sys.argv[4] if len(sys.argv) > 4 else '.')
REQ = 2021
look = perf_lookup(pmap)
cost = collections.defaultdict(lambda: [0, 0, 0])
for addr, vals, (iI, iD, iL) in instr_costs(out):
    e = look(addr)
    if e is None or not e[2].startswith('JS:*') or not fnrx.search(e[2]): continue
    m = re.match(r'JS:\*(\S*)', e[2])
    c = cost[(m.group(1), e[1], addr - e[0])]; c[0] += vals[iI]; c[1] += vals[iD]; c[2] += vals[iL]
want = collections.defaultdict(dict)
for (n, sz, off), c in cost.items():
    if c[1] or c[2]: want[(n, sz)][off] = c
insn = re.compile(r'0x[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+(?:REX\.W )?(\S+)\s*(.*)')
agg = collections.defaultdict(lambda: [0, 0, collections.Counter()])
name = size = None; body = None; done = set()
def process(name, size, lines):
    mapc = {}; obj = {}; mload = {}; prev_and = set()
    hits = want[(name, size)]
    for off, op, args in lines:
        a = args.split(';;')[0].strip(); comment = args.split(';;')[1] if ';;' in args else ''
        ops = [x.strip() for x in a.split(',')]
        mm = re.search(r'<Map\[(\d+)\]', comment)
        if op == 'movq' and mm and len(ops) == 2: mapc[ops[0]] = 'Map[%s]' % mm.group(1); 
        # map check forms
        if op == 'cmpq' and len(ops) == 2:
            m1 = re.match(r'\[(\w+)-0x1\]', ops[0])
            if m1 and ops[1] in mapc: obj[m1.group(1)] = mapc[ops[1]]
            for x, y in ((ops[0], ops[1]), (ops[1], ops[0])):
                if x in mload and y in mapc: obj[mload[x]] = mapc[y]
        if off in hits:
            c = hits[off]
            mem = re.search(r'\[(\w+)([+-]0x[0-9a-f]+)?\]', a)
            isflag = op == 'testb' and mem and mem.group(2) == '+0x8' and mem.group(1) in prev_and
            if mem and not isflag:
                b = mem.group(1); d = int(mem.group(2) or '0', 16) + 1
                key = (obj.get(b, '?'), d)
            else:
                key = ('pageflag' if isflag else 'nomem', 0)
            s = agg[key]; s[0] += c[2]; s[1] += c[1]; s[2][name.split(' ')[0]] += c[2]
        # register writes
        if ops and op in ('movq', 'movl', 'leaq', 'movsxlq', 'movzxbl', 'movzxwl', 'andq', 'orq', 'addq', 'subq', 'xorl', 'popq', 'pop') and ops[0] and not ops[0].startswith('['):
            r = ops[0]
            if op == 'andq' and len(ops) > 1: prev_and.add(r)
            elif op == 'movq' and len(ops) > 1 and ops[1] == '0xfffc0000': prev_and.add(r)
            elif r in prev_and and op != 'andq': prev_and.discard(r)
            if not (op == 'movq' and mm):
                mapc.pop(r, None)
            obj.pop(r, None)
            m2 = re.match(r'\[(\w+)-0x1\]', ops[1]) if len(ops) > 1 else None
            if op == 'movq' and m2: mload[r] = m2.group(1)
            else: mload.pop(r, None)
opener = gzip.open if asm.endswith('.gz') else open
for line in opener(asm, 'rt', errors='replace'):
    if line.startswith('name = '): name, size, body = line[7:].strip(), None, None; continue
    if line.startswith('Instructions (size'):
        size = int(re.search(r'\d+', line).group())
        if (name, size) in want and (name, size) not in done: body = []; done.add((name, size))
        continue
    if body is not None:
        if line.startswith(('Safepoints', '--- End', 'RelocInfo')):
            process(name, size, body); body = None
        else:
            m = insn.match(line)
            if m: body.append((int(m.group(1), 16), m.group(2), m.group(3)))
tot = sum(v[0] for v in agg.values())
print(f'total LL {tot/REQ:.2f}')
for k, v in sorted(agg.items(), key=lambda x: -x[1][0])[:int(sys.argv[5]) if len(sys.argv) > 5 else 60]:
    print(f'{k[0]:>12} +0x{k[1]:03x}  LL {v[0]/REQ:6.2f}  D1 {v[1]/REQ:7.2f}  ', ', '.join(f'{n} {x/REQ:.2f}' for n, x in v[2].most_common(4)))

# bench/cglib — what the callgrind-window scripts (bench/cg-area.py, cg-cells.py, cg-funcs.py, cg-callers.py,
# cg-instr.py) share: node's perf map (which JS function an address is in), a callgrind output's per-instruction
# costs (--dump-instr=yes) with or without the function's name, its calls, and the write barriers' page-flag tests.
import bisect, collections, re


def perf_lookup(pmap):
    """A function from an address to its perf-map entry (start, size, name, order), or None. Each address goes to
    the most recent entry covering it: the map keeps stale entries of reused code space."""
    ents = []
    for order, l in enumerate(open(pmap)):
        a, sz, nm = l.rstrip('\n').split(' ', 2); ents.append((int(a, 16), int(sz, 16), nm, order))
    ents.sort(); starts = [e[0] for e in ents]

    def look(a):
        i = bisect.bisect_right(starts, a) - 1; best = None
        for j in range(i, max(-1, i - 400), -1):
            e = ents[j]
            if e[0] <= a < e[0] + e[1] and (best is None or e[3] > best[3]): best = e
        return best
    return look


def cost_lines(out):
    """Yields (fn, cfn, calls, address, costs, (iIr, iD1mr, iDLmr)) for each cost line of callgrind output `out`
    (--dump-instr=yes): an instruction's own cost (calls 0) or, right after a `calls=` line, that call's inclusive
    cost (calls > 0, cfn the callee). fn and cfn are callgrind's names (JIT code: its address as `0x…`); costs is
    the line's numbers padded with zeros, indexed by the triple."""
    names = {}; fn = cfn = '?'; npos, addr, ncalls, ix = 1, 0, 0, None
    for line in open(out):
        if line.startswith('positions:'): npos = len(line.split()) - 1
        elif line.startswith('events:'): ev = line.split()[1:]; ix = (ev.index('Ir'), ev.index('D1mr'), ev.index('DLmr'))
        elif line.startswith(('fn=', 'cfn=')):
            m = re.match(r'c?fn=\((\d+)\)(?: (.*))?', line.strip())
            if m.group(2): names[m.group(1)] = m.group(2)
            if line[0] == 'f': fn = names.get(m.group(1), '?')
            else: cfn = names.get(m.group(1), '?')
        elif line.startswith('calls='): ncalls = int(line.split('=')[1].split()[0])
        elif line[:1].isdigit() or line[:1] in '+-*':
            p = line.split()
            if p[0].startswith('0x'): addr = int(p[0], 16)
            elif p[0][0] == '+': addr += int(p[0][1:])
            elif p[0][0] == '-': addr -= int(p[0][1:])
            yield fn, cfn, ncalls, addr, [int(x) for x in p[npos:]] + [0] * 9, ix
            ncalls = 0


def instr_costs(out):
    """Yields (address, costs, (iIr, iD1mr, iDLmr)) for each instruction's own cost line (calls' inclusive costs skipped)."""
    for fn, cfn, calls, addr, vals, ix in cost_lines(out):
        if calls == 0: yield addr, vals, ix


def page_flag_tests(wb):
    """(function name, code size) -> the offsets of its write barriers' page-flag tests, from a listing filtered as
    bench/cg-window.sh writes wb-NAME.txt (`name = `, `Instructions (size`, and the `testb [reg+0x8],flag` lines)."""
    tests = collections.defaultdict(set); name = size = None
    for line in open(wb, errors='replace'):
        if line.startswith('name = '): name, size = line[7:].strip(), None
        elif line.startswith('Instructions (size'): size = int(re.search(r'\d+', line).group())
        else:
            m = re.match(r'0x[0-9a-f]+\s+([0-9a-f]+)\s', line)
            if m and name is not None and size is not None: tests[(name, size)].add(int(m.group(1), 16))
    return tests


def named_costs(out, pmap):
    """Yields (function, entry, address, costs, (iIr, iD1mr, iDLmr)) for each instruction's own cost line, as
    instr_costs, with the function named: an optimized JS function by the perf map (entry: its perf-map entry),
    anything else (V8's C++, builtins, libc) by callgrind's own name (entry None)."""
    look = perf_lookup(pmap)
    for fn, cfn, calls, addr, vals, ix in cost_lines(out):
        if calls: continue
        if not fn.startswith('0x'): yield fn, None, addr, vals, ix
        else:
            e = look(addr)
            yield (short(e[2]) if e else 'JS?'), e, addr, vals, ix


def call_costs(out, pmap, callee):
    """Yields (caller, calls, costs, (iIr, iD1mr, iDLmr)) for each call whose callee's name contains `callee`: the
    calls' inclusive costs, the caller named as in named_costs."""
    look = perf_lookup(pmap)
    for fn, cfn, calls, addr, vals, ix in cost_lines(out):
        if not calls or callee not in cfn: continue
        if not fn.startswith('0x'): yield fn, calls, vals, ix
        else:
            e = look(addr)
            yield (short(e[2]) if e else 'JS?'), calls, vals, ix


def short(perf_name):
    """A perf-map name without the tree's path: `JS:*ipFinishOutput net/ip-output.js:255:24`."""
    return re.sub(r'file:///\S*/dist/(src/)?', '', perf_name)

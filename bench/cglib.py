# bench/cglib — what bench/cg-area.py and bench/cg-cells.py share: node's perf map (which JS function an
# address is in) and a callgrind output's per-instruction costs (--dump-instr=yes).
import bisect


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


def instr_costs(out):
    """Yields (address, costs, (iIr, iD1mr, iDLmr)) for each instruction's own cost line of callgrind output `out`
    (call lines' inclusive costs skipped); costs is the line's numbers padded with zeros, indexed by the triple."""
    npos, addr, skip, ix = 1, 0, False, None
    for line in open(out):
        if line.startswith('positions:'): npos = len(line.split()) - 1
        elif line.startswith('events:'): ev = line.split()[1:]; ix = (ev.index('Ir'), ev.index('D1mr'), ev.index('DLmr'))
        elif line.startswith('calls='): skip = True
        elif line[:1].isdigit() or line[:1] in '+-*':
            p = line.split()
            if p[0].startswith('0x'): addr = int(p[0], 16)
            elif p[0][0] == '+': addr += int(p[0][1:])
            elif p[0][0] == '-': addr -= int(p[0][1:])
            if skip: skip = False; continue
            yield addr, [int(x) for x in p[npos:]] + [0] * 9, ix

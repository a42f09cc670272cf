#!/usr/bin/env python3
# bench/procsum — the "process" sum of a cg-funcs listing (`python3 bench/cg-funcs.py OUT MAP --wb WB --sort ir --top
# 100000 > funcs.txt`): every row but V8's garbage collector and compiler natives, per request (the listing's own units),
# with the LL misses outside page-flag tests (LLo), the page-flag part (LL − LLo of the JS rows) and the JS rows alone.
#   python3 bench/procsum.py funcs.txt [funcs2.txt …]
import re, sys

# V8's collector (heap, scavenger, marking, sweeping, evacuation) and compiler (TurboFan, Maglev, parser) natives.
EXCL = re.compile(r'v8::internal::(Heap|Scavenge|Scavenger|Mark|Minor|Concurrent|Sweep|Evacuat|Page|MemoryChunk|'
                  r'MemoryAllocator|PagedSpace|NewSpace|SemiSpace|LargeObject|GC|Marking|Incremental|Compaction|'
                  r'RememberedSet|SlotSet|TypedSlot|compiler::|maglev::|Pipeline|Compil|Parser|Scanner|Zone|'
                  r'turboshaft::|Turboshaft|wasm::)|GCTracer|^v8::base::|CppHeap|cppgc::')

def load(path):
    lines = open(path).read().splitlines()
    head = lines[0]; tot = {'Ir': 0.0, 'D1': 0.0, 'LL': 0.0, 'LLo': 0.0}; js = dict(tot)
    for l in lines[2:]:
        p = l.split(None, 4)
        if len(p) < 5: continue
        ir, d1, ll, llo, fn = float(p[0]), float(p[1]), float(p[2]), float(p[3]), p[4]
        if EXCL.search(fn): continue
        for k, v in zip(('Ir', 'D1', 'LL', 'LLo'), (ir, d1, ll, llo)): tot[k] += v
        if fn.startswith('JS:'):
            for k, v in zip(('Ir', 'D1', 'LL', 'LLo'), (ir, d1, ll, llo)): js[k] += v
    return head, tot, js

for f in sys.argv[1:]:
    head, t, j = load(f)
    print(f"{f}: process Ir {t['Ir']:,.0f}  D1 {t['D1']:,.1f}  LL {t['LL']:.2f}  LLo {t['LLo']:.2f}  page-flag {t['LL'] - t['LLo']:.2f}"
          f"  | JS Ir {j['Ir']:,.0f}  LLo {j['LLo']:.2f}\n    ({head})")

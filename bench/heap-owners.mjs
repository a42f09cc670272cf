// bench/heap-owners — what a heap snapshot's bytes belong to: each object is charged to its first
// non-container owner (climbing through Arrays, Maps, Sets, plain Objects, contexts and strings), as
// "Owner.property > … > (type)", with bytes and counts, largest first. For big-cluster memory work: take
// snapshots of two sizes (e.g. 100 and 200 nodes) and compare the rows. Needs the snapshot in memory
// (under ~500 MB of JSON: V8's string limit):
//
//   TREE=$PWD SNAP=/tmp/n100.heapsnapshot node --expose-gc --import ./bench/heap-owners.mjs \
//     --max-old-space-size=7000 dist/bench/scale.js --child 100 3000 3 1 1 10   # writes the snapshot when the run starts
//   node --max-old-space-size=12000 bench/heap-owners.mjs /tmp/n100.heapsnapshot [rows]
import { readFileSync } from 'node:fs';

if (process.env.SNAP !== undefined && process.env.TREE !== undefined) {
  // Loaded with --import: write the snapshot after the build (two full GCs first), then exit.
  const v8 = await import('node:v8');
  const { Simulator } = await import(`${process.env.TREE}/dist/src/core/simulator.js`);
  Simulator.prototype.run = function () {
    globalThis.gc();
    globalThis.gc();
    console.error(`heapUsed after build: ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB`);
    v8.writeHeapSnapshot(process.env.SNAP);
    process.exit(0);
  };
} else {
  report(process.argv[2], Number(process.argv[3] ?? 50));
}

function report(file, rows) {
  const s = JSON.parse(readFileSync(file, 'utf8'));
  const m = s.snapshot.meta; const F = m.node_fields.length, E = m.edge_fields.length;
  const ti = m.node_fields.indexOf('type'), ni = m.node_fields.indexOf('name'), si = m.node_fields.indexOf('self_size'), eci = m.node_fields.indexOf('edge_count');
  const etI = m.edge_fields.indexOf('type'), enI = m.edge_fields.indexOf('name_or_index'), toI = m.edge_fields.indexOf('to_node');
  const ntypes = m.node_types[0], etypes = m.edge_types[0];
  const N = s.nodes.length / F;
  const par = new Int32Array(N).fill(-1); const pname = new Array(N);
  let e = 0;
  for (let i = 0; i < N; i++) {
    const a = i * F; const ec = s.nodes[a + eci];
    const ty = ntypes[s.nodes[a+ti]];
    for (let k = 0; k < ec; k++, e += E) {
      const to = s.edges[e + toI] / F;
      const et = etypes[s.edges[e + etI]];
      if (et === 'weak' || par[to] >= 0) continue;
      if (ty === 'synthetic' || ty === 'hidden' && i < 20) continue;
      par[to] = i;
      pname[to] = (et === 'element' || et === 'hidden') ? '[]' : String(s.strings[s.edges[e + enI]] ?? '');
    }
  }
  const nm = (i) => { const a = i*F; const ty = ntypes[s.nodes[a+ti]]; return (ty === 'object' || ty === 'closure') ? s.strings[s.nodes[a+ni]] : '('+ty+')'; };
  const agg = new Map();
  const generic = new Set(["(concatenated string)", "(string)", "(sliced string)", 'Array', 'Map', 'Set', '(array)', 'Object', '(object shape)', '(hidden)', 'system / Context']);
  for (let i = 0; i < N; i++) {
    const sz = s.nodes[i*F+si]; if (sz === 0) continue;
    // climb while the owner is a generic container
    let x = i, path = nm(i), steps = 0;
    while (par[x] >= 0 && steps < (nm(x).includes("string") ? 200 : 4) && generic.has(nm(x))) { path = nm(par[x]) + '.' + pname[x] + ' > ' + path; x = par[x]; steps++; }
    const key = path;
    const v = agg.get(key) ?? [0,0]; v[0] += sz; v[1]++; agg.set(key, v);
  }
  for (const [k, [sz, c]] of [...agg].sort((a, b) => b[1][0] - a[1][0]).slice(0, rows)) console.log((sz / 1e6).toFixed(2).padStart(8), String(c).padStart(9), k.slice(0, 140));
}

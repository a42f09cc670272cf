// bench/ct-mlp — does memory-level parallelism pay for conntrack's reaping on this machine? A native micro-benchmark
// (callgrind counts misses, not their latency, so it cannot see two misses overlap). Session 47 (s47-ct).
//
// A model of the scale workload's conntrack tables: T tables (open addressing, linear probing, slot = (key, index) in
// an Int32Array as ct-hash's TupleMap, at most a quarter used, backward-shift delete), each with a FIFO of its entries'
// two slot keys (ct-list's `exp` keys, in insertion order). Each "new connection" visits a random table, inserts one
// entry (two keys: the ORIGINAL tuple's and the REPLY one's; without NAT they share a home slot, with NAT (`--nat`
// fraction) they do not) and reaps the oldest entries of that table (deleteKey ×2 each), so each table holds a steady
// number of entries and every line the visit reads is cold (the tables together are far larger than the last level).
// Modes, alternated in rounds (CPU ns per connection, the insert's miss in all of them):
//   seq    reap 1 entry a visit, as Conntrack.reap does (read its keys, deleteKey, deleteKey)
//   pre1   reap 1 entry a visit, its two keys' home slots read first into a value that is used, then the deletes
//   batch4 reap 4 entries every fourth visit of a table (same sweep rate), all 8 home slots read first, then the deletes
//   seq4   reap 4 entries every fourth visit, without the first pass (batching alone)
//   lazy   reap 1 entry a visit without reading the table: its keys stay as stale slots until live + stale reach a
//          quarter of the slots, then the table is rebuilt in place (a sequential scan; idea 2 of session 47's brief)
//   ins    no reaping (the table grows; only to show what the insert and the visit cost alone — run last)
//
//   node bench/ct-mlp.mjs [tables=512] [slotsLog2=15] [connections=400000] [rounds=5] [--nat 0.5]
const args = process.argv.slice(2);
const natAt = args.indexOf('--nat');
const NAT = natAt >= 0 ? Number(args[natAt + 1]) : 0.5;
const pos = natAt < 0 ? args : args.filter((_, i) => i !== natAt && i !== natAt + 1);
const T = Number(pos[0] ?? 512);
const SLOG = Number(pos[1] ?? 15);
const N = Number(pos[2] ?? 400000);
const ROUNDS = Number(pos[3] ?? 5);
const S = 1 << SLOG; // slots a table
const MASK = S - 1;
const LIVE = S >> 4; // entries a table (2 keys each: an eighth of the slots, the low end of TupleMap's load; `lazy` fills up to a quarter)
const FIFO = S >> 1; // index space of the FIFO (entries), a power of two (LIVE plus a batch fit)
const KEY_MASK = (1 << 30) - 1;

let seed = 12345;
function rnd() {
  seed ^= seed << 13; // xorshift32 (an LCG's low bits, the home slots, repeat in short periods)
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 3) & 0x0fffffff;
}
const tabs = [];
const keys = []; // per table: FIFO of keys, entry j at 2j, 2j + 1 (j = index & (FIFO - 1))
const heads = new Int32Array(T); // oldest entry's index
const tails = new Int32Array(T); // next index
const visits = new Int32Array(T);
const stale = new Int32Array(T); // `lazy`: slots of reaped entries left in the table
const copies = []; // per table: ct-list's `exp` copies by FIFO index (1 listed, -1 a hole): what a purge tests a slot's index against

function insertKey(tab, full, idx) {
  let i = ((full & KEY_MASK) - 1) & MASK;
  while (tab[2 * i] !== 0) i = (i + 1) & MASK;
  tab[2 * i] = full;
  tab[2 * i + 1] = idx;
}
function deleteKey(tab, full, idx) {
  let i = ((full & KEY_MASK) - 1) & MASK;
  for (; ; i = (i + 1) & MASK) {
    const k = tab[2 * i];
    if (k === 0) return 0;
    if (k === full && tab[2 * i + 1] === idx) break;
  }
  for (let j = (i + 1) & MASK; ; j = (j + 1) & MASK) {
    const k = tab[2 * j];
    if (k === 0) break;
    const home = ((k & KEY_MASK) - 1) & MASK;
    if (((j - home) & MASK) >= ((j - i) & MASK)) {
      tab[2 * i] = k;
      tab[2 * i + 1] = tab[2 * j + 1];
      i = j;
    }
  }
  tab[2 * i] = 0;
  tab[2 * i + 1] = 0;
  return 1;
}
function newEntry(t) {
  const tab = tabs[t];
  const kf = keys[t];
  const idx = tails[t];
  const tag = rnd() + 1;
  const k0 = tag;
  // REPLY: the same home (no NAT: tuple and inverse share a home, another tag bit) or another one (NAT'd).
  const k1 = (rnd() & 0xffff) / 0x10000 < NAT ? (rnd() + 1) | (1 << 30) : (tag | (1 << 29) | (1 << 30));
  insertKey(tab, k0, idx);
  insertKey(tab, k1, idx);
  const j = idx & (FIFO - 1);
  kf[2 * j] = k0;
  kf[2 * j + 1] = k1;
  copies[t][j] = 1;
  tails[t] = idx + 1;
}
let sink = 0;
function reapSeq(t, n) {
  const tab = tabs[t];
  const kf = keys[t];
  for (let m = 0; m < n; m++) {
    const idx = heads[t];
    const j = idx & (FIFO - 1);
    sink += deleteKey(tab, kf[2 * j], idx);
    sink += deleteKey(tab, kf[2 * j + 1], idx);
    copies[t][j] = -1;
    heads[t] = idx + 1;
  }
}
function reapPre(t, n) {
  const tab = tabs[t];
  const kf = keys[t];
  let h = heads[t];
  let acc = 0;
  for (let m = 0; m < n; m++) {
    const j = (h + m) & (FIFO - 1);
    acc += tab[2 * (((kf[2 * j] & KEY_MASK) - 1) & MASK)] + tab[2 * (((kf[2 * j + 1] & KEY_MASK) - 1) & MASK)];
  }
  sink += acc & 1;
  for (let m = 0; m < n; m++) {
    const idx = h + m;
    const j = idx & (FIFO - 1);
    sink += deleteKey(tab, kf[2 * j], idx);
    sink += deleteKey(tab, kf[2 * j + 1], idx);
    copies[t][j] = -1;
  }
  heads[t] = h + n;
}
/** `lazy`: the reaped entry's keys stay in the table (no line of it read); a purge rebuilds it when live + stale slots reach a quarter. */
function reapLazy(t, n) {
  for (let m = 0; m < n; m++) copies[t][(heads[t] + m) & (FIFO - 1)] = -1;
  heads[t] += n;
  stale[t] += 2 * n;
  if ((tails[t] - heads[t]) * 2 + stale[t] >= S >> 2) purge(t);
}
const scratch = new Int32Array(2 * S);
/** Keeps the slots of entries not reaped (their copy at the slot's index not a hole, as conntrack would test `exp`), in place. */
function purge(t) {
  const tab = tabs[t];
  const cp = copies[t];
  let n = 0;
  for (let i = 0; i < tab.length; i += 2) {
    const k = tab[i];
    if (k !== 0 && cp[tab[i + 1] & (FIFO - 1)] >= 0) {
      scratch[n++] = k;
      scratch[n++] = tab[i + 1];
    }
  }
  tab.fill(0);
  for (let j = 0; j < n; j += 2) insertKey(tab, scratch[j], scratch[j + 1]);
  stale[t] = 0;
  sink += n & 1;
}
function setup() {
  for (let t = 0; t < T; t++) {
    tabs.push(new Int32Array(2 * S));
    keys.push(new Int32Array(2 * FIFO));
    copies.push(new Int32Array(FIFO).fill(-1));
    for (let e = 0; e < LIVE; e++) newEntry(t);
  }
}
function run(mode, n) {
  const t0 = process.cpuUsage(); // CPU time, not wall: on a loaded machine the wall clock counts other processes' turns
  for (let c = 0; c < n; c++) {
    const t = rnd() % T;
    newEntry(t);
    const v = visits[t]++;
    if (mode === 0) reapSeq(t, 1);
    else if (mode === 1) reapPre(t, 1);
    else if (mode === 2) { if ((v & 3) === 3) reapPre(t, 4); }
    else if (mode === 3) { if ((v & 3) === 3) reapSeq(t, 4); }
    else if (mode === 5) reapLazy(t, 1);
  }
  const d = process.cpuUsage(t0);
  return ((d.user + d.system) * 1000) / n;
}
/** Brings every table back to LIVE entries (after a batched mode left up to 3 more a table). */
function settle() {
  for (let t = 0; t < T; t++) {
    if (stale[t] > 0) purge(t);
    const extra = tails[t] - heads[t] - LIVE;
    if (extra > 0) reapSeq(t, extra);
    visits[t] = 0;
  }
}
setup();
const names = ['seq', 'pre1', 'batch4', 'seq4', 'ins', 'lazy'];
const MODES = [0, 1, 2, 3, 5];
const res = { seq: [], pre1: [], batch4: [], seq4: [], lazy: [] };
run(0, N >> 2); // warm-up (JIT)
run(2, N >> 2);
settle();
for (let r = 0; r < ROUNDS; r++) {
  const order = r & 1 ? [...MODES].reverse() : MODES;
  for (const m of order) {
    res[names[m]].push(run(m, N));
    settle();
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const tabMiB = (T * 8 * S) / 2 ** 20;
const out = { tables: T, slots: S, tabMiB, nat: NAT, connections: N, rounds: ROUNDS, sink: sink & 1 };
for (const k of Object.keys(res)) out[k] = { medianNs: +med(res[k]).toFixed(1), runs: res[k].map((x) => +x.toFixed(1)) };
const ins = run(4, N >> 1);
out.insOnlyNs = +ins.toFixed(1);
console.log(JSON.stringify(out));

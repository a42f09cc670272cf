// bench/fifo-ring-micro — core/key-fifo after a burst (grown to 131,072 slots), then a trickle of 1-3 events in flight
// with other memory traffic between; run under cachegrind (CACHE_SIM) with two trees to count the ring's misses:
//   valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null node --single-threaded bench/fifo-ring-micro.mjs TREE
const tree = process.argv[2] ?? ".";
const { KeyFifo } = await import(`${tree}/dist/src/core/key-fifo.js`);
const { SimEvent } = await import(`${tree}/dist/src/core/event.js`);
const live = { foreground: 0, cancelled: 0, unwheel() {} };
const evs = Array.from({ length: 4 }, (_, i) => new SimEvent(i, i, () => {}, 0, 0, false, live));
const f = new KeyFifo(64);
for (let i = 0; i < 100000; i++) f.push(evs[i & 3]);
while (f.n > 0) f.pop();
const junk = new Float64Array(1 << 20); // 8 MB walked between events: other state of a big world
let t = 0, s = 0, j = 0;
const t0 = process.hrtime.bigint();
for (let r = 0; r < 4e6; r++) {
  const k = 1 + (r % 3);
  for (let i = 0; i < k; i++) { evs[i].time = ++t; f.push(evs[i]); }
  for (let i = 0; i < k; i++) s += f.pop().seq;
  for (let i = 0; i < 8; i++) { j = (j + 4099) & ((1 << 20) - 1); s += junk[j]; }
}
console.log(tree, Number(process.hrtime.bigint() - t0) / 1e6, 'ms', s > 0);

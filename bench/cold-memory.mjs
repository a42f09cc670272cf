// bench/cold-memory — what touching fresh memory costs on this machine: a new MiB-sized array written one
// byte a page, then again. On a VM whose balloon reports free pages to the host (virtio_balloon REPORTING,
// /sys/module/page_reporting), the first pass faults every page on the host: session 31 saw 4.5–18.8 ms a
// MiB (the second pass 0.01–0.3), which the capture's page cache (224 MB in capture-cost), its ring and any
// run's heap growth pay. Run it next to a measurement to know which kind of memory the machine had.
//
//   node bench/cold-memory.mjs [MiB=224]
const mib = Number(process.argv[2] ?? 224);
const t0 = performance.now();
const b = new Uint8Array(mib * (1 << 20));
for (let i = 0; i < b.length; i += 4096) b[i] = 1;
const t1 = performance.now();
for (let i = 0; i < b.length; i += 4096) b[i] = 2;
const t2 = performance.now();
console.log(JSON.stringify({ mib, firstMs: +(t1 - t0).toFixed(1), firstMsPerMiB: +((t1 - t0) / mib).toFixed(3), secondMs: +(t2 - t1).toFixed(1) }));

// bench/chain — the A — R — B topology of ns-3's S1 and S3 anchors (two 1 Gb/s, 50 µs links, R forwarding),
// shared by bench/run.ts and bench/capture-cost.ts.
import type { Simulator } from '../src/core/simulator.js';
import { Channel, type ChannelConfig } from '../src/link/channel.js';
import { NicDevice } from '../src/link/nic.js';
import { Namespace } from '../src/net/namespace.js';
import { parseIpv4 } from '../src/wire/ipv4-addr.js';

export function ip(text: string): number {
  const v = parseIpv4(text);
  if (v === null) throw new Error(`bad address ${text}`);
  return v;
}

/** A 10.1.1.1 — R (10.1.1.2 | 10.1.2.1) — B 10.1.2.2, with routes both ways through R. */
export function chainABR(sim: Simulator): { a: Namespace; r: Namespace; b: Namespace; ea: NicDevice; ra: NicDevice; rb: NicDevice; eb: NicDevice } {
  const wire: ChannelConfig = { rateBps: 1e9, delayNs: 50_000, queueLimit: 1000 };
  const a = new Namespace(sim, 'a');
  const r = new Namespace(sim, 'r');
  const b = new Namespace(sim, 'b');
  r.ipForwardEnabled = true;
  let mac = 1;
  const nic = (ns: Namespace, name: string): NicDevice => {
    const d = new NicDevice(sim, name, 0x020000000000 + mac++);
    ns.addDevice(d);
    return d;
  };
  const ea = nic(a, 'eth0');
  const ra = nic(r, 'eth0');
  const rb = nic(r, 'eth1');
  const eb = nic(b, 'eth0');
  new Channel(sim, ea, ra, wire);
  new Channel(sim, rb, eb, wire);
  a.addAddress(ea, ip('10.1.1.1'), 24);
  r.addAddress(ra, ip('10.1.1.2'), 24);
  r.addAddress(rb, ip('10.1.2.1'), 24);
  b.addAddress(eb, ip('10.1.2.2'), 24);
  a.addRoute({ dst: ip('10.1.2.0'), prefix: 24, gateway: ip('10.1.1.2'), dev: ea });
  b.addRoute({ dst: ip('10.1.1.0'), prefix: 24, gateway: ip('10.1.2.1'), dev: eb });
  return { a, r, b, ea, ra, rb, eb };
}

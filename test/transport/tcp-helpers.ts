// Helpers for TCP tests: a two-host fake network with TCP on both sides, and segment printers.
import { Simulator } from '../../src/core/simulator.js';
import type { Packet } from '../../src/packet/packet.js';
import { TcpLayer, type TcpConfig } from '../../src/transport/tcp.js';
import { TcpFlag } from '../../src/wire/types.js';
import { FakeNet, type FakeNetOptions } from './fake-net.js';

export function tcpPair(seed = 1, netOpts: FakeNetOptions = {}, cfg: Partial<TcpConfig> = {}) {
  const sim = new Simulator(seed);
  const net = new FakeNet(sim, netOpts);
  const a = net.addHost('client', '10.0.0.1');
  const b = net.addHost('server', '10.0.0.2');
  const ta = new TcpLayer(a, cfg);
  const tb = new TcpLayer(b, cfg);
  return { sim, net, a, b, ta, tb };
}

/** tcpdump-style flags: S, F, R, P, and '.' for ACK. */
export function flagStr(p: Packet): string {
  const f = p.tcp!.flags;
  let s = '';
  if (f & TcpFlag.SYN) s += 'S';
  if (f & TcpFlag.FIN) s += 'F';
  if (f & TcpFlag.RST) s += 'R';
  if (f & TcpFlag.PSH) s += 'P';
  if (f & TcpFlag.ACK) s += '.';
  return s;
}

/** Concatenates byte chunks. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  const n = chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Deterministic test bytes. */
export function pattern(n: number, salt = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + salt + (i >> 8)) & 0xff;
  return b;
}

/** Byte equality without the cost of a deep-equality diff on large arrays. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

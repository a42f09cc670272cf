// Helpers for TCP tests: a two-host fake network with TCP on both sides, and segment printers.
import { Simulator } from '../../src/core/simulator.js';
import { MS } from '../../src/core/time.js';
import type { Packet } from '../../src/packet/packet.js';
import { TcpLayer, type TcpConfig, type TcpSocket } from '../../src/transport/tcp/index.js';
import { TcpFlag } from '../../src/wire/types.js';
import { FakeNet, ip, type FakeNetOptions } from './fake-net.js';

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
/** The states of the connection-table entries on `localPort` (a connection in TIME_WAIT is a TimeWaitSock there). */
export function statesOn(layer: TcpLayer, localPort: number): string[] {
  return layer.sockets().filter((s) => s.localPort === localPort).map((s) => s.state);
}

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

/** One logged segment as tcpdump shows it: relative seq/ack (per direction, from its SYN), window, SACK. */
export interface DumpSeg {
  t: number;
  from: string;
  to: string;
  flags: string;
  /** Relative sequence number of the first byte (SYN = 0, first data byte = 1). */
  seq: number;
  /** seq + payload length (tcpdump's `seq a:b` upper bound). */
  end: number;
  /** Relative acknowledgment number, or -1 when the ACK flag is not set. */
  ack: number;
  win: number;
  len: number;
  /** SACK blocks, relative to the acknowledged direction. */
  sack: [number, number][];
  pkt: Packet;
}

/**
 * The TCP segments of `net.log` as tcpdump would number them: each direction's sequence numbers are
 * relative to the latest SYN it sent (a new SYN with another ISN starts a new numbering, as tcpdump
 * does for a new connection on the same 4-tuple).
 */
export function dump(net: FakeNet): DumpSeg[] {
  const base = new Map<string, number>();
  const names = new Map<number, string>();
  for (const h of net.hosts.values()) names.set(h.addr, h.name);
  const out: DumpSeg[] = [];
  for (const r of net.log) {
    const p = r.pkt;
    const t = p.tcp;
    if (t === null || p.ip === null) continue;
    const fwd = `${p.ip.src}:${t.srcPort}>${p.ip.dst}:${t.dstPort}`;
    const rev = `${p.ip.dst}:${t.dstPort}>${p.ip.src}:${t.srcPort}`;
    if (t.flags & TcpFlag.SYN) base.set(fwd, t.seq);
    const b = base.get(fwd) ?? 0;
    const rb = base.get(rev) ?? 0;
    const rel = (x: number, from: number): number => (x - from) >>> 0;
    const seq = rel(t.seq, b);
    let sack: [number, number][] = [];
    for (const o of t.options) if (o.kind === 'sack') sack = o.blocks.map(([s, e]) => [rel(s, rb), rel(e, rb)]);
    out.push({
      t: r.t,
      from: r.from,
      to: names.get(p.ip.dst) ?? String(p.ip.dst),
      flags: flagStr(p),
      seq,
      end: seq + p.payloadLength,
      ack: t.flags & TcpFlag.ACK ? rel(t.ack, rb) : -1,
      win: t.window,
      len: p.payloadLength,
      sack,
      pkt: p,
    });
  }
  return out;
}

/** tcpdump's one-line summary without the time: `client > server: [P.] seq 1:101 ack 1 win 502 sack {a:b}`. */
export function line(s: DumpSeg): string {
  let x = `${s.from} > ${s.to}: [${s.flags}] seq ${s.len > 0 ? `${s.seq}:${s.end}` : s.seq}`;
  if (s.ack >= 0) x += ` ack ${s.ack}`;
  x += ` win ${s.win}`;
  if (s.sack.length > 0) x += ` sack ${s.sack.map(([a, b]) => `{${a}:${b}}`).join(' ')}`;
  return x;
}

/** The same line prefixed with the time in milliseconds (3 decimals, i.e. µs resolution). */
export function timedLine(s: DumpSeg): string {
  return `${(s.t / 1e6).toFixed(3)} ${line(s)}`;
}

/**
 * A loss function that drops the data segments `from` sends whose relative sequence number is in
 * `seqs`, each only the first time it is sent (retransmissions get through). Relative to the first
 * SYN logged from `from`.
 */
export function dropFirstSend(net: FakeNet, from: string, seqs: number[]): (pkt: Packet) => boolean {
  const pending = new Set(seqs);
  return (pkt) => {
    if (pkt.tcp === null || pkt.payloadLength === 0) return false;
    const syn = net.log.find((r) => r.from === from && r.pkt.tcp !== null && r.pkt.tcp.flags & TcpFlag.SYN);
    if (syn === undefined || pkt.ip!.src !== syn.pkt.ip!.src) return false;
    const rel = (pkt.tcp.seq - syn.pkt.tcp!.seq) >>> 0;
    return pending.delete(rel);
  };
}

/**
 * Client connections to 10.0.0.2:80 opened at the given times (ms); each closes at once, the server answers with
 * its FIN (TIME_WAIT tests: the client's socket owns the record). With `lossy`, every third connection's FIN from
 * `finFrom` loses its first copy; with a function, the first `drops(port)` copies are lost.
 */
export function closers(startsMs: number[], lossy: boolean | ((port: number) => number) = false, finFrom = ip('10.0.0.2')) {
  const p = tcpPair();
  p.tb.listen(80, (s) => (s.onEnd = () => s.close()));
  // The client's last ACKs (pure ACKs from the client after its FIN) reach the server; with `lossy`,
  // every third connection's server FIN is delayed by dropping the first copy (its RTO moves its TIME_WAIT later).
  // With a function: the first `drops(port)` copies of that connection's FIN from `finFrom` are dropped.
  const drops = lossy === true ? (port: number) => (port % 3 === 0 ? 1 : 0) : lossy === false ? () => 0 : lossy;
  const dropped = new Map<number, number>();
  if (lossy !== false)
    p.net.loss = (pkt) => {
      const t = pkt.tcp!;
      if (pkt.ip!.src !== finFrom || !(t.flags & TcpFlag.FIN)) return false;
      const port = finFrom === ip('10.0.0.2') ? t.dstPort : t.srcPort;
      const n = dropped.get(port) ?? 0;
      if (n >= drops(port)) return false;
      dropped.set(port, n + 1);
      return true;
    };
  const socks: TcpSocket[] = [];
  const closedAt = new Map<TcpSocket, number>();
  for (const ms of startsMs)
    p.sim.schedule(ms * MS, () => {
      const c = p.ta.connect(ip('10.0.0.2'), 80, (s) => s.close());
      c.onClose = () => closedAt.set(c, p.sim.now);
      socks.push(c);
    });
  return { ...p, socks, closedAt };
}

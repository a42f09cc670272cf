// capture/epb-records: the records the simulation thread puts in the ring, expanded on the writer thread
// (or at finish() when no thread started), give the same file as serializing every frame on the
// simulation thread (packet/serialize through the synchronous writer) — for random frames of every fast
// kind with odd lengths, real and zero payloads, given and computed checksums, TCP options, netem's
// corrupt bit, field values past their wire width, snaplen cuts, and arrivals copied from departures in
// the same chunk, an earlier chunk, or written out of the expander's buffer already.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fastKind, R_ICMP, R_TCP, R_UDP } from '../../src/capture/epb-records.js';
import { LINK_NONE, LINK_SAVE } from '../../src/capture/frame-memo.js';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { Packet } from '../../src/packet/packet.js';
import type { TcpOption } from '../../src/wire/types.js';
import { arpRequestFrame, fillLengths, icmpPortUnreachableFrame, tcpSynFrame, udpFrame, vxlanFrame } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-epbrec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** xorshift32: the same frames on every run. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

function bytes(r: (n: number) => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = r(256);
  return b;
}

function options(r: (n: number) => number): TcpOption[] {
  const all: TcpOption[] = [
    { kind: 'mss', value: r(65536) },
    { kind: 'nop' },
    { kind: 'wscale', shift: r(15) },
    { kind: 'sackPermitted' },
    { kind: 'timestamps', tsval: r(2 ** 32), tsecr: r(2 ** 32) },
    { kind: 'sack', blocks: [[r(2 ** 32), r(2 ** 32)]] },
    { kind: 'unknown', type: 30 + r(200), data: bytes(r, r(4)) },
    { kind: 'eol' },
  ];
  const out: TcpOption[] = [];
  let room = 40;
  for (let k = r(5); k > 0; k--) {
    const o = all[r(all.length)]!;
    const n = o.kind === 'nop' || o.kind === 'eol' ? 1 : o.kind === 'mss' ? 4 : o.kind === 'wscale' ? 3 : o.kind === 'sackPermitted' ? 2 : o.kind === 'timestamps' ? 10 : o.kind === 'sack' ? 10 : 2 + o.data.length;
    if (n > room) break;
    room -= n;
    out.push(o);
  }
  return out;
}

/** A random frame: mostly the fast kinds, with every field drawn wide; sometimes one serialize must write. */
function randomFrame(r: (n: number) => number): Packet {
  const k = r(20);
  if (k === 0) return arpRequestFrame();
  if (k === 1) return vxlanFrame();
  if (k === 2) return icmpPortUnreachableFrame();
  if (k === 3) {
    const p = udpFrame(53, bytes(r, 1 + r(40)));
    p.ip!.options = bytes(r, 4 * (1 + r(3)));
    return fillLengths(p);
  }
  const p = new Packet();
  p.eth = { dst: r(4) === 0 ? 0xffffffffffff : r(2 ** 24) * 2 ** 24 + r(2 ** 24), src: r(2 ** 24) * 2 ** 24 + r(2 ** 24), etherType: r(8) === 0 ? r(65536) : 0x0800 };
  const kind = k < 10 ? R_UDP : k < 17 ? R_TCP : R_ICMP;
  p.ip = {
    tos: r(8) === 0 ? 256 + r(300) : r(256),
    totalLength: 0,
    id: r(4) === 0 ? -1 : r(65536),
    flags: r(8),
    fragOffset: r(8) === 0 ? r(8192) : 0,
    ttl: r(8) === 0 ? 255 + r(10) : r(256),
    protocol: kind === R_UDP ? 17 : kind === R_TCP ? 6 : 1,
    checksum: r(6) === 0 ? r(65536) : null,
    src: r(2 ** 32),
    dst: r(2 ** 32),
    options: null,
  };
  const payLen = r(3) === 0 ? r(1400) : r(80);
  p.payloadLength = payLen;
  const real = r(2);
  p.payload = real === 0 ? null : bytes(r, r(4) === 0 ? payLen + r(10) : r(4) === 0 ? r(payLen + 1) : payLen);
  const l4sum = r(5) === 0 ? (r(3) === 0 ? 0 : r(65536)) : null;
  if (kind === R_UDP) p.udp = { srcPort: r(65536), dstPort: r(65536), length: 0, checksum: l4sum };
  else if (kind === R_TCP) p.tcp = { srcPort: r(65536), dstPort: r(65536), seq: r(2 ** 32), ack: r(2 ** 32), flags: r(512), window: r(65536), checksum: l4sum, urgent: r(65536), options: options(r) };
  else p.icmp = { type: r(4) === 0 ? r(256) : 8, code: r(3), checksum: l4sum, rest: r(2 ** 32) };
  fillLengths(p);
  if (r(5) === 0) p.ip.totalLength += r(3) - 1; // a length field that disagrees with the structure
  if (kind === R_UDP && r(5) === 0) p.udp!.length = r(70000);
  if (r(6) === 0) p.corruptBit = r((p.ip.totalLength + 4) * 8);
  return p;
}

type Opts = ConstructorParameters<typeof PcapngWriter>[1];

/**
 * Writes `n` random frames to a writer: each leaves interface 0 or 2 (LINK_SAVE) and most arrive at its
 * peer (1 or 3, interface 3 cut at 60 bytes, 2 at 96) a few frames later; some are captured nowhere else.
 */
function writeRandom(file: string, opts: Opts, n: number, seed: number): { bytes: Buffer; hits: number; count: number; reported: number } {
  const r = prng(seed);
  const w = new PcapngWriter(join(dir, file), opts);
  w.addInterface('a/eth0');
  w.addInterface('b/eth0');
  w.addInterface('c/veth0', { snaplen: 96 });
  w.addInterface('d/eth0', { snaplen: 60 });
  const pending: { pkt: Packet; to: number; from: number }[] = [];
  let t = 1_000;
  for (let i = 0; i < n; i++) {
    t += 1 + r(100_000);
    const pkt = randomFrame(r);
    const side = r(2) * 2;
    const mode = r(6);
    if (mode === 0) w.writePacketRecord(side, t, pkt, LINK_NONE);
    else {
      w.writePacketRecord(side, t, pkt, LINK_SAVE);
      if (mode !== 1) pending.push({ pkt, to: side + 1, from: side });
    }
    // Arrivals: usually the oldest waits a little; sometimes many frames later.
    while (pending.length > 0 && (pending.length > 6 || r(3) === 0)) {
      const a = pending.splice(r(4) === 0 ? r(pending.length) : 0, 1)[0]!;
      t += 1 + r(1000);
      w.writePacketRecord(a.to, t, a.pkt, a.from);
    }
  }
  for (const a of pending) w.writePacketRecord(a.to, (t += 7), a.pkt, a.from);
  const reported = w.bytes;
  w.close();
  return { bytes: readFileSync(join(dir, file)), hits: w.memoHits, count: w.packetCount, reported };
}

describe('capture records (capture/epb-records)', () => {
  it('fastKind takes Ethernet + IPv4 without options + UDP/TCP/ICMP echo, and leaves the rest to serialize', () => {
    expect(fastKind(udpFrame())).toBe(R_UDP);
    expect(fastKind(tcpSynFrame())).toBe(R_TCP);
    expect(fastKind(arpRequestFrame())).toBe(0);
    expect(fastKind(vxlanFrame())).toBe(0);
    expect(fastKind(icmpPortUnreachableFrame())).toBe(0);
    const opt = udpFrame();
    opt.ip!.options = new Uint8Array(4);
    expect(fastKind(opt)).toBe(0);
    const raw = udpFrame();
    raw.eth = null;
    expect(fastKind(raw)).toBe(0);
  });

  for (const seed of [1, 2, 3]) {
    it(`random frames (seed ${seed}): the writer thread's file equals serializing on the simulation thread`, () => {
      const want = writeRandom(`sync-${seed}.pcapng`, { sync: true }, 4000, seed);
      expect(want.bytes.length).toBeGreaterThan(400_000);
      expect(want.reported).toBe(want.bytes.length);
      // Small chunks and a small expander buffer: copies from earlier chunks and from bytes already written out.
      const small = writeRandom(`small-${seed}.pcapng`, { slots: 2, slotSize: 8192, outSize: 2048, syncEvery: 65536 }, 4000, seed);
      expect(small.count).toBe(want.count);
      expect(small.reported).toBe(want.bytes.length);
      expect(small.bytes.equals(want.bytes)).toBe(true);
      expect(small.hits).toBeGreaterThan(500);
      const big = writeRandom(`big-${seed}.pcapng`, {}, 4000, seed);
      expect(big.reported).toBe(want.bytes.length);
      expect(big.bytes.equals(want.bytes)).toBe(true);
      expect(big.hits).toBeGreaterThan(small.hits);
    });
  }

  it("an arrival copies every byte of its departure that is not zero: payload bytes present, netem's bit in the zero payload, a cut", () => {
    // The expander's output buffer is zero where nothing was written, and an arrival copies only the
    // departure's bytes that may not be zero: these frames put non-zero bytes at each end of that range.
    const frames = (): Packet[] => {
      const present = udpFrame(53, new Uint8Array([1, 2, 3, 4, 5, 6, 7]), 300); // 7 bytes present, 293 zeros
      const flipped = udpFrame(53, null, 300);
      flipped.corruptBit = (20 + 8 + 290) * 8 + 5; // a bit near the end of the zero payload
      const odd = udpFrame(53, new Uint8Array([9, 9, 9]), 3);
      odd.corruptBit = (20 + 8 + 2) * 8; // in the last byte present
      const tcp = tcpSynFrame();
      tcp.corruptBit = 20 * 8 + 7; // in the TCP header
      return [present, flipped, odd, tcp];
    };
    const write = (file: string, opts: Opts): Buffer => {
      const w = new PcapngWriter(join(dir, file), opts);
      w.addInterface('a/eth0');
      w.addInterface('b/eth0');
      w.addInterface('c/eth0', { snaplen: 60 });
      let t = 0;
      for (let round = 0; round < 300; round++)
        for (const p of frames()) {
          w.writePacketRecord(0, (t += 10), p, LINK_SAVE);
          w.writePacketRecord(round % 2 === 0 ? 1 : 2, (t += 10), p, 0);
        }
      const hits = w.memoHits;
      w.close();
      // Every arrival on b/eth0 is copied (600); on c/eth0, which cuts them, the thread's writer lays
      // them out again (a COPY record has no snaplen), the synchronous one copies their head.
      expect(hits).toBeGreaterThanOrEqual(600);
      return readFileSync(join(dir, file));
    };
    const want = write('nonzero-sync.pcapng', { sync: true });
    expect(write('nonzero-thread.pcapng', { startAt: 4096 }).equals(want)).toBe(true);
    expect(write('nonzero-inline.pcapng', { slotSize: 1 << 20 }).equals(want)).toBe(true);
  });

  it('checksums whose unfolded sum passes 32 bits (a large payload of 0xff bytes) are the serializer\'s', () => {
    // 200,000 bytes of 0xff sum to 100,000 × 0xffff ≈ 6.6e9 before folding: the expander's fold must take
    // a sum past 2^32 as well as the 32-bit integer carries it uses for every ordinary frame.
    const write = (file: string, opts: Opts): Buffer => {
      const w = new PcapngWriter(join(dir, file), opts);
      w.addInterface('a/eth0');
      let t = 0;
      for (const n of [200_000, 131_073, 70_000, 9]) {
        const udp = udpFrame(53, new Uint8Array(n).fill(0xff));
        const tcp = tcpSynFrame();
        tcp.payload = new Uint8Array(n).fill(0xff);
        tcp.payloadLength = n;
        for (const p of [udp, fillLengths(tcp)]) w.writePacketRecord(0, (t += 10), p, LINK_NONE);
      }
      w.close();
      return readFileSync(join(dir, file));
    };
    const want = write('bigsum-sync.pcapng', { sync: true });
    expect(write('bigsum-thread.pcapng', { startAt: 4096 }).equals(want)).toBe(true);
  });

  it('a plain UDP or ICMP departure takes a 64-byte record and its copied arrival 16 bytes; the others the extended record', () => {
    const sizes: number[] = [];
    const w = new PcapngWriter(join(dir, 'sizes.pcapng'), {});
    const s = new PcapngWriter(join(dir, 'sizes-sync.pcapng'), { sync: true });
    for (const x of [w, s]) {
      x.addInterface('a/eth0');
      x.addInterface('b/eth0');
      x.addInterface('c/eth0', { snaplen: 60 });
    }
    const ring = w.asyncSink!;
    const frames = (): [Packet, number][] => {
      const given = udpFrame(53, null, 64);
      given.udp!.checksum = 0x1234;
      const flipped = udpFrame(53, null, 64);
      flipped.corruptBit = 100;
      return [
        [udpFrame(9, null, 64), 64], // S1's frame: zero payload
        [udpFrame(9, new Uint8Array(13).fill(7), 13), 64 + 16], // all payload bytes present
        [udpFrame(9, new Uint8Array([1, 2]), 20), 96 + 8], // fewer bytes present than its length
        [given, 96],
        [flipped, 96],
        [tcpSynFrame(), 96 + 24], // TCP is always extended (+ its 20 option bytes, the record 8-aligned)
      ];
    };
    let t = 0;
    for (const [p, size] of frames()) {
      // (Each writer's departure and arrival in turn: the departure's memo tag on the packet is its writer's.)
      const start = (ring.pos + 7) & ~7; // records start 8-aligned
      w.writePacketRecord(0, (t += 10), p, LINK_SAVE);
      const at = ring.pos;
      w.writePacketRecord(1, (t += 10), p, 0);
      sizes.push(at - start, ring.pos - at, size);
      s.writePacketRecord(0, t - 10, p, LINK_SAVE);
      s.writePacketRecord(1, t, p, 0);
    }
    // An arrival that c/eth0's snaplen cuts is not a COPY record: the frame is written again (extended, cut).
    const cut = udpFrame(9, null, 64);
    w.writePacketRecord(0, (t += 10), cut, LINK_SAVE);
    const at = ring.pos;
    w.writePacketRecord(2, (t += 10), cut, 0);
    expect(ring.pos - at).toBe(96);
    s.writePacketRecord(0, t - 10, cut, LINK_SAVE);
    s.writePacketRecord(2, t, cut, 0);
    for (let i = 0; i < sizes.length; i += 3) {
      expect(sizes[i]).toBe(sizes[i + 2]); // the departure's record
      expect(sizes[i + 1]).toBe(16); // its arrival's COPY record
    }
    w.close();
    s.close();
    expect(readFileSync(join(dir, 'sizes.pcapng')).equals(readFileSync(join(dir, 'sizes-sync.pcapng')))).toBe(true);
  });

  it("consecutive plain UDP datagrams of a flow (the expander's per-interface template: id and IP checksum patched) are the serializer's", () => {
    // Flows interleaved on 4 interfaces; most datagrams differ from the flow's previous one only in the IP id
    // (every value, the checksum's carries with it), some in a field the template must not reuse (TTL, a
    // port, a MAC, the DF flag, the length, the UDP length field past 16 bits, payload bytes present, a given checksum).
    const write = (file: string, opts: Opts): Buffer => {
      const r = prng(77);
      const w = new PcapngWriter(join(dir, file), opts);
      for (const n of ['a/eth0', 'b/eth0', 'c/eth0', 'd/eth0']) w.addInterface(n);
      let t = 0;
      for (let i = 0; i < 6000; i++) {
        const flow = r(6);
        const side = (flow & 1) * 2;
        const p = udpFrame(9 + (flow >> 1), null, 64);
        p.ip!.id = r(3) === 0 ? [0, 0xffff, 0x8000, 0xff, 0x100][r(5)]! : r(65536);
        p.ip!.src += flow;
        const change = r(12);
        if (change === 0) p.ip!.ttl = r(256);
        else if (change === 1) p.udp!.srcPort = r(65536);
        else if (change === 2) p.eth!.dst = r(2 ** 24) * 2 ** 24 + r(2 ** 24);
        else if (change === 3) p.payloadLength = r(300);
        else if (change === 4) p.udp!.length = 65536 + r(100);
        else if (change === 5) {
          p.payload = bytes(r, 8);
          p.payloadLength = 8;
        } else if (change === 6) p.ip!.checksum = r(65536);
        else if (change === 7) p.ip!.flags ^= 2;
        fillLengths(p);
        if (change === 4) p.udp!.length = 65536 + r(100);
        w.writePacketRecord(side, (t += 10), p, LINK_SAVE);
        w.writePacketRecord(side + 1, (t += 10), p, side);
      }
      w.close();
      return readFileSync(join(dir, file));
    };
    const want = write('flows-sync.pcapng', { sync: true });
    expect(write('flows-thread.pcapng', { startAt: 4096 }).equals(want)).toBe(true);
  });

  it('a capture smaller than one chunk is expanded at finish() on the simulation thread, to the same bytes', () => {
    const want = writeRandom('inline-sync.pcapng', { sync: true }, 60, 9);
    const got = writeRandom('inline.pcapng', {}, 60, 9);
    expect(got.hits).toBeGreaterThan(10);
    expect(got.bytes.equals(want.bytes)).toBe(true);
    // The thread started part-way through the first chunk (startAt), which finish() then hands over.
    const early = writeRandom('early.pcapng', { startAt: 2048 }, 60, 9);
    expect(early.bytes.equals(want.bytes)).toBe(true);
  });

  it('the writer thread waits idle for the next chunk and goes on (no lost or stuck thread)', () => {
    const path = join(dir, 'idle.pcapng');
    const w = new PcapngWriter(path, { slots: 2, slotSize: 4096 });
    const s = new PcapngWriter(join(dir, 'idle-sync.pcapng'), { sync: true });
    for (const x of [w, s]) x.addInterface('a/eth0');
    const sleep = new Int32Array(new SharedArrayBuffer(4));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100; i++) {
        const p = udpFrame(1000 + i, null, 100 + i);
        w.writePacketRecord(0, round * 1e6 + i, p);
        s.writePacketRecord(0, round * 1e6 + i, p);
      }
      Atomics.wait(sleep, 0, 0, 200); // the thread runs out of chunks and waits
    }
    w.close();
    s.close();
    expect(readFileSync(path).equals(readFileSync(join(dir, 'idle-sync.pcapng')))).toBe(true);
  });
});

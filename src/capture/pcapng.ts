// capture/pcapng — pcapng and classic pcap writers. Layer: capture (imports core, wire, packet).
// Mirrors the pcapng format (draft-ietf-opsawg-pcapng: SHB, IDB, EPB) and the classic libpcap format
// with the nanosecond magic 0xa1b23c4d. Everything is little-endian.
//
// Section Header Block (SHB)            Interface Description Block (IDB)    Enhanced Packet Block (EPB)
// | off | size | field            |    | off | size | field          |    | off | size | field          |
// |-----|------|------------------|    |-----|------|----------------|    |-----|------|----------------|
// | 0   | 4    | type 0x0A0D0D0A  |    | 0   | 4    | type 1         |    | 0   | 4    | type 6         |
// | 4   | 4    | total length     |    | 4   | 4    | total length   |    | 4   | 4    | total length   |
// | 8   | 4    | magic 0x1A2B3C4D |    | 8   | 2    | link type (1)  |    | 8   | 4    | interface id   |
// | 12  | 2+2  | version 1.0      |    | 10  | 2    | reserved       |    | 12  | 4    | timestamp high |
// | 16  | 8    | section len -1   |    | 12  | 4    | snaplen        |    | 16  | 4    | timestamp low  |
// | 24  | ...  | options          |    | 16  | ...  | options        |    | 20  | 4    | captured length|
// | -4  | 4    | total length     |    | -4  | 4    | total length   |    | 24  | 4    | original length|
//                                                                          | 28  | ...  | data, pad to 4 |
//                                                                          | -4  | 4    | total length   |
// Options: code u16, length u16, value padded to 4; opt_endofopt = 0. IDB options written: if_name (2)
// such as "host1/veth1a2b", if_description (3) when given, if_tsresol (9) = 9 (nanoseconds), so an
// EPB timestamp is simulated time in ns split into high and low 32 bits.
//
// Bytes are appended into a large preallocated chunk (no Buffer per packet) that is flushed to
// `FILE.tmp-<pid>` when full; close() renames it over FILE (capture/atomic), so a file is whole or absent.
// Not modelled: multiple sections, Name Resolution / Interface Statistics blocks, per-packet comments
// or flags (epb_flags direction), FCS.
import type { TimeNs } from '../core/time.js';
import { frameLength } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import { serializeFrame, writeFrame } from '../packet/serialize.js';
import { AsyncChunkSink } from './async-sink.js';
import { AtomicFile } from './atomic.js';

/** Link-layer header types (LINKTYPE_* values from tcpdump.org). */
export const LinkType = { ETHERNET: 1, RAW: 101 } as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

/** Per-interface options. */
export interface CaptureInterfaceOptions {
  /** Bytes kept per packet (default 262144, tcpdump's default). */
  snaplen?: number;
  /** LINKTYPE (default 1, Ethernet). */
  linkType?: LinkType;
  /** Free text stored as if_description (pcapng only). */
  description?: string;
}

/** A capture file writer: interfaces are registered, then packets appended, then close() commits. */
export interface CaptureWriter {
  /** Registers an interface (e.g. "node1/cni0"); returns its id for writePacket. */
  addInterface(name: string, opts?: CaptureInterfaceOptions): number;
  /** Appends one frame captured on interface `ifId` at simulated time `timeNs`; origLength defaults to frame.length. */
  writePacket(ifId: number, timeNs: TimeNs, frame: Uint8Array, origLength?: number): void;
  /** Serializes `pkt` (packet/serialize) straight into the output buffer and appends it. */
  writePacketRecord(ifId: number, timeNs: TimeNs, pkt: Packet): void;
  /** Number of packets written so far. */
  readonly packetCount: number;
  /** Bytes written so far, headers included. */
  readonly bytes: number;
  /** Flushes and atomically renames the file(s) into place. */
  close(): void;
  /** First half of close(): flushes, fsyncs and closes the temporary file(s) (see AtomicFile.finish). */
  finish(): void;
  /** Second half of close(): renames the finished file(s) into place. */
  publish(): void;
  /** Discards the temporary file(s); targets are left untouched. */
  abort(): void;
}

const DEFAULT_SNAPLEN = 262144;
const DEFAULT_CHUNK = 1 << 20;
const TWO32 = 0x1_0000_0000;

/** An append buffer over an AtomicFile: reserve() returns an offset with room, full chunks are flushed. */
class ChunkSink {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  private readonly file: AtomicFile;
  private readonly chunkSize: number;

  constructor(path: string, chunkSize: number) {
    this.file = new AtomicFile(path);
    this.chunkSize = chunkSize;
    this.buf = new Uint8Array(chunkSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for n bytes at this.pos (flushing or growing); returns this.pos. */
  reserve(n: number): number {
    if (this.pos + n <= this.buf.length) return this.pos;
    this.flush();
    if (n > this.buf.length) {
      this.buf = new Uint8Array(Math.max(n, this.chunkSize));
      this.view = new DataView(this.buf.buffer);
    }
    return this.pos;
  }

  flush(): void {
    if (this.pos > 0) this.file.write(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  get bytes(): number {
    return this.file.bytesWritten + this.pos;
  }

  commit(): void {
    this.finish();
    this.file.publish();
  }

  finish(): void {
    this.flush();
    this.file.finish();
  }

  publish(): void {
    this.file.publish();
  }

  abort(): void {
    this.file.abort();
  }
}

const utf8 = new TextEncoder();

function optionSize(valueLength: number): number {
  return 4 + ((valueLength + 3) & ~3);
}

/** Writes one option at off; returns the next offset. */
function writeOption(sink: Sink, off: number, code: number, value: Uint8Array): number {
  const v = sink.view;
  v.setUint16(off, code, true);
  v.setUint16(off + 2, value.length, true);
  sink.buf.set(value, off + 4);
  const padded = (value.length + 3) & ~3;
  sink.buf.fill(0, off + 4 + value.length, off + 4 + padded);
  return off + 4 + padded;
}

/** The append buffer a writer fills: ChunkSink (synchronous writes) or AsyncChunkSink (a writer thread). */
type Sink = Pick<ChunkSink, 'buf' | 'view' | 'pos' | 'reserve' | 'flush' | 'bytes' | 'commit' | 'finish' | 'publish' | 'abort'>;

/** pcapng writer: one file, one section, one IDB per interface. */
export class PcapngWriter implements CaptureWriter {
  readonly path: string;
  private readonly sink: Sink;
  private readonly snaplens: number[] = [];
  private scratch: Uint8Array = new Uint8Array(0);
  private readonly memo = new FrameMemo();
  packetCount = 0;
  /** Frames whose bytes were copied from their capture on the peer instead of serialized again. */
  framesCopied = 0;

  /**
   * Opens `path` (written as path.tmp-<pid> until close()); `application` goes into shb_userappl.
   * Chunks are written by a writer thread through a bounded ring (capture/async-sink) unless `sync` is
   * set or a `chunkSize` is given (then each full chunk is written synchronously, as before).
   */
  constructor(path: string, opts: { chunkSize?: number; application?: string; sync?: boolean; slots?: number; slotSize?: number } = {}) {
    this.path = path;
    const sync = opts.sync === true || opts.chunkSize !== undefined;
    this.sink = sync ? new ChunkSink(path, opts.chunkSize ?? DEFAULT_CHUNK) : new AsyncChunkSink(path, { ...(opts.slots !== undefined ? { slots: opts.slots } : {}), ...(opts.slotSize !== undefined ? { slotSize: opts.slotSize } : {}) });
    this.writeShb(opts.application ?? 'podwire');
  }

  private writeShb(app: string): void {
    const appBytes = utf8.encode(app);
    const len = 28 + optionSize(appBytes.length) + 4;
    const s = this.sink;
    let o = s.reserve(len);
    const v = s.view;
    v.setUint32(o, 0x0a0d0d0a, true);
    v.setUint32(o + 4, len, true);
    v.setUint32(o + 8, 0x1a2b3c4d, true);
    v.setUint16(o + 12, 1, true);
    v.setUint16(o + 14, 0, true);
    // Section length -1: "not specified" (the writer streams).
    v.setUint32(o + 16, 0xffffffff, true);
    v.setUint32(o + 20, 0xffffffff, true);
    o = writeOption(s, o + 24, 4, appBytes); // shb_userappl
    v.setUint32(o, 0, true); // opt_endofopt
    v.setUint32(o + 4, len, true);
    s.pos = o + 8;
  }

  /** Registers an interface: writes its IDB (if_name, if_description, if_tsresol = 9). */
  addInterface(name: string, opts: CaptureInterfaceOptions = {}): number {
    const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    const nameBytes = utf8.encode(name);
    const descBytes = opts.description !== undefined ? utf8.encode(opts.description) : null;
    const len = 16 + optionSize(nameBytes.length) + (descBytes ? optionSize(descBytes.length) : 0) + optionSize(1) + 4 + 4;
    const s = this.sink;
    let o = s.reserve(len);
    const v = s.view;
    v.setUint32(o, 1, true);
    v.setUint32(o + 4, len, true);
    v.setUint16(o + 8, opts.linkType ?? LinkType.ETHERNET, true);
    v.setUint16(o + 10, 0, true);
    v.setUint32(o + 12, snaplen, true);
    o = writeOption(s, o + 16, 2, nameBytes); // if_name
    if (descBytes) o = writeOption(s, o, 3, descBytes); // if_description
    o = writeOption(s, o, 9, TSRESOL_NS); // if_tsresol: 10^-9
    v.setUint32(o, 0, true);
    v.setUint32(o + 4, len, true);
    s.pos = o + 8;
    this.snaplens.push(snaplen);
    return this.snaplens.length - 1;
  }

  /** Reserves an EPB for `captured` bytes and writes its header; returns the data offset. */
  private beginEpb(ifId: number, timeNs: TimeNs, captured: number, original: number): number {
    const padded = (captured + 3) & ~3;
    const len = 32 + padded;
    const s = this.sink;
    const o = s.reserve(len);
    const v = s.view;
    v.setUint32(o, 6, true);
    v.setUint32(o + 4, len, true);
    v.setUint32(o + 8, ifId, true);
    v.setUint32(o + 12, Math.floor(timeNs / TWO32), true);
    v.setUint32(o + 16, timeNs >>> 0, true);
    v.setUint32(o + 20, captured, true);
    v.setUint32(o + 24, original, true);
    for (let i = o + 28 + captured; i < o + 28 + padded; i++) s.buf[i] = 0;
    v.setUint32(o + 28 + padded, len, true);
    s.pos = o + len;
    this.packetCount++;
    return o + 28;
  }

  private snaplenOf(ifId: number): number {
    const snap = this.snaplens[ifId];
    if (snap === undefined) throw new Error(`${this.path}: interface ${ifId} not registered`);
    return snap;
  }

  /** Appends an EPB holding `frame` (truncated to the interface snaplen). */
  writePacket(ifId: number, timeNs: TimeNs, frame: Uint8Array, origLength: number = frame.length): void {
    const snap = this.snaplenOf(ifId);
    const captured = frame.length < snap ? frame.length : snap;
    const at = this.beginEpb(ifId, timeNs, captured, origLength);
    this.sink.buf.set(captured === frame.length ? frame : frame.subarray(0, captured), at);
  }

  /** Serializes `pkt` directly into the EPB (no intermediate buffer unless truncated by snaplen). */
  writePacketRecord(ifId: number, timeNs: TimeNs, pkt: Packet, dir?: 'in' | 'out'): void {
    const snap = this.snaplenOf(ifId);
    const len = frameLength(pkt);
    const captured = len < snap ? len : snap;
    const s = this.sink;
    // A frame arriving ('in') right after it left the peer ('out'), unchanged: copy those bytes.
    if (dir === 'in' && this.memo.size > 0) {
      const e = this.memo.take(pkt);
      if (e !== null && e.gen === s.bytes - s.pos && e.captured === captured && e.len === len && s.buf.length - s.pos >= 32 + ((captured + 3) & ~3) && e.same(pkt)) {
        const from = e.at;
        const at = this.beginEpb(ifId, timeNs, captured, len);
        s.buf.copyWithin(at, from, from + captured);
        this.framesCopied++;
        return;
      }
    }
    let at: number;
    if (len <= snap) {
      at = this.beginEpb(ifId, timeNs, len, len);
      writeFrame(pkt, s.buf, at);
    } else at = this.writeCut(ifId, timeNs, pkt, len, snap);
    if (dir === 'out') this.memo.put(pkt, s.bytes - s.pos, at, captured, len);
  }

  /** Serializes the whole frame into scratch (its checksums cover all of it) and copies its first `snap` bytes. */
  private writeCut(ifId: number, timeNs: TimeNs, pkt: Packet, len: number, snap: number): number {
    if (this.scratch.length < len) this.scratch = new Uint8Array(Math.max(len, 2048));
    const scratch = this.scratch;
    writeFrame(pkt, scratch, 0);
    const at = this.beginEpb(ifId, timeNs, snap, len);
    const buf = this.sink.buf;
    if (snap <= 256) for (let i = 0; i < snap; i++) buf[at + i] = scratch[i]!;
    else buf.set(scratch.subarray(0, snap), at);
    return at;
  }

  get bytes(): number {
    return this.sink.bytes;
  }

  /** Flushes the last chunk and renames the file into place. */
  close(): void {
    this.sink.commit();
  }

  finish(): void {
    this.sink.finish();
  }

  publish(): void {
    this.sink.publish();
  }

  /** Removes the temporary file. */
  abort(): void {
    this.sink.abort();
  }
}

const TSRESOL_NS = new Uint8Array([9]);

/** Path of one interface's file for PcapWriter: "<dir>/<name with unsafe characters as _>.pcap". */
export function pcapFileName(dir: string, ifName: string): string {
  return `${dir}/${ifName.replace(/[^A-Za-z0-9._-]/g, '_')}.pcap`;
}

/** Classic pcap writer (nanosecond magic 0xa1b23c4d): one file per interface, same interface as PcapngWriter. */
export class PcapWriter implements CaptureWriter {
  readonly dir: string;
  private readonly sinks: ChunkSink[] = [];
  private readonly snaplens: number[] = [];
  private readonly chunkSize: number;
  private scratch: Uint8Array = new Uint8Array(0);
  packetCount = 0;
  /** Target path of each interface's file, by interface id. */
  readonly paths: string[] = [];

  /** Files are created in `dir` as pcapFileName(dir, ifName). */
  constructor(dir: string, opts: { chunkSize?: number } = {}) {
    this.dir = dir;
    this.chunkSize = opts.chunkSize ?? 1 << 16;
  }

  /** Opens the interface's file and writes the global header. */
  addInterface(name: string, opts: CaptureInterfaceOptions = {}): number {
    const path = pcapFileName(this.dir, name);
    if (this.paths.includes(path)) throw new Error(`pcap: two interfaces map to ${path}`);
    const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    const s = new ChunkSink(path, this.chunkSize);
    const o = s.reserve(24);
    const v = s.view;
    v.setUint32(o, 0xa1b23c4d, true); // nanosecond-resolution magic
    v.setUint16(o + 4, 2, true);
    v.setUint16(o + 6, 4, true);
    v.setInt32(o + 8, 0, true); // thiszone
    v.setUint32(o + 12, 0, true); // sigfigs
    v.setUint32(o + 16, snaplen, true);
    v.setUint32(o + 20, opts.linkType ?? LinkType.ETHERNET, true);
    s.pos = o + 24;
    this.sinks.push(s);
    this.snaplens.push(snaplen);
    this.paths.push(path);
    return this.sinks.length - 1;
  }

  /** Sink of the record begun last (set by begin, so no object is returned per packet). */
  private cur: ChunkSink | null = null;

  private begin(ifId: number, timeNs: TimeNs, captured: number, original: number): number {
    const s = this.sinks[ifId];
    if (s === undefined) throw new Error(`pcap: interface ${ifId} not registered`);
    const o = s.reserve(16 + captured);
    const v = s.view;
    const sec = Math.floor(timeNs / 1e9);
    v.setUint32(o, sec, true);
    v.setUint32(o + 4, timeNs - sec * 1e9, true);
    v.setUint32(o + 8, captured, true);
    v.setUint32(o + 12, original, true);
    s.pos = o + 16 + captured;
    this.packetCount++;
    this.cur = s;
    return o + 16;
  }

  /** Appends a record holding `frame` (truncated to the interface snaplen). */
  writePacket(ifId: number, timeNs: TimeNs, frame: Uint8Array, origLength: number = frame.length): void {
    const snap = this.snaplens[ifId] ?? DEFAULT_SNAPLEN;
    const captured = frame.length < snap ? frame.length : snap;
    const at = this.begin(ifId, timeNs, captured, origLength);
    this.cur!.buf.set(captured === frame.length ? frame : frame.subarray(0, captured), at);
  }

  /** Serializes `pkt` and appends it. */
  writePacketRecord(ifId: number, timeNs: TimeNs, pkt: Packet): void {
    const len = frameLength(pkt);
    if (this.scratch.length < len) this.scratch = new Uint8Array(Math.max(len, 2048));
    this.writePacket(ifId, timeNs, serializeFrame(pkt, this.scratch), len);
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.sinks) n += s.bytes;
    return n;
  }

  /** Commits every interface file. */
  close(): void {
    for (const s of this.sinks) s.commit();
  }

  finish(): void {
    for (const s of this.sinks) s.finish();
  }

  publish(): void {
    for (const s of this.sinks) s.publish();
  }

  /** Removes every temporary file. */
  abort(): void {
    for (const s of this.sinks) s.abort();
  }
}

/**
 * The frames captured leaving a device ('out') whose bytes may serve the capture of the same Packet
 * arriving at the peer ('in'): a bounded ring of entries, each with where the bytes are (chunk
 * generation = bytes flushed before it, offset) and a snapshot of every field serialize reads, so a
 * Packet changed in between (forwarding's TTL and MACs, NAT, a rewritten option) is serialized again.
 * An entry is used once ('in' takes it) and a newer 'out' of the same Packet replaces it.
 */
class FrameMemo {
  private readonly map = new Map<Packet, MemoEntry>();
  private readonly ring: MemoEntry[] = [];
  private next = 0;
  private static readonly SIZE = 1024;

  get size(): number {
    return this.map.size;
  }

  put(pkt: Packet, gen: number, at: number, captured: number, len: number): void {
    let e = this.map.get(pkt);
    if (e === undefined) {
      e = this.ring[this.next];
      if (e === undefined) {
        e = new MemoEntry();
        this.ring.push(e);
      } else if (e.pkt !== null && this.map.get(e.pkt) === e) this.map.delete(e.pkt);
      this.next = (this.next + 1) % FrameMemo.SIZE;
      this.map.set(pkt, e);
    }
    e.fill(pkt, gen, at, captured, len);
  }

  take(pkt: Packet): MemoEntry | null {
    const e = this.map.get(pkt);
    if (e === undefined) return null;
    this.map.delete(pkt);
    e.pkt = null;
    return e;
  }
}

/** One remembered frame: its place in the chunk and the packet's fields as they were serialized. */
class MemoEntry {
  pkt: Packet | null = null;
  gen = 0;
  at = 0;
  captured = 0;
  len = 0;
  private eth: object | null = null;
  private ethSrc = 0;
  private ethDst = 0;
  private ethType = 0;
  private ip: object | null = null;
  private ipA = 0;
  private ipB = 0;
  private ipC = 0;
  private ipSrc = 0;
  private ipDst = 0;
  private ipSum = 0;
  private ipOpts: object | null = null;
  private l4: object | null = null;
  private l4A = 0;
  private l4B = 0;
  private l4C = 0;
  private l4D = 0;
  private l4Sum = 0;
  private l4Opts: object | null = null;
  private l4OptsLen = 0;
  private arp: object | null = null;
  private arpA = 0;
  private arpB = 0;
  private arpSha = 0;
  private arpTha = 0;
  private refs: (object | null)[] = [null, null, null, null, null];
  private payloadLength = 0;
  private corruptBit = -1;

  fill(pkt: Packet, gen: number, at: number, captured: number, len: number): void {
    this.pkt = pkt;
    this.gen = gen;
    this.at = at;
    this.captured = captured;
    this.len = len;
    const eth = pkt.eth;
    this.eth = eth;
    if (eth !== null) {
      this.ethSrc = eth.src;
      this.ethDst = eth.dst;
      this.ethType = eth.etherType;
    }
    const ip = pkt.ip;
    this.ip = ip;
    if (ip !== null) {
      this.ipA = ip.tos * 65536 + ip.totalLength;
      this.ipB = ip.id * 65536 + ip.flags * 8192 + ip.fragOffset;
      this.ipC = ip.ttl * 256 + ip.protocol;
      this.ipSrc = ip.src;
      this.ipDst = ip.dst;
      this.ipSum = ip.checksum ?? -1;
      this.ipOpts = ip.options;
    }
    const l4 = pkt.udp ?? pkt.tcp ?? pkt.icmp;
    this.l4 = l4;
    if (pkt.udp !== null) {
      const u = pkt.udp;
      this.l4A = u.srcPort * 65536 + u.dstPort;
      this.l4B = u.length;
      this.l4Sum = u.checksum ?? -1;
    } else if (pkt.tcp !== null) {
      const t = pkt.tcp;
      this.l4A = t.srcPort * 65536 + t.dstPort;
      this.l4B = t.seq;
      this.l4C = t.ack;
      this.l4D = t.flags * 4294967296 + t.window * 65536 + t.urgent;
      this.l4Sum = t.checksum ?? -1;
      this.l4Opts = t.options;
      this.l4OptsLen = t.options.length;
    } else if (pkt.icmp !== null) {
      const c = pkt.icmp;
      this.l4A = c.type * 256 + c.code;
      this.l4B = c.rest;
      this.l4Sum = c.checksum ?? -1;
    }
    const arp = pkt.arp;
    this.arp = arp;
    if (arp !== null) {
      this.arpA = arp.op * 4294967296 + arp.spa;
      this.arpB = arp.tpa;
      this.arpSha = arp.sha;
      this.arpTha = arp.tha;
    }
    const r = this.refs;
    r[0] = pkt.vxlan;
    r[1] = pkt.inner;
    r[2] = pkt.payload;
    r[3] = pkt.fragOf;
    r[4] = pkt.tcp;
    this.payloadLength = pkt.payloadLength;
    this.corruptBit = pkt.corruptBit;
  }

  /** Would serialize write the same bytes for `pkt` now as when this entry was filled? */
  same(pkt: Packet): boolean {
    // A Packet with an inner frame (VXLAN) or an ICMP quote, a fragment or TCP options: serialized again
    // (their nested records are not snapshotted; the common case, a plain frame, is).
    if (pkt.inner !== null || pkt.fragOf !== null || (pkt.tcp !== null && pkt.tcp.options.length > 0)) return false;
    const eth = pkt.eth;
    if (eth !== this.eth || (eth !== null && (eth.src !== this.ethSrc || eth.dst !== this.ethDst || eth.etherType !== this.ethType))) return false;
    const ip = pkt.ip;
    if (ip !== this.ip) return false;
    if (
      ip !== null &&
      (ip.tos * 65536 + ip.totalLength !== this.ipA ||
        ip.id * 65536 + ip.flags * 8192 + ip.fragOffset !== this.ipB ||
        ip.ttl * 256 + ip.protocol !== this.ipC ||
        ip.src !== this.ipSrc ||
        ip.dst !== this.ipDst ||
        (ip.checksum ?? -1) !== this.ipSum ||
        ip.options !== this.ipOpts)
    )
      return false;
    if ((pkt.udp ?? pkt.tcp ?? pkt.icmp) !== this.l4) return false;
    if (pkt.udp !== null) {
      const u = pkt.udp;
      if (u.srcPort * 65536 + u.dstPort !== this.l4A || u.length !== this.l4B || (u.checksum ?? -1) !== this.l4Sum) return false;
    } else if (pkt.tcp !== null) {
      const t = pkt.tcp;
      if (
        t.srcPort * 65536 + t.dstPort !== this.l4A ||
        t.seq !== this.l4B ||
        t.ack !== this.l4C ||
        t.flags * 4294967296 + t.window * 65536 + t.urgent !== this.l4D ||
        (t.checksum ?? -1) !== this.l4Sum ||
        t.options !== this.l4Opts ||
        t.options.length !== this.l4OptsLen
      )
        return false;
    } else if (pkt.icmp !== null) {
      const c = pkt.icmp;
      if (c.type * 256 + c.code !== this.l4A || c.rest !== this.l4B || (c.checksum ?? -1) !== this.l4Sum) return false;
    }
    const arp = pkt.arp;
    if (arp !== this.arp || (arp !== null && (arp.op * 4294967296 + arp.spa !== this.arpA || arp.tpa !== this.arpB || arp.sha !== this.arpSha || arp.tha !== this.arpTha))) return false;
    const r = this.refs;
    return r[0] === pkt.vxlan && r[1] === pkt.inner && r[2] === pkt.payload && r[3] === pkt.fragOf && r[4] === pkt.tcp && pkt.payloadLength === this.payloadLength && pkt.corruptBit === this.corruptBit;
  }
}

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
import type { FrameHook } from '../core/trace.js';
import { frameLength } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import { serializeFrame, writeFrame } from '../packet/serialize.js';
import { AsyncChunkSink } from './async-sink.js';
import { AtomicFile } from './atomic.js';
import { COPY_BYTES, fastKind, R_TCP, setRecordTime, writeCopyRecord, writeFastRecord } from './epb-records.js';
import { FrameMemo, LINK_NONE, LINK_SAVE } from './frame-memo.js';
import { RingPoint, WriterPoint, type CaptureGate, type Clock } from './point.js';

export { CaptureGate, type Clock } from './point.js';

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
  /**
   * Serializes `pkt` (packet/serialize) straight into the output buffer and appends it. `link`
   * (capture/frame-memo): LINK_SAVE for a departure whose wire peer this writer captures too; for an
   * arrival, the interface id of its wire peer (the frame's departure capture is copied, not
   * serialized again); LINK_NONE (default) otherwise.
   */
  writePacketRecord(ifId: number, timeNs: TimeNs, pkt: Packet, link?: number): void;
  /**
   * The capture point of interface `ifId`, to hang on its device (`NetDevice.capture`, link/device.ts):
   * the device calls it for each frame leaving and arriving, written at `clock.now`. `peer`: the interface id
   * in this writer of the device's wire peer (scenario/run.ts `wirePeer`), LINK_NONE when it is not captured
   * (see writePacketRecord's `link`); `gate`: the capture filter and byte limit, shared by the points.
   */
  point(ifId: number, clock: Clock, peer?: number, gate?: CaptureGate | null): FrameHook<Packet>;
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
  /** The writer-thread sink, whose ring takes records (capture/epb-records); null with synchronous writes. */
  private readonly rec: AsyncChunkSink | null;
  private readonly snaplens: number[] = [];
  private scratch: Uint8Array = new Uint8Array(0);
  private readonly memo = new FrameMemo();
  private readonly ifNames: string[] = [];
  /** writePacketRecord's time as a Clock, for the ring's writers (see ringOut). */
  private readonly tapClock = { now: 0 };
  /** Packets written but by RingPoints' one-call paths (they count their own: a field of the point, not two objects' loads per frame). */
  private count = 0;
  private readonly ringPoints: RingPoint[] = [];
  /** By interface: the capture point whose arrivals copy its departures (null: two do; see point()). */
  private readonly copier: (RingPoint | null | undefined)[] = [];

  /**
   * Opens `path` (written as path.tmp-<pid> until close()); `application` goes into shb_userappl.
   * Chunks are written by a writer thread through a bounded ring (capture/async-sink) unless `sync` is
   * set or a `chunkSize` is given (then each full chunk is written synchronously, as before). `slots`,
   * `slotSize`, `syncEvery`, `maxSyncs`, `outSize`, `startAt`, `startChunk`, `primeChunks`: the ring's and the writer thread's sizes; `writerNice`:
   * how far the writer thread lowers its priority (see AsyncChunkSink).
   */
  constructor(path: string, opts: { chunkSize?: number; application?: string; sync?: boolean; slots?: number; slotSize?: number; syncEvery?: number; maxSyncs?: number; outSize?: number; startAt?: number; startChunk?: number; primeChunks?: number; writerNice?: number } = {}) {
    this.path = path;
    const sync = opts.sync === true || opts.chunkSize !== undefined;
    this.rec = sync
      ? null
      : new AsyncChunkSink(path, {
          ...(opts.slots !== undefined ? { slots: opts.slots } : {}),
          ...(opts.slotSize !== undefined ? { slotSize: opts.slotSize } : {}),
          ...(opts.syncEvery !== undefined ? { syncEvery: opts.syncEvery } : {}),
          ...(opts.maxSyncs !== undefined ? { maxSyncs: opts.maxSyncs } : {}),
          ...(opts.outSize !== undefined ? { outSize: opts.outSize } : {}),
          ...(opts.startAt !== undefined ? { startAt: opts.startAt } : {}),
          ...(opts.startChunk !== undefined ? { startChunk: opts.startChunk } : {}),
          ...(opts.primeChunks !== undefined ? { primeChunks: opts.primeChunks } : {}),
          ...(opts.writerNice !== undefined ? { writerNice: opts.writerNice } : {}),
        });
    this.sink = this.rec ?? new ChunkSink(path, opts.chunkSize ?? DEFAULT_CHUNK);
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
    this.ifNames.push(name);
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
    this.count++;
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

  /**
   * Appends `pkt`'s frame; `link`: see CaptureWriter. With the writer thread, a frame the fast records
   * describe goes into the ring as one (its bytes are made on that thread) and an arrival whose departure
   * is in the current chunk as a COPY record; any other frame is serialized here into the EPB.
   */
  writePacketRecord(ifId: number, timeNs: TimeNs, pkt: Packet, link: number = LINK_NONE): void {
    const snap = this.snaplenOf(ifId);
    const r = this.rec;
    if (r !== null) {
      this.writeToRing(r, ifId, timeNs, pkt, link, snap);
      return;
    }
    const len = frameLength(pkt);
    const memo = this.memo;
    const kept = link >= 0 ? memo.take(pkt, link, len) : -1;
    const captured = len <= snap ? len : snap;
    const at = this.beginEpb(ifId, timeNs, captured, len);
    const s = this.sink;
    const buf = s.buf;
    // The departure's EPB is still in this chunk when its absolute position is past the chunk's start.
    const chunkStart = kept >= 0 ? s.bytes - s.pos : 0;
    if (kept >= chunkStart && kept >= 0) {
      const p = kept - chunkStart;
      memo.hit(pkt, buf, p, len, this.ifNames[ifId]!);
      buf.copyWithin(at, p, p + captured);
      return;
    }
    if (len <= snap) {
      writeFrame(pkt, buf, at);
      if (link === LINK_SAVE) memo.mark(pkt, ifId, s.bytes - s.pos + at, len);
      return;
    }
    this.writeCut(pkt, buf, at, len, snap);
  }

  point(ifId: number, clock: Clock, peer: number = LINK_NONE, gate: CaptureGate | null = null): FrameHook<Packet> {
    const snap = this.snaplenOf(ifId);
    if (peer >= 0) this.snaplenOf(peer);
    if (this.rec === null) return new WriterPoint(this, clock, ifId, peer, gate);
    const p = new RingPoint(this, this.rec, clock, ifId, peer, gate, this.memo, snap);
    // Two points on one interface: neither writes DREPEATs (the writer thread's REPEAT time base is by interface).
    for (const q of this.ringPoints) if (q.ifId === ifId) (q.shareInterface(), p.shareInterface());
    this.ringPoints.push(p);
    // The point copying `peer`'s departures (its SCOPYs' base: ringCopy); with two, neither writes SCOPYs.
    if (peer >= 0) this.copier[peer] = this.copier[peer] === undefined ? p : (this.copier[peer]?.based(-1, NaN), null);
    return p;
  }

  /**
   * writePacketRecord with the writer thread. Memo positions (capture/frame-memo) are in 4-byte words of
   * the stream of chunks: 2 × word + 1 for a fast record, + 0 for frame bytes serialized here.
   */
  private writeToRing(r: AsyncChunkSink, ifId: number, timeNs: TimeNs, pkt: Packet, link: number, snap: number): void {
    const clock = this.tapClock;
    clock.now = timeNs;
    if (link >= 0) this.ringArrive(r, ifId, clock, pkt, snap, this.memo.tag(link), link);
    else this.ringOut(r, ifId, clock, pkt, snap, link === LINK_SAVE ? this.memo.tag(ifId) : 0);
  }

  /**
   * An arrival into the ring: a COPY record when it carries `peerTag` (its departure on the wire peer
   * was marked, capture/frame-memo) and that departure can be copied, else the frame itself.
   */
  ringArrive(r: AsyncChunkSink, ifId: number, clock: Clock, pkt: Packet, snap: number, peerTag: number, peer: number): void {
    if (pkt.capTag === peerTag) {
      pkt.capTag = 0;
      if (this.ringCopy(r, ifId, clock, pkt, snap, peer)) return;
    }
    this.ringOut(r, ifId, clock, pkt, snap, 0);
  }

  /**
   * An arrival whose departure on the wire peer left its memo entry on `pkt` (taken already): a COPY record
   * when that departure is in the current chunk and the record fits there; false otherwise (the caller
   * writes the frame). The copying point of `peer`'s departures (`copier`) takes its time as its SCOPYs' base
   * if the COPY is its own, else has none until its next one: the writer thread's base for `peer` is this COPY.
   */
  private ringCopy(r: AsyncChunkSink, ifId: number, clock: Clock, pkt: Packet, snap: number, peer: number): boolean {
    const kept = pkt.capAt;
    const src = (kept - (kept & 1)) * 2 - r.chunkStart;
    const len = pkt.capLen;
    // A COPY record's frame is not cut (it has no snaplen): an arrival this interface cuts is written whole.
    if (src < 0 || len > snap || r.recordHere(COPY_BYTES) < 0) return false;
    const memo = this.memo;
    if (memo.verifying) {
      if ((kept & 1) === 0) memo.hit(pkt, r.buf, src, len, this.ifNames[ifId]!);
      else memo.hitRemembered(pkt, len, this.ifNames[ifId]!);
    } else memo.hits++;
    writeCopyRecord(r, ifId, clock.now, src, (kept & 1) === 0, len);
    this.copier[peer]?.based(ifId, clock.now);
    this.count++;
    return true;
  }

  /**
   * A frame into the ring: a fast record, or serialized here (VERBATIM). `tag` ≠ 0: mark it for the peer's
   * arrival. The time comes as the clock and goes into the record here, not as an argument of
   * writeFastRecord (which V8 does not inline): a simulated time past 2^30 ns is a heap number, and a
   * double passed to a call not inlined is boxed anew each time (16 bytes per departure, session 22).
   */
  ringOut(r: AsyncChunkSink, ifId: number, clock: Clock, pkt: Packet, snap: number, tag: number): void {
    const kind = fastKind(pkt);
    // frameLength, short for the kinds whose length is 14 + 20 + 8 + payload.
    const len = kind !== 0 && kind !== R_TCP ? 42 + pkt.payloadLength : frameLength(pkt);
    if (kind !== 0) {
      const o = writeFastRecord(r, kind, ifId, pkt, snap, len);
      if (o >= 0) {
        setRecordTime(r, o, clock.now);
        this.count++;
        if (tag !== 0) this.markRecord(r, pkt, o, tag, len);
        return;
      }
    }
    // A departure not marked below clears an earlier mark: its peer's arrival (RingPoint.arrived) does not clear what it copies.
    if (tag !== 0) pkt.capTag = 0;
    const at = this.beginEpb(ifId, clock.now, len <= snap ? len : snap, len);
    if (len > snap) {
      this.writeCut(pkt, r.buf, at, len, snap);
      return;
    }
    writeFrame(pkt, r.buf, at);
    // EPB data starts 4-aligned (every pcapng block is a multiple of 4 bytes).
    if (tag !== 0 && (at & 3) === 0) {
      pkt.capTag = tag;
      pkt.capAt = (r.chunkStart + at) / 2;
      pkt.capLen = len;
    }
  }

  /** Marks a departure written as the fast record at `o` for its peer's arrival (capture/frame-memo: memo position 2 × word + 1). */
  markRecord(r: AsyncChunkSink, pkt: Packet, o: number, tag: number, len: number): void {
    pkt.capTag = tag;
    pkt.capAt = (r.chunkStart + o) / 2 + 1;
    pkt.capLen = len;
    if (this.memo.verifying) this.memo.remember(pkt);
  }

  /** Cut by snaplen: the whole frame is serialized (its checksums cover all of it), its head copied to buf[at]. */
  private writeCut(pkt: Packet, buf: Uint8Array, at: number, len: number, snap: number): void {
    if (this.scratch.length < len) this.scratch = new Uint8Array(Math.max(len, 2048));
    const scratch = this.scratch;
    writeFrame(pkt, scratch, 0);
    if (snap <= 256) for (let i = 0; i < snap; i++) buf[at + i] = scratch[i]!;
    else buf.set(scratch.subarray(0, snap), at);
  }

  /** Frames serialized once for both ends of a wire (capture/frame-memo). */
  get memoHits(): number {
    let n = this.memo.hits;
    for (const p of this.ringPoints) n += p.copies;
    return n;
  }

  /** EPBs written (capture points' included). */
  get packetCount(): number {
    let n = this.count;
    for (const p of this.ringPoints) n += p.sent + p.copies;
    return n;
  }

  /** The writer thread's sink (null with synchronous writes): its stall and thread figures, for benchmarks. */
  get asyncSink(): AsyncChunkSink | null {
    return this.rec;
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
  private readonly memo = new FrameMemo();
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

  /** Serializes `pkt` and appends it; `link`: see CaptureWriter. */
  writePacketRecord(ifId: number, timeNs: TimeNs, pkt: Packet, link: number = LINK_NONE): void {
    const len = frameLength(pkt);
    const memo = this.memo;
    const p = link >= 0 ? memo.ringOffset(memo.take(pkt, link, len)) : -1;
    if (p >= 0) {
      const ring = memo.bytes;
      memo.hit(pkt, ring, p, len, this.paths[ifId] ?? String(ifId));
      this.writePacket(ifId, timeNs, ring.subarray(p, p + len), len);
      return;
    }
    if (this.scratch.length < len) this.scratch = new Uint8Array(Math.max(len, 2048));
    const frame = serializeFrame(pkt, this.scratch);
    if (link === LINK_SAVE) memo.save(pkt, ifId, frame, 0, len);
    this.writePacket(ifId, timeNs, frame, len);
  }

  point(ifId: number, clock: Clock, peer: number = LINK_NONE, gate: CaptureGate | null = null): FrameHook<Packet> {
    return new WriterPoint(this, clock, ifId, peer, gate);
  }

  /** Frames serialized once for both ends of a wire (capture/frame-memo). */
  get memoHits(): number {
    return this.memo.hits;
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

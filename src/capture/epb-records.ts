// capture/epb-records — what the simulation thread puts in the capture ring instead of finished EPBs,
// and its writers; the expander that turns it into pcapng bytes on the writer thread is capture/record-expander. Layer: capture (imports wire,
// packet). The simulation thread only copies a frame's header fields into a fixed record (a few dozen
// typed-array stores); the writer thread (capture/async-sink) lays out the Ethernet/IPv4/UDP|TCP|ICMP
// headers, sums the checksums, zero-fills the payload, cuts at snaplen and writes the EPB header,
// padding and trailer. The bytes are those packet/serialize's writeFrame writes for the same records
// (test/capture/epb-records.test.ts compares the two over many packets; the golden hashes hold).
//
// A chunk of the ring is a sequence of records, each starting on an 8-byte boundary:
//
// | type        | words (int32)                                                                  |
// |-------------|--------------------------------------------------------------------------------|
// | VERBATIM 1  | 0 type, 1 byte length n, then n bytes copied as they are (SHB, IDB, any EPB    |
// |             | written whole by the simulation thread: ARP, VXLAN, fragments, IP options…)     |
// | UDP 2 / TCP 3 / ICMP 4 | word 0: type, flags and payloadLength; the frame's fields, packed: short |
// |             | (64 bytes: UDP/ICMP not cut, no given checksum, no netem bit, all payload bytes |
// |             | present or none) or extended (96 bytes: X_* fields too); then the TCP options   |
// |             | (already encoded, padded to 4) and the payload bytes present (F_*/X_* in K)     |
// | COPY 5 /    | 16 bytes: an arrival whose departure is in the same chunk (capture/frame-memo), |
// | COPY_RAW 6  | as a fast record (5) or as frame bytes serialized into the chunk (6); word 0:  |
// |             | type | source offset << 4; interface; time                                      |
// | REPEAT 7    | 16 bytes: a capture point's plain UDP departure equal to its previous full      |
// |             | record (earlier in this chunk) but for the IP id; word 0: type | distance back   |
// |             | to that record << 4; the id; time                                               |
// | SCOPY 8     | 8 bytes: a COPY (5 / 6) without interface and time: word 0 type | (source offset |
// |             | + 2 for a fast record) << 4; word 1 the time − the time of the last COPY 5/6    |
// |             | whose source left the same interface, whose interface it takes (int32 ns)      |
// | DREPEAT 9   | 8 bytes: a REPEAT (7) whose time is within 2^16 ns after its point's previous   |
// |             | REPEAT's (7 or 9): word 0 as REPEAT's; word 1 the id | that difference << 16    |
//
// Only frames the fast records describe exactly take them (`fastKind`): Ethernet + IPv4 without
// options + UDP, TCP (≤ 40 option bytes) or ICMP without a quoted datagram, no VXLAN, not a fragment.
// netem's corrupt bit is flipped after the checksums, as writeIp does. Every other frame is serialized by
// the simulation thread into a VERBATIM record (packet/serialize), as before.
//
// The expander (`RecordExpander`, capture/record-expander.ts) is written without references outside its own body: the writer thread
// runs its source text (Function.prototype.toString of the class, with the layout's values substituted
// for its `L.X` reads, see async-sink.ts), and a capture too small to start the thread runs it on the
// simulation thread at finish().
import type { Packet } from '../packet/packet.js';
import { encodeTcpOptions, tcpHeaderLength } from '../wire/tcp.js';
import type { AsyncChunkSink } from './async-sink.js';

// Record types (word 0's low 4 bits) and field offsets. The simulation thread's writers below use the
// const enum, which tsc inlines as literals (an exported module constant is a load and a check at every
// use: ~20 % of the writer's time); the writer thread's expander gets them substituted into its source
// text (capture/async-sink, from LAYOUT). Exported for capture/point's departure fast path (tsc inlines it there too).
export const enum K {
  // Record types.
  R_VERBATIM = 1,
  R_UDP = 2,
  R_TCP = 3,
  R_ICMP = 4,
  R_COPY = 5,
  R_COPY_RAW = 6,
  R_REPEAT = 7,
  R_SCOPY = 8,
  R_DREPEAT = 9,
  T_MASK = 15,
  // Fast records, word 0: type | B_BYTES | B_EXT | payloadLength << PAYLEN_SHIFT.
  B_BYTES = 16, // short record: its payload bytes are all present (payloadLength of them); else none
  B_EXT = 32, // extended record: words X_* follow the short header
  PAYLEN_SHIFT = 6,
  MAX_PAYLEN = 1 << 25, // a larger payloadLength is serialized here (VERBATIM)
  // Fast record fields (int32 word index from the record's start; f64 fields take two words, 8-aligned).
  F_IF = 1,
  F_TIME = 2, // f64: simulated time, ns; once expanded, the absolute file offset of the frame's bytes (−1: cut)
  F_ETH_DST = 4, // f64: MAC as an integer
  F_ETH_SRC = 6, // f64
  F_ETH_TOS_TTL = 8, // etherType (16) | tos << 16 (8) | ttl << 24 (8)
  F_LEN_ID = 9, // IP total length (16) | id << 16 (16)
  F_FF_PROTO = 10, // flags << 13 | fragment offset (16) | protocol << 16 (8) | given << 24 (bit 0: ip checksum given, bit 1: L4 checksum given)
  F_SRC = 11,
  F_DST = 12,
  F_PORTS = 13, // UDP/TCP source port (16) | destination port << 16; ICMP type (8) | code << 16 (8)
  F_W0 = 14, // UDP length field (16); TCP seq; ICMP rest
  F_ACK = 15, // TCP ack
  SHORT_BYTES = 16 * 4, // a short record's size before its payload bytes
  // Extended records only.
  X_SNAP = 16, // the interface's snaplen (a short record's frame is not cut)
  X_IPSUM = 17, // ip checksum as given
  X_L4SUM = 18, // L4 checksum as given
  X_NBYTES = 19, // payload bytes present in the record (≤ payloadLength)
  X_CORRUPT = 20, // netem corrupt bit from the IP header's first bit, −1 none (a short record: none)
  X_TFLAGS = 21, // TCP flags (9 bits) | option bytes (padded) << 16
  X_WIN_URG = 22, // TCP window (16) | urgent << 16 (16)
  EXT_BYTES = 24 * 4, // an extended record's size before its TCP option bytes and payload bytes
  // COPY records: word 0 type | source offset << C_SRC_SHIFT.
  C_SRC_SHIFT = 4,
  MAX_COPY_SRC = 1 << 27,
  C_IF = 1,
  C_TIME = 2, // f64
  COPY_BYTES = 16,
  // SCOPY records (8 bytes): word 0 type | (source offset + 2 for a fast record) << C_SRC_SHIFT; word 1 the time − its base's (int32 ns).
  S_DT = 1,
  SCOPY_BYTES = 8,
  // REPEAT records (16 bytes): word 0 type | distance back to the template record << C_SRC_SHIFT; word 1
  // the IP id; time as F_TIME (once expanded, the frame's file offset, as a fast record's).
  P_ID = 1,
  REPEAT_BYTES = 16,
  // DREPEAT records (8 bytes, session 45): word 0 as a REPEAT's; word 1 the IP id | dt << D_DT_SHIFT, dt (0 … 0xffff
  // ns) the time − the time of the previous REPEAT or DREPEAT of the same interface (the writer thread keeps it).
  D_DT_SHIFT = 16,
  DREPEAT_BYTES = 8,
}

// What other modules use: the record types pcapng.ts and the tests pick by, COPY's size, the layout.
export const R_VERBATIM = K.R_VERBATIM;
export const R_UDP = K.R_UDP;
export const R_TCP = K.R_TCP;
export const R_ICMP = K.R_ICMP;
export const COPY_BYTES = K.COPY_BYTES;
/** Largest chunk a COPY record's source offset can address (it shares word 0 with the type). */
export const MAX_COPY_CHUNK = K.MAX_COPY_SRC;

/**
 * Record layout handed to RecordExpander (it may not read module constants: it runs from its source text;
 * async-sink.ts substitutes these values for its `L.X` reads). Narrow fields are packed, each cut to its
 * wire width first (as the byte/writeU16 stores of packet/serialize cut it).
 *
 * A fast record is short (16 words) when the frame is UDP or ICMP, not cut by the snaplen, has no given
 * checksum and no netem bit, and carries all of its payload bytes or none: S1's frames and most
 * captured traffic. Otherwise (TCP, a cut, a checksum given, a corrupt bit, a payload shorter than its
 * length) it is extended: 24 words, the X_* fields after the short header. COPY records (16 bytes): the
 * source is a fast record (R_COPY) or the frame's bytes in an EPB serialized into the chunk (R_COPY_RAW:
 * the EPB's original length is the word before them); the frame's length is the source's, and it is not
 * cut (an arrival its interface's snaplen would cut is written as a frame of its own).
 */
export const LAYOUT = {
  R_VERBATIM: K.R_VERBATIM,
  R_UDP: K.R_UDP,
  R_TCP: K.R_TCP,
  R_ICMP: K.R_ICMP,
  R_COPY: K.R_COPY,
  R_COPY_RAW: K.R_COPY_RAW,
  R_REPEAT: K.R_REPEAT,
  R_SCOPY: K.R_SCOPY,
  R_DREPEAT: K.R_DREPEAT,
  T_MASK: K.T_MASK,
  B_BYTES: K.B_BYTES,
  B_EXT: K.B_EXT,
  PAYLEN_SHIFT: K.PAYLEN_SHIFT,
  F_IF: K.F_IF,
  F_TIME: K.F_TIME,
  F_ETH_DST: K.F_ETH_DST,
  F_ETH_SRC: K.F_ETH_SRC,
  F_ETH_TOS_TTL: K.F_ETH_TOS_TTL,
  F_LEN_ID: K.F_LEN_ID,
  F_FF_PROTO: K.F_FF_PROTO,
  F_SRC: K.F_SRC,
  F_DST: K.F_DST,
  F_PORTS: K.F_PORTS,
  F_W0: K.F_W0,
  F_ACK: K.F_ACK,
  SHORT_BYTES: K.SHORT_BYTES,
  X_SNAP: K.X_SNAP,
  X_IPSUM: K.X_IPSUM,
  X_L4SUM: K.X_L4SUM,
  X_NBYTES: K.X_NBYTES,
  X_CORRUPT: K.X_CORRUPT,
  X_TFLAGS: K.X_TFLAGS,
  X_WIN_URG: K.X_WIN_URG,
  EXT_BYTES: K.EXT_BYTES,
  C_SRC_SHIFT: K.C_SRC_SHIFT,
  C_IF: K.C_IF,
  C_TIME: K.C_TIME,
  COPY_BYTES: K.COPY_BYTES,
  S_DT: K.S_DT,
  SCOPY_BYTES: K.SCOPY_BYTES,
  P_ID: K.P_ID,
  REPEAT_BYTES: K.REPEAT_BYTES,
  D_DT_SHIFT: K.D_DT_SHIFT,
  DREPEAT_BYTES: K.DREPEAT_BYTES,
} as const;

/**
 * The fast record type for `pkt`, or 0 when it needs packet/serialize (see the file comment). Also 0 for
 * a TCP header whose options do not fit (serialize throws its WireError there, as before).
 */
export function fastKind(pkt: Packet): number {
  const ip = pkt.ip;
  if (pkt.eth === null || ip === null || ip.options !== null || pkt.arp !== null || pkt.fragOf !== null || pkt.vxlan !== null) return 0;
  if (pkt.udp !== null) return pkt.tcp === null && pkt.icmp === null ? K.R_UDP : 0;
  if (pkt.tcp !== null) return pkt.icmp === null && tcpHeaderLength(pkt.tcp) <= 60 ? K.R_TCP : 0;
  if (pkt.icmp !== null) return pkt.inner === null ? K.R_ICMP : 0;
  return 0;
}

/**
 * Writes a fast record (capture/epb-records) for `pkt` into the ring: its fields, TCP options encoded,
 * the payload bytes present; short when it can be (see LAYOUT). `len` is the frame's length. Returns the
 * record's offset in the current chunk, or −1 when it would not fit in a chunk (then the caller
 * serializes). The caller counts the packet and sets its time (setRecordTime).
 */
export function writeFastRecord(r: AsyncChunkSink, kind: number, ifId: number, pkt: Packet, snap: number, len: number): number {
  const p = pkt.payload;
  const payLen = pkt.payloadLength;
  const nb = p === null ? 0 : p.length < payLen ? p.length : payLen;
  const ip = pkt.ip!;
  const ipSum = ip.checksum;
  const l4sum = kind === K.R_UDP ? pkt.udp!.checksum : kind === K.R_ICMP ? pkt.icmp!.checksum : null;
  const corrupt = pkt.corruptBit;
  if (kind !== K.R_TCP && ipSum === null && l4sum === null && corrupt < 0 && len <= snap && (nb === 0 || nb === payLen) && payLen < K.MAX_PAYLEN) {
    // Short record.
    const size = (K.SHORT_BYTES + nb + 7) & ~7;
    if (size > r.slotSize) return -1;
    const o = r.record(size);
    const w = (r.slotBase + o) >> 2;
    writeHeader(r.i32, r.f64, w, kind | (nb !== 0 ? K.B_BYTES : 0) | (payLen << K.PAYLEN_SHIFT), ifId, pkt, 0);
    if (nb > 0) copyBytes(r.u8, r.slotBase + o + K.SHORT_BYTES, p!, nb);
    r.pos = o + size;
    r.outBytes += 32 + ((len + 3) & ~3);
    return o;
  }
  if (payLen >= K.MAX_PAYLEN) return -1;
  const tcp = kind === K.R_TCP;
  const opt = tcp ? len - 34 - 20 - payLen : 0;
  const size = (K.EXT_BYTES + opt + nb + 7) & ~7;
  if (size > r.slotSize) return -1;
  const o = r.record(size);
  const w = (r.slotBase + o) >> 2;
  const i32 = r.i32;
  let given = 0;
  if (ipSum !== null) {
    given = 1;
    i32[w + K.X_IPSUM] = ipSum;
  }
  i32[w + K.X_SNAP] = snap;
  i32[w + K.X_NBYTES] = nb;
  i32[w + K.X_CORRUPT] = corrupt;
  if (tcp) {
    const t = pkt.tcp!;
    i32[w + K.X_TFLAGS] = (t.flags & 0x1ff) | (opt << 16);
    i32[w + K.X_WIN_URG] = (t.window & 0xffff) | (t.urgent << 16);
    if (opt > 0) encodeTcpOptions(t.options, r.u8, r.slotBase + o + K.EXT_BYTES);
    if (t.checksum !== null) {
      given |= 2;
      i32[w + K.X_L4SUM] = t.checksum;
    }
  } else if (l4sum !== null) {
    given |= 2;
    i32[w + K.X_L4SUM] = l4sum;
  }
  writeHeader(i32, r.f64, w, kind | K.B_EXT | (payLen << K.PAYLEN_SHIFT), ifId, pkt, given);
  if (nb > 0) copyBytes(r.u8, r.slotBase + o + K.EXT_BYTES + opt, p!, nb);
  r.pos = o + size;
  const cap = len <= snap ? len : snap;
  r.outBytes += 32 + ((cap + 3) & ~3);
  return o;
}

/**
 * A capture point's last plain UDP departure written as a full record (capture/point RingPoint.departed, writeUdpRecord): where it is in the
 * stream of chunks (`at`, −1: none) and its fields as they went into the record, the IP id left out. A
 * departure equal to it but for the id (the next datagram of the same flow: S1's, most UDP traffic) is a
 * 16-byte REPEAT record naming it, while it is in the current chunk.
 */
export class DepartureTemplate {
  at = -1;
  payLen = -1;
  /** Its frame's length (42 + payLen) and EPB's size: a REPEAT's. */
  len = -1;
  epb = -1;
  // MACs are doubles: a double field from the start (no representation change at the first departure).
  dst = -0.5;
  src = -0.5;
  etherType = -1;
  tos = -1;
  ttl = -1;
  totalLength = -1;
  flags = -1;
  fragOffset = -1;
  protocol = -1;
  ipSrc = -1;
  ipDst = -1;
  srcPort = -1;
  dstPort = -1;
  udpLength = -1;
}

/**
 * A plain UDP departure (capture/point RingPoint.departed: Ethernet + IPv4 without options + UDP, no checksum
 * given, no netem bit, no payload bytes) that is not a REPEAT of `tpl` as a full short record, its time read
 * from `clock` (a double loaded and stored unboxed: no argument to box); it becomes the point's template.
 * Returns the record's offset in the current chunk, or −1 when the frame is cut by the snaplen or too long
 * (the caller takes writeFastRecord's path). The same record writeFastRecord writes for such a frame
 * (test/capture/epb-records.test.ts). `tag` ≠ 0: the departure is marked for its wire peer's arrival
 * (capture/frame-memo: memo position 2 × word + 1).
 */
export function writeUdpRecord(r: AsyncChunkSink, ifId: number, pkt: Packet, snap: number, clock: { readonly now: number }, tpl: DepartureTemplate, tag: number): number {
  const eth = pkt.eth!;
  const ip = pkt.ip!;
  const u = pkt.udp!;
  const payLen = pkt.payloadLength;
  const len = 42 + payLen;
  if (len > snap || payLen >= K.MAX_PAYLEN) return -1;
  const o = r.record(K.SHORT_BYTES);
  const w = (r.slotBase + o) >> 2;
  const i32 = r.i32;
  const f64 = r.f64;
  i32[w] = K.R_UDP | (payLen << K.PAYLEN_SHIFT);
  i32[w + K.F_IF] = ifId;
  f64[(w + K.F_TIME) >> 1] = clock.now;
  f64[(w + K.F_ETH_DST) >> 1] = eth.dst;
  f64[(w + K.F_ETH_SRC) >> 1] = eth.src;
  i32[w + K.F_ETH_TOS_TTL] = (eth.etherType & 0xffff) | ((ip.tos & 0xff) << 16) | ((ip.ttl & 0xff) << 24);
  i32[w + K.F_LEN_ID] = (ip.totalLength & 0xffff) | ((ip.id & 0xffff) << 16);
  i32[w + K.F_FF_PROTO] = ((((ip.flags & 0x7) << 13) | (ip.fragOffset & 0x1fff)) & 0xffff) | ((ip.protocol & 0xff) << 16);
  i32[w + K.F_SRC] = ip.src;
  i32[w + K.F_DST] = ip.dst;
  i32[w + K.F_PORTS] = (u.srcPort & 0xffff) | (u.dstPort << 16);
  i32[w + K.F_W0] = u.length;
  r.pos = o + K.SHORT_BYTES;
  r.outBytes += 32 + ((len + 3) & ~3);
  tpl.at = r.chunkStart + o;
  tpl.payLen = payLen;
  tpl.len = len;
  tpl.epb = 32 + ((len + 3) & ~3);
  tpl.dst = eth.dst;
  tpl.src = eth.src;
  tpl.etherType = eth.etherType;
  tpl.tos = ip.tos;
  tpl.ttl = ip.ttl;
  tpl.totalLength = ip.totalLength;
  tpl.flags = ip.flags;
  tpl.fragOffset = ip.fragOffset;
  tpl.protocol = ip.protocol;
  tpl.ipSrc = ip.src;
  tpl.ipDst = ip.dst;
  tpl.srcPort = u.srcPort;
  tpl.dstPort = u.dstPort;
  tpl.udpLength = u.length;
  if (tag !== 0) {
    pkt.capTag = tag;
    pkt.capAt = (r.chunkStart + o) / 2 + 1;
    pkt.capLen = len;
  }
  return o;
}

/** The time of the fast record at `o` in the chunk: not an argument of writeFastRecord, which V8 does not inline (a double argument is boxed per call). */
export function setRecordTime(r: AsyncChunkSink, o: number, timeNs: number): void {
  r.f64[(((r.slotBase + o) >> 2) + K.F_TIME) >> 1] = timeNs;
}

/** The short header's words (F_*) of the fast record at word w; `w0` its word 0, `given` the checksums given (F_FF_PROTO's top byte). */
function writeHeader(i32: Int32Array, f64: Float64Array, w: number, w0: number, ifId: number, pkt: Packet, given: number): void {
  const eth = pkt.eth!;
  const ip = pkt.ip!;
  i32[w] = w0;
  i32[w + K.F_IF] = ifId;
  f64[(w + K.F_ETH_DST) >> 1] = eth.dst;
  f64[(w + K.F_ETH_SRC) >> 1] = eth.src;
  i32[w + K.F_ETH_TOS_TTL] = (eth.etherType & 0xffff) | ((ip.tos & 0xff) << 16) | ((ip.ttl & 0xff) << 24);
  i32[w + K.F_LEN_ID] = (ip.totalLength & 0xffff) | ((ip.id & 0xffff) << 16);
  i32[w + K.F_FF_PROTO] = ((((ip.flags & 0x7) << 13) | (ip.fragOffset & 0x1fff)) & 0xffff) | ((ip.protocol & 0xff) << 16) | (given << 24);
  i32[w + K.F_SRC] = ip.src;
  i32[w + K.F_DST] = ip.dst;
  const kind = w0 & K.T_MASK;
  if (kind === K.R_UDP) {
    const u = pkt.udp!;
    i32[w + K.F_PORTS] = (u.srcPort & 0xffff) | (u.dstPort << 16);
    i32[w + K.F_W0] = u.length;
  } else if (kind === K.R_TCP) {
    const t = pkt.tcp!;
    i32[w + K.F_PORTS] = (t.srcPort & 0xffff) | (t.dstPort << 16);
    i32[w + K.F_W0] = t.seq;
    i32[w + K.F_ACK] = t.ack;
  } else {
    const c = pkt.icmp!;
    i32[w + K.F_PORTS] = (c.type & 0xff) | ((c.code & 0xff) << 16);
    i32[w + K.F_W0] = c.rest;
  }
}

/** The first nb bytes of p to u8[at]. */
function copyBytes(u8: Uint8Array, at: number, p: Uint8Array, nb: number): void {
  if (nb <= 64) for (let i = 0; i < nb; i++) u8[at + i] = p[i]!;
  else u8.set(nb === p.length ? p : p.subarray(0, nb), at);
}

/**
 * A COPY record: the arrival's EPB is the departure's frame at `src` in the current chunk — a fast record
 * (`raw` false) or an EPB's frame bytes serialized into the chunk (`raw`). `len`: the frame's length, which
 * the arriving interface's snaplen does not cut (the caller checks).
 */
export function writeCopyRecord(r: AsyncChunkSink, ifId: number, timeNs: number, src: number, raw: boolean, len: number): void {
  const o = r.record(K.COPY_BYTES);
  const w = (r.slotBase + o) >> 2;
  const i32 = r.i32;
  i32[w] = (raw ? K.R_COPY_RAW : K.R_COPY) | (src << K.C_SRC_SHIFT);
  i32[w + K.C_IF] = ifId;
  r.f64[(w + K.C_TIME) >> 1] = timeNs;
  r.pos = o + K.COPY_BYTES;
  r.outBytes += 32 + ((len + 3) & ~3);
}

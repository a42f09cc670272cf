// wire/tcp — TCP header and options codec. Layer: wire (imports core, wire). Mirrors RFC 9293 (header,
// MSS, EOL, NOP), RFC 7323 (window scale, timestamps) and RFC 2018 (SACK).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Sequence Number                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Acknowledgment Number                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Data |     |N|C|E|U|A|P|R|S|F|                               |
// | Offset| Rsv |S|W|C|R|C|S|S|Y|I|            Window             |
// |       |     | |R|E|G|K|H|T|N|N|                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Checksum            |         Urgent Pointer        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options                    |    Padding    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// | offset | size   | field |
// |--------|--------|-------|
// | 0      | 2      | srcPort |
// | 2      | 2      | dstPort |
// | 4      | 4      | seq   |
// | 8      | 4      | ack   |
// | 12     | 4 bit  | data offset (derived from options on encode) |
// | 12     | 3 bit  | reserved (written as zero) |
// | 12..13 | 9 bit  | flags (NS CWR ECE URG ACK PSH RST SYN FIN) |
// | 14     | 2      | window |
// | 16     | 2      | checksum (pseudo-header + segment) |
// | 18     | 2      | urgent |
// | 20     | 0-40   | options, in wire order |
//
// Options keep their wire order (NOPs included). RFC 9293 §3.1: "The option-list may be shorter than
// the Data Offset field might imply. The content of the header beyond the End-of-Option option must be
// header padding (i.e., zero)." Decoding stops at EOL; encoding pads with zeros to a multiple of 4, so
// zero padding round-trips. A known kind with an unexpected length is kept as `unknown`, so its bytes
// round-trip too.
//
// Not modelled: the 3 reserved bits (decoded and dropped, encoded as zero), TCP-AO/MD5 semantics
// (carried as `unknown`).
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { requireBytes, WireError } from './error.js';
import { IpProto as IpProtoImported, type Ipv4, type TcpHeader, type TcpOption } from './types.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const IpProto = IpProtoImported;

/** Length of a TCP header without options. */
export const TCP_MIN_HEADER_LENGTH = 20;
const TCP_MIN_HEADER_LENGTHHere = TCP_MIN_HEADER_LENGTH; // own export, as a module constant

/** Option kinds as on the wire. */
export const TcpOptionKind = { EOL: 0, NOP: 1, MSS: 2, WSCALE: 3, SACK_PERMITTED: 4, SACK: 5, TIMESTAMPS: 8 } as const;
const TcpOptionKindHere = TcpOptionKind; // own export, as a module constant

/** Bytes one option occupies on the wire. */
export function tcpOptionLength(o: TcpOption): number {
  // Most frequent first (nop, timestamps on every segment of a Linux connection): the switch compares in order.
  switch (o.kind) {
    case 'nop':
      return 1;
    case 'timestamps':
      return 10;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sackPermitted':
      return 2;
    case 'eol':
      return 1;
    case 'unknown':
      return 2 + o.data.length;
    default: {
      const never: never = o;
      throw new Error(`unknown TCP option ${String(never)}`);
    }
  }
}

/**
 * A copy of an option list for another packet (Packet.clone): a new array, and a new timestamps
 * record — the one record a sender rewrites in place (transport/tcp reuses a segment it gets back with
 * its list: tcp/options.ts ownTsOptions), so a copy made before must not share it. The other records
 * are never written and stay shared.
 */
export function copyTcpOptions(options: readonly TcpOption[]): TcpOption[] {
  const out = options.slice();
  for (let i = 0; i < out.length; i++) {
    const o = out[i]!;
    if (o.kind === 'timestamps') out[i] = { kind: 'timestamps', tsval: o.tsval, tsecr: o.tsecr };
  }
  return out;
}

/** A NOP record to share (records in a list are never written, but for the TS record of a sender's own list). */
export const TCP_NOP: TcpOption = Object.freeze({ kind: 'nop' }) as TcpOption;
const TCP_NOPHere = TCP_NOP; // own export, as a module constant
/** A SACK-permitted record to share. */
export const TCP_SACK_PERMITTED: TcpOption = Object.freeze({ kind: 'sackPermitted' }) as TcpOption;
const TCP_SACK_PERMITTEDHere = TCP_SACK_PERMITTED; // own export, as a module constant
/**
 * The NOP that marks a list in one of Linux's two layouts, built by transport/tcp for one segment
 * (tcp/options.ts, the lists a segment owns): TCP_NOP, it, TS (an established segment, 12 bytes) or MSS,
 * TCP_SACK_PERMITTED, TS, it, WS (a SYN with every feature on, 20 bytes). Only those lists and copies
 * that keep each record's place (Packet.clone, TCPMSS's rewritten MSS) hold it, at those places; a list
 * with a record put in or taken out (TCPMSS inserts an MSS first) no longer has it there. So a reader
 * knows such a list's layout from identities alone, without reading each record's `kind` across the
 * option shapes (a megamorphic load: ~220 instructions for the three of an established segment's
 * header length, on every segment sent).
 */
export const TCP_LAYOUT_NOP: TcpOption = Object.freeze({ kind: 'nop' }) as TcpOption;
const TCP_LAYOUT_NOPHere = TCP_LAYOUT_NOP; // own export, as a module constant

/** The layout of a list marked by TCP_LAYOUT_NOP: 3 (NOP, NOP, TS), 5 (MSS, SACK_PERM, TS, NOP, WS), else 0. */
export function tcpLayoutOf(options: readonly TcpOption[]): 0 | 3 | 5 {
  const n = options.length;
  if (n === 3) return options[1] === TCP_LAYOUT_NOPHere && options[0] === TCP_NOPHere ? 3 : 0;
  if (n === 5) return options[3] === TCP_LAYOUT_NOPHere && options[1] === TCP_SACK_PERMITTEDHere ? 5 : 0;
  return 0;
}

/** Bytes the options occupy before padding. */
export function tcpOptionsRawLength(options: TcpOption[]): number {
  let n = 0;
  for (let i = 0; i < options.length; i++) n += tcpOptionLength(options[i]!);
  return n;
}

/** Header length of a TCP record: 20 + options padded to a multiple of 4 (data offset * 4). */
export function tcpHeaderLength(hdr: TcpHeader): number {
  const o = hdr.options;
  const n = o.length;
  if (n === 0) return TCP_MIN_HEADER_LENGTHHere;
  // (tcpLayoutOf written out: a marked layout's length from identities, no call)
  if (n === 3 && o[1] === TCP_LAYOUT_NOPHere && o[0] === TCP_NOPHere) return TCP_MIN_HEADER_LENGTHHere + 12;
  if (n === 5 && o[3] === TCP_LAYOUT_NOPHere && o[1] === TCP_SACK_PERMITTEDHere) return TCP_MIN_HEADER_LENGTHHere + 20;
  return TCP_MIN_HEADER_LENGTHHere + ((tcpOptionsRawLength(hdr.options) + 3) & ~3);
}

/** Decodes a TCP header (with options) at buf[off]. */
export function decodeTcp(buf: Uint8Array, off: number): { hdr: TcpHeader; bytesRead: number } {
  requireBytes('tcp', buf, off, TCP_MIN_HEADER_LENGTHHere);
  const doff = buf[off + 12]! >> 4;
  if (doff < 5) throw new WireError('tcp', off, `data offset ${doff} below the minimum of 5`);
  const hlen = doff * 4;
  requireBytes('tcp', buf, off, hlen);
  const hdr: TcpHeader = {
    srcPort: readU16(buf, off),
    dstPort: readU16(buf, off + 2),
    seq: readU32(buf, off + 4),
    ack: readU32(buf, off + 8),
    flags: ((buf[off + 12]! & 1) << 8) | buf[off + 13]!,
    window: readU16(buf, off + 14),
    checksum: readU16(buf, off + 16),
    urgent: readU16(buf, off + 18),
    options: decodeTcpOptions(buf, off + TCP_MIN_HEADER_LENGTHHere, off + hlen),
  };
  return { hdr, bytesRead: hlen };
}

/** Decodes the option list in buf[start, end), in wire order. */
export function decodeTcpOptions(buf: Uint8Array, start: number, end: number): TcpOption[] {
  const out: TcpOption[] = [];
  let i = start;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === TcpOptionKindHere.EOL) {
      out.push({ kind: 'eol' });
      break;
    }
    if (kind === TcpOptionKindHere.NOP) {
      out.push({ kind: 'nop' });
      i++;
      continue;
    }
    if (i + 2 > end) throw new WireError('tcp', i, `option kind ${kind} has no length byte`);
    const len = buf[i + 1]!;
    if (len < 2 || i + len > end) throw new WireError('tcp', i, `option kind ${kind} length ${len} runs past the header`);
    if (kind === TcpOptionKindHere.MSS && len === 4) out.push({ kind: 'mss', value: readU16(buf, i + 2) });
    else if (kind === TcpOptionKindHere.WSCALE && len === 3) out.push({ kind: 'wscale', shift: buf[i + 2]! });
    else if (kind === TcpOptionKindHere.SACK_PERMITTED && len === 2) out.push({ kind: 'sackPermitted' });
    else if (kind === TcpOptionKindHere.TIMESTAMPS && len === 10) out.push({ kind: 'timestamps', tsval: readU32(buf, i + 2), tsecr: readU32(buf, i + 6) });
    else if (kind === TcpOptionKindHere.SACK && len >= 10 && (len - 2) % 8 === 0) {
      const blocks: [number, number][] = [];
      for (let j = i + 2; j < i + len; j += 8) blocks.push([readU32(buf, j), readU32(buf, j + 4)]);
      out.push({ kind: 'sack', blocks });
    } else out.push({ kind: 'unknown', type: kind, data: buf.slice(i + 2, i + len) });
    i += len;
  }
  return out;
}

/** Encodes options at buf[off] and zero-pads to a multiple of 4; returns bytes written (padded). */
export function encodeTcpOptions(options: TcpOption[], buf: Uint8Array, off: number): number {
  let i = off;
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    switch (o.kind) {
      case 'eol':
        buf[i++] = TcpOptionKindHere.EOL;
        break;
      case 'nop':
        buf[i++] = TcpOptionKindHere.NOP;
        break;
      case 'mss':
        buf[i] = TcpOptionKindHere.MSS;
        buf[i + 1] = 4;
        writeU16(buf, i + 2, o.value);
        i += 4;
        break;
      case 'wscale':
        buf[i] = TcpOptionKindHere.WSCALE;
        buf[i + 1] = 3;
        buf[i + 2] = o.shift;
        i += 3;
        break;
      case 'sackPermitted':
        buf[i] = TcpOptionKindHere.SACK_PERMITTED;
        buf[i + 1] = 2;
        i += 2;
        break;
      case 'sack':
        buf[i] = TcpOptionKindHere.SACK;
        buf[i + 1] = 2 + 8 * o.blocks.length;
        i += 2;
        for (let b = 0; b < o.blocks.length; b++) {
          const blk = o.blocks[b]!;
          writeU32(buf, i, blk[0]);
          writeU32(buf, i + 4, blk[1]);
          i += 8;
        }
        break;
      case 'timestamps':
        buf[i] = TcpOptionKindHere.TIMESTAMPS;
        buf[i + 1] = 10;
        writeU32(buf, i + 2, o.tsval);
        writeU32(buf, i + 6, o.tsecr);
        i += 10;
        break;
      case 'unknown':
        buf[i] = o.type;
        buf[i + 1] = 2 + o.data.length;
        buf.set(o.data, i + 2);
        i += 2 + o.data.length;
        break;
      default: {
        const never: never = o;
        throw new Error(`unknown TCP option ${String(never)}`);
      }
    }
  }
  while ((i - off) & 3) buf[i++] = 0;
  return i - off;
}

/**
 * Encodes a TCP header at buf[off]. When hdr.checksum is null it is computed over the pseudo-header
 * (src, dst, 6, segmentLength) and buf[off, off+segmentLength) — header plus the data already written
 * after it (default: header only). Returns bytes written (the header length).
 */
export function encodeTcp(hdr: TcpHeader, buf: Uint8Array, off: number, src: Ipv4 = 0, dst: Ipv4 = 0, segmentLength = -1, dataSum = -1): number {
  const hlen = tcpHeaderLength(hdr);
  if (hlen > 60) throw new WireError('tcp', off, `options need ${hlen - 20} bytes, at most 40 fit`);
  const segLen = segmentLength < 0 ? hlen : segmentLength;
  requireBytes('tcp', buf, off, Math.max(hlen, hdr.checksum === null ? segLen : 0));
  writeU16(buf, off, hdr.srcPort);
  writeU16(buf, off + 2, hdr.dstPort);
  writeU32(buf, off + 4, hdr.seq);
  writeU32(buf, off + 8, hdr.ack);
  buf[off + 12] = ((hlen >> 2) << 4) | ((hdr.flags >> 8) & 1);
  buf[off + 13] = hdr.flags & 0xff;
  writeU16(buf, off + 14, hdr.window);
  writeU16(buf, off + 16, 0);
  writeU16(buf, off + 18, hdr.urgent);
  encodeTcpOptions(hdr.options, buf, off + TCP_MIN_HEADER_LENGTHHere);
  // dataSum ≥ 0: the caller knows the unfolded sum of the data after the header (0 for zero bytes),
  // so only the pseudo-header and the header are summed (hlen is even: the data starts word-aligned).
  const csum =
    hdr.checksum !== null
      ? hdr.checksum
      : dataSum >= 0
        ? checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IpProto.TCP, segLen) + dataSum, buf, off, off + hlen))
        : checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IpProto.TCP, segLen), buf, off, off + segLen));
  writeU16(buf, off + 16, csum);
  return hlen;
}

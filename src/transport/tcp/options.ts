// transport/tcp/options — the TCP options Linux puts on each kind of segment, as wire records.
// Layer: transport (imports wire). Mirrors net/ipv4/tcp_output.c tcp_options_write / tcp_syn_options /
// tcp_synack_options / tcp_established_options: a SYN carries MSS, SACK_PERM, TS, NOP, WS (20 bytes,
// SACK_PERM packed in front of TS so no NOPs are needed); established segments carry NOP, NOP, TS
// (12 bytes) and, when out-of-order data is held, NOP, NOP, SACK with up to 3 blocks beside TS.
import { TCP_LAYOUT_NOP as TCP_LAYOUT_NOPImported, TCP_NOP as TCP_NOPImported, TCP_SACK_PERMITTED as TCP_SACK_PERMITTEDImported, tcpLayoutOf as tcpLayoutOfImported } from '../../wire/tcp.js';
import type { TcpOption } from '../../wire/types.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const TCP_LAYOUT_NOP = TCP_LAYOUT_NOPImported;
const TCP_NOP = TCP_NOPImported;
const TCP_SACK_PERMITTED = TCP_SACK_PERMITTEDImported;
const tcpLayoutOf = tcpLayoutOfImported;
const ownTsRecordHere = ownTsRecord;

/** Linux's receive window scale with the default tcp_rmem[2] = 6 MiB: ilog2(6291456) − 15 = 7. */
export const LINUX_WSCALE = 7;
/** Bytes the timestamp option takes on every established segment (NOP, NOP, TS): TCPOLEN_TSTAMP_ALIGNED. */
export const TS_ALIGNED_LEN = 12;
/** Most SACK blocks that fit beside timestamps (40 − 12 − 2 − 2 = 24 bytes → 3 blocks). */
export const MAX_SACK_BLOCKS_WITH_TS = 3;
/** Most SACK blocks without timestamps (40 − 2 − 2 = 36 → 4 blocks). */
export const MAX_SACK_BLOCKS = 4;

/** Shared NOP record (records are never mutated after a segment is sent). */
const NOP = TCP_NOP;

/** What a SYN or SYN-ACK offered, parsed from its options. */
export interface SynOptions {
  mss: number | null;
  wscale: number | null;
  sackPermitted: boolean;
  /** Whether a timestamps option was seen (tsval a plain number, not number | null: a field that may hold
   * null keeps each large uint32 stored in it as a new heap number, one per SYN parsed). */
  ts: boolean;
  tsval: number;
  tsecr: number;
}

/** SACK_PERM and the window-scale records (shared and frozen, as NOP). */
const SACK_PERMITTED = TCP_SACK_PERMITTED;
const WSCALES: readonly TcpOption[] = Array.from({ length: 15 }, (_, shift) => Object.freeze({ kind: 'wscale', shift }) as TcpOption);
/** The last MSS record built (a namespace's SYNs all carry the same MSS). */
let lastMss: TcpOption & { kind: 'mss' } = Object.freeze({ kind: 'mss', value: 536 }) as TcpOption & { kind: 'mss' };

function mssOption(mss: number): TcpOption {
  if (lastMss.value !== mss) lastMss = Object.freeze({ kind: 'mss', value: mss }) as TcpOption & { kind: 'mss' };
  return lastMss;
}

function wscaleOption(shift: number): TcpOption {
  return WSCALES[shift] ?? { kind: 'wscale', shift };
}

/**
 * Options of a SYN (tcp_syn_options) or SYN-ACK (tcp_synack_options); each feature only when enabled.
 * `ts` false: no timestamps (tsval and tsecr ignored). Each list is built at its final length.
 */
export function synOptions(mss: number, ts: boolean, tsval: number, tsecr: number, sack: boolean, wscale: number | null): TcpOption[] {
  const m = mssOption(mss);
  if (ts) {
    const t: TcpOption = { kind: 'timestamps', tsval: tsval >>> 0, tsecr: tsecr >>> 0 };
    if (sack) return wscale !== null ? [m, SACK_PERMITTED, t, NOP, wscaleOption(wscale)] : [m, SACK_PERMITTED, t];
    return wscale !== null ? [m, NOP, NOP, t, NOP, wscaleOption(wscale)] : [m, NOP, NOP, t];
  }
  if (sack) return wscale !== null ? [m, NOP, NOP, SACK_PERMITTED, NOP, wscaleOption(wscale)] : [m, NOP, NOP, SACK_PERMITTED];
  return wscale !== null ? [m, NOP, wscaleOption(wscale)] : [m];
}

/**
 * The NOP that marks an options list one segment owns: NOP, OWN, TS (established) or MSS, SACK_PERM,
 * TS, OWN, WS (a SYN with every feature on), built for that segment alone and never shared with
 * another (Packet.clone copies its TS record: wire/tcp copyTcpOptions). When the segment is given back
 * and taken again (packet/packet.ts, the ownership rule) its list is rewritten in place, not built
 * anew: a connection's every TSval/TSecr pair is its own, so a list shared between segments served
 * only a burst, and the lists were ~1 KB of each H1 request. Readers see a NOP.
 */
const OWN_NOP = TCP_LAYOUT_NOP;

type TsRecord = TcpOption & { kind: 'timestamps' };

/** The TS record of a list a segment owns (it may be rewritten), or null for any other list. */
export function ownTsRecord(opts: readonly TcpOption[]): TsRecord | null {
  return tcpLayoutOf(opts) !== 0 ? (opts[2] as TsRecord) : null;
}

function writeTs(t: TsRecord, tsval: number, tsecr: number): void {
  t.tsval = tsval >>> 0;
  t.tsecr = tsecr >>> 0;
}

/**
 * NOP, NOP, TS(tsval, tsecr) of an established segment in the list it owns: `prev` (the options of the
 * segment being reused) rewritten when it is such a list, else a new one.
 */
export function ownTsOptions(prev: TcpOption[], tsval: number, tsecr: number): TcpOption[] {
  const t = ownTsRecordHere(prev);
  if (t === null) return [NOP, OWN_NOP, { kind: 'timestamps', tsval: tsval >>> 0, tsecr: tsecr >>> 0 }];
  writeTs(t, tsval, tsecr);
  // (a SYN's list before: a new list of three around its TS record; shortening it in place, a store to
  // an array's `length`, is a runtime call, ~500 instructions, on most first data segments)
  return prev.length === 5 ? [NOP, OWN_NOP, t] : prev;
}

/**
 * MSS, SACK_PERM, TS, NOP, WS of a SYN or SYN-ACK with every feature on (synOptions' list, Linux's
 * default) in the list the segment owns: `prev` rewritten when it is one, else a new one.
 */
export function ownSynOptions(prev: TcpOption[], mss: number, tsval: number, tsecr: number, wscale: number): TcpOption[] {
  const t = ownTsRecordHere(prev);
  if (t === null) return [mssOption(mss), SACK_PERMITTED, { kind: 'timestamps', tsval: tsval >>> 0, tsecr: tsecr >>> 0 }, OWN_NOP, wscaleOption(wscale)];
  writeTs(t, tsval, tsecr);
  // (an established segment's list before: a new list of five around its TS record, not grown in place)
  if (prev.length === 3) return [mssOption(mss), SACK_PERMITTED, t, OWN_NOP, wscaleOption(wscale)];
  prev[0] = mssOption(mss);
  prev[4] = wscaleOption(wscale);
  return prev;
}

/** Options of an established segment: NOP NOP TS, then NOP NOP SACK when blocks are given (built at their final length). */
export function establishedOptions(ts: boolean, tsval: number, tsecr: number, sackBlocks: [number, number][] | null): TcpOption[] {
  const sack = sackBlocks !== null && sackBlocks.length > 0;
  if (ts) {
    const t: TcpOption = { kind: 'timestamps', tsval: tsval >>> 0, tsecr: tsecr >>> 0 };
    return sack ? [NOP, NOP, t, NOP, NOP, { kind: 'sack', blocks: sackBlocks }] : [NOP, NOP, t];
  }
  return sack ? [NOP, NOP, { kind: 'sack', blocks: sackBlocks }] : [];
}

/** Parses the options of a SYN / SYN-ACK (tcp_parse_options) into `r` (every field written), and returns it. */
export function parseSynOptions(opts: readonly TcpOption[], r: SynOptions): SynOptions {
  r.mss = null;
  r.wscale = null;
  r.sackPermitted = false;
  r.ts = false;
  r.tsval = 0;
  r.tsecr = 0;
  if (tcpLayoutOf(opts) === 5) {
    // A SYN's own list (MSS, SACK_PERM, TS, NOP, WS): each record where the layout puts it.
    const m = opts[0] as TcpOption & { kind: 'mss' };
    const t = opts[2] as TsRecord;
    r.mss = m.value;
    r.sackPermitted = true;
    r.ts = true;
    r.tsval = t.tsval;
    r.tsecr = t.tsecr;
    r.wscale = Math.min((opts[4] as TcpOption & { kind: 'wscale' }).shift, 14);
    return r;
  }
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i]!;
    // The shared records first, by identity: every stack's SYNs are built from them, and reading
    // `kind` across the option shapes (four maps on a SYN, more with decoded options) was a
    // polymorphic load per option, ~0.3 % of H1's CPU. Only timestamps (and foreign records) reach the switch.
    if (o === NOP || o === OWN_NOP) continue;
    if (o === SACK_PERMITTED) {
      r.sackPermitted = true;
      continue;
    }
    if (o === lastMss) {
      r.mss = lastMss.value;
      continue;
    }
    switch (o.kind) {
      case 'mss':
        r.mss = o.value;
        break;
      case 'wscale':
        r.wscale = Math.min(o.shift, 14); // RFC 7323 2.3: a shift above 14 is treated as 14
        break;
      case 'sackPermitted':
        r.sackPermitted = true;
        break;
      case 'timestamps':
        r.ts = true;
        r.tsval = o.tsval;
        r.tsecr = o.tsecr;
        break;
      case 'eol':
      case 'nop':
      case 'sack':
      case 'unknown':
        break;
      default: {
        const never: never = o;
        throw new Error(`unknown tcp option ${(never as { kind: string }).kind}`);
      }
    }
  }
  return r;
}

/** Bytes an option list takes on the wire, padded to a multiple of 4 (data offset − 20). */
export function tcpOptionsLength(opts: readonly TcpOption[]): number {
  let n = 0;
  for (const o of opts) {
    switch (o.kind) {
      case 'eol':
      case 'nop':
        n += 1;
        break;
      case 'mss':
        n += 4;
        break;
      case 'wscale':
        n += 3;
        break;
      case 'sackPermitted':
        n += 2;
        break;
      case 'sack':
        n += 2 + 8 * o.blocks.length;
        break;
      case 'timestamps':
        n += 10;
        break;
      case 'unknown':
        n += 2 + o.data.length;
        break;
      default: {
        const never: never = o;
        throw new Error(`unknown tcp option ${(never as { kind: string }).kind}`);
      }
    }
  }
  return (n + 3) & ~3;
}

// net/neighbour-entry — one neighbour entry (struct neighbour) and its times as small integers. Layer: net.
// Split from net/neighbour.ts (the table and its state machine), which re-exports it.
import type { NetDevice } from '../link/device.js';
import type { SimEvent } from '../core/scheduler.js';
import type { Packet } from '../packet/packet.js';
import { macFromParts, macHigh16, macLow32 } from '../wire/mac.js';
import type { Ipv4, Mac } from '../wire/types.js';

export type NeighState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'PERMANENT';

/**
 * NeighState as the small integer an entry holds (NeighEntry.nud), what a send tests: comparing a
 * string field to a state name first checks that the string is internalized, a read of the string
 * object (one more cold line a send in a big cluster). `state` reads and writes the names.
 */
export const NUD_INCOMPLETE = 0;
export const NUD_REACHABLE = 1;
export const NUD_STALE = 2;
export const NUD_DELAY = 3;
export const NUD_PROBE = 4;
export const NUD_FAILED = 5;
export const NUD_PERMANENT = 6;
const NUD_NAMES: readonly NeighState[] = ['INCOMPLETE', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'PERMANENT'];

/** 2^30: an entry's REACHABLE deadline is kept as `untilHi * HI + untilLo`. */
export const HI = 1073741824;
/** 2^23: a hi half at or above it would make hi * 2^30 + lo pass 2^53 (no longer exact). */
const HI_LIMIT = 8388608;
/** Times below 2^52 take confirmAt's path (their hi half is below 2^22). */
const MAX_FAST = 4503599627370496;

/** The hi half (floor(t / 2^30)) of a safe integer t >= 0, or -1 for any other number. */
function splitHi(t: number): number {
  return Number.isSafeInteger(t) && t >= 0 && !Object.is(t, -0) ? Math.floor(t / HI) | 0 : -1;
}

/**
 * One neighbour entry (`ip neigh show`). What a send reads (readyNeighbour and the frame's destination
 * MAC) are small integers in the entry itself: the MAC and the REACHABLE deadline are above 2^31, and
 * on this Node a number field above 2^31 is a heap number of its own, one more cold line a read in a
 * big cluster (each send read three: `confirmed`, `reachableNs` and `mac`).
 */
export class NeighEntry {
  /**
   * `ip | 0`, a small integer: what a lookup compares. `ip` (unsigned, above 2^31 for most addresses) is a
   * double field, a number object of its own: in a big cluster a node's entries are cold when its next
   * packet comes, and comparing `ip` read a second cold line. First among the fields a send reads.
   */
  readonly key: number;
  /**
   * The device: next to `key`, what the table's recent-entry cache compares (NeighbourTable.get); after
   * `ip` it was a second line of the entry, read by every lookup that found the entry there.
   */
  dev: NetDevice;
  /**
   * The `id` of the table holding this entry (NeighbourTable.id), 0 once it left it (or for a listing's
   * copy of a shared entry never looked up): what makes the device's last-entry slot
   * (NetDevice.neighLast) safe to answer from. A small integer, not the table: comparing a pointer
   * field V8 cannot type first loads the pointed-to object's map (its receiver check), and a send would
   * read the table's first line, cold in a big cluster, only for that; the namespace holds its table's
   * id beside the table (Namespace.neighId), on a line the send reads anyway.
   */
  ownerId: number;
  /** The state as its NUD_ code (`state` is its name). */
  nud = 0;
  /**
   * `confirmed + reachableNs` (the first ns REACHABLE no longer holds) as untilHi * 2^30 + untilLo, kept
   * by the two setters; untilHi is -1 when that sum is not an exact integer (readyNeighbour then leaves
   * the entry to output's own comparison).
   */
  untilHi = 0;
  untilLo = 0;
  /**
   * The MAC's high 16 bits and low 32 bits (signed): `mac` reads and writes them. Right after what
   * readyNeighbour reads (key, owner, nud, the deadline): a send reads these too, and further down
   * they were a second line of the entry, missed in the big cluster.
   */
  macHi = 0;
  macLo = 0;
  /**
   * `reachableNs` and `confirmed` as hi * 2^30 + lo, hi -1 when the time is not a safe integer >= 0 (the
   * double fields then answer): confirmEntry (TCP's ACKs, five a request) moves the deadline from these
   * small integers in the entry's own lines, where the doubles are number objects of their own.
   */
  reachHi = -1;
  reachLo = 0;
  confHi = -1;
  confLo = 0;
  ip: Ipv4;
  /** Packets held while INCOMPLETE. */
  queue: Packet[] = [];
  probes = 0;
  timer: SimEvent | null = null;
  /** The exact doubles, read only while the matching hi half is -1 (confirmAt leaves `confirmedNs` behind). */
  private confirmedNs: number = UNSET;
  private reachNs: number = UNSET;

  constructor(ip: Ipv4, ownerId: number, state: NeighState, mac: Mac, dev: NetDevice) {
    this.key = ip | 0;
    this.ownerId = ownerId;
    this.nud = NUD_NAMES.indexOf(state);
    this.ip = ip;
    this.dev = dev;
    this.mac = mac;
  }

  get state(): NeighState {
    return NUD_NAMES[this.nud]!;
  }
  set state(s: NeighState) {
    const n = NUD_NAMES.indexOf(s);
    if (n < 0) throw new Error(`bad neigh state ${String(s)}`);
    this.nud = n;
    this.publish();
  }

  /** The entry left its table (ownerId 0): its device's copy, if it is the device's last entry, no longer answers. */
  leave(): void {
    this.ownerId = 0;
    this.publish();
  }

  /**
   * Copies what a send reads into the device when this is the device's last entry (NetDevice.neighKey …
   * neighMacLo): every setter of what the copy holds calls it, so the copy never lets a send through that
   * readyNeighbour's test of the entry would not. confirmStaged's fast path moves the deadline without it
   * when the deadline moves later (TCP's confirmations, at the clock's now): the copy's older deadline is
   * then earlier, never wrong (readyEntry copies again when a send finds the copy expired and the entry not).
   */
  publish(): void {
    const d = this.dev;
    if (d !== undefined && d.neighLast === this) copyToDevice(d, this);
  }

  get mac(): Mac {
    return macFromParts(this.macHi, this.macLo);
  }
  set mac(m: Mac) {
    this.macHi = macHigh16(m);
    this.macLo = macLow32(m) | 0;
    this.publish();
  }
  /** When the entry last became REACHABLE or was confirmed. */
  get confirmed(): number {
    return this.confHi >= 0 ? this.confHi * HI + this.confLo : this.confirmedNs;
  }
  set confirmed(t: number) {
    this.confirmedNs = t;
    const hi = splitHi(t);
    this.confHi = hi;
    this.confLo = hi >= 0 ? (t - hi * HI) | 0 : 0;
    this.setUntil();
  }
  get reachableNs(): number {
    return this.reachHi >= 0 ? this.reachHi * HI + this.reachLo : this.reachNs;
  }
  set reachableNs(t: number) {
    this.reachNs = t;
    const hi = splitHi(t);
    this.reachHi = hi;
    this.reachLo = hi >= 0 ? (t - hi * HI) | 0 : 0;
    this.setUntil();
  }

  /**
   * `confirmed = now` from the small integers alone (no number object read or written) when `now` and
   * the reachable time are safe integers and their sum is one too (hi below 2^23); else by the setter.
   */
  confirmAt(now: number): void {
    CONFIRM_AT[0] = now;
    this.confirmStaged();
  }

  /**
   * confirmAt of the time written to CONFIRM_AT[0] just before (no other call between): confirmAt is
   * not inlined into its callers, and a time handed to a call is a new heap number (TCP's ACKs).
   */
  confirmStaged(): void {
    const now = CONFIRM_AT[0]!;
    const rh = this.reachHi;
    if (rh >= 0 && now >= 0 && now < MAX_FAST && Math.floor(now) === now) {
      const nh = Math.floor(now / HI) | 0;
      const nl = (now - nh * HI) | 0;
      let hi = nh + rh;
      let lo = nl + this.reachLo;
      if (lo >= HI) {
        lo -= HI;
        hi++;
      }
      if (hi < HI_LIMIT) {
        // An earlier deadline than before (a confirmation dated back: confirmEntry takes any time) is
        // copied to the device; a later one need not be (publish).
        const back = hi < this.untilHi || (hi === this.untilHi && lo < this.untilLo);
        this.confHi = nh;
        this.confLo = nl;
        this.untilHi = hi;
        this.untilLo = lo;
        if (back) this.publish();
        return;
      }
    }
    this.confirmed = now;
  }

  private setUntil(): void {
    const c = this.confirmed;
    const r = this.reachableNs;
    const d = c + r;
    // now - c < r and now < c + r agree when all three are exact integers (times are integer ns).
    if (Number.isSafeInteger(c) && Number.isSafeInteger(r) && Number.isSafeInteger(d) && d >= 0) {
      const hi = Math.floor(d / HI);
      this.untilHi = hi | 0; // (`| 0`: -0 would make the field a heap number)
      this.untilLo = (d - hi * HI) | 0;
    } else {
      this.untilHi = -1;
      this.untilLo = 0;
    }
    this.publish();
  }
}

/** 2^20: a device's copy of its last entry's deadline (NetDevice.neighUntil) counts in these ns. */
export const UNTIL_UNIT = 1048576;
/** The copy's deadline of an entry sent to at any time (2^30 - 1: a small integer with or without pointer compression). */
const UNTIL_ALWAYS = 0x3fffffff;

/**
 * Writes `e` (the device's last entry, NetDevice.neighLast) into `dev`'s copy: what readyNeighbour's
 * test of the entry says, as a time below which the copy answers. PERMANENT, DELAY and PROBE send at
 * any time (up to 2^50 ns, past which the entry is read); REACHABLE until its deadline rounded down to
 * 2^20 ns (the entry answers that last millisecond), capped as the others; any other state, or an
 * inexact deadline, never (0). The deadline is untilHi * 2^30 + untilLo: rounded down it is
 * untilHi * 2^10 + (untilLo >> 20).
 */
export function copyToDevice(dev: NetDevice, e: NeighEntry): void {
  const st = e.nud;
  let until = 0;
  if (((0x58 >> st) & 1) !== 0) until = UNTIL_ALWAYS;
  else if (st === NUD_REACHABLE && e.untilHi >= 0) until = e.untilHi >= 1048576 ? UNTIL_ALWAYS : e.untilHi * 1024 + (e.untilLo >> 20);
  dev.neighKey = e.key;
  dev.neighOwner = e.ownerId;
  dev.neighUntil = until;
  dev.neighMacHi = e.macHi;
  dev.neighMacLo = e.macLo;
}

/**
 * Zero as a double (-0, equal to 0 everywhere but Object.is) for an entry's MAC and times before they
 * are known: a 48-bit MAC and ns times are doubles, and a field that starts as a small integer 0 gets
 * a new hidden class when the first MAC is learned, which discards the optimized code of arpRcv and
 * neighbour output during the ARP exchange.
 */
export const UNSET = -0;

/** neigh_confirm on a known entry: its confirmation time moves to `now` (a permanent entry has none). */
export function confirmEntry(e: NeighEntry, now: number): void {
  if (e.nud !== NUD_PERMANENT) e.confirmAt(now);
}

/** confirmEntry at the clock's now (read here: no time handed to a call). */
export function confirmEntryNow(e: NeighEntry, clock: { readonly now: number }): void {
  if (e.nud !== NUD_PERMANENT) {
    CONFIRM_AT[0] = clock.now;
    e.confirmStaged();
  }
}

/** The time NeighEntry.confirmStaged reads. */
const CONFIRM_AT = new Float64Array(1);

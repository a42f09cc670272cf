// net/neighbour — the ARP neighbour table (net/core/neighbour.c, net/ipv4/arp.c). Layer: net.
// States as Linux names them: INCOMPLETE (resolving, packets held), REACHABLE, STALE (usable,
// unconfirmed), DELAY / PROBE (re-confirming by unicast), FAILED, PERMANENT (static, e.g. flannel's).
// Defaults of /proc/sys/net/ipv4/neigh/default: retrans_time 1 s, mcast_solicit 3 (broadcast requests
// while INCOMPLETE), ucast_solicit 3 (unicast probes in PROBE), delay_first_probe_time 5 s,
// base_reachable_time 30 s (randomised to [0.5, 1.5) × base per entry, as neigh_rand_reach_time).
// Held packets: up to `unresQlen` per entry (Linux bounds by bytes, unres_qlen_bytes; we count packets).
// Upper layers confirm entries (TCP's dst_confirm: `confirm`, and the namespace's held confirmations,
// ConfirmHolder below). Not modelled: gc thresholds; proxy ARP.
import type { Rng } from '../core/rng.js';
import type { Simulator } from '../core/simulator.js';
import type { NetDevice } from '../link/device.js';
import type { Packet } from '../packet/packet.js';
import type { Ipv4, Mac } from '../wire/types.js';
import { confirmEntry, confirmEntryNow, copyToDevice, HI as HI_IMPORTED, NeighEntry, NUD_DELAY, NUD_PERMANENT, NUD_PROBE, NUD_REACHABLE, UNSET, UNTIL_UNIT as UNTIL_UNIT_IMPORTED } from './neighbour-entry.js';

export { confirmEntry, confirmEntryNow, HI, NeighEntry, type NeighState, UNTIL_UNIT } from './neighbour-entry.js';
// What readyNeighbour reads of neighbour-entry, as module constants: V8's optimized code reads an
// imported binding from its module cell at each use, a line of its own; a constant is folded into the
// code (bench/README.md, session 37: s37-l2).
const HI = HI_IMPORTED;
const UNTIL_UNIT = UNTIL_UNIT_IMPORTED;
// readyNeighbour's states as numbers (a module constant's use is a load and a hole check in bytecode, which counts against
// the inlining budget of ipFinishOutput, where sendTo must fit too): PERMANENT 6, DELAY 3 and PROBE 4 as the bits of
// SEND_AS_IS (0x58), REACHABLE 1. Checked here.
if (NUD_PERMANENT !== 6 || NUD_DELAY !== 3 || NUD_PROBE !== 4 || NUD_REACHABLE !== 1) throw new Error('neighbour: NUD numbers changed');

/** Tunables (net.ipv4.neigh.DEV.*). */
export interface NeighParams {
  retransNs: number;
  mcastSolicit: number;
  ucastSolicit: number;
  delayFirstProbeNs: number;
  baseReachableNs: number;
  unresQlen: number;
}

export const DEFAULT_NEIGH_PARAMS: NeighParams = {
  retransNs: 1e9,
  mcastSolicit: 3,
  ucastSolicit: 3,
  delayFirstProbeNs: 5e9,
  baseReachableNs: 30e9,
  unresQlen: 101,
};

/** What the table needs from its namespace: sending ARP and reporting failures. */
export interface NeighOwner {
  /** Sends an ARP request for `ip` on `dev`; `unicastTo` is the known MAC for a probe, or null to broadcast. */
  arpSolicit(dev: NetDevice, ip: Ipv4, unicastTo: Mac | null, trigger: Packet | null): void;
  /** Sends a resolved packet (eth header to be filled with `mac`). */
  neighSend(dev: NetDevice, mac: Mac, pkt: Packet): void;
  /** Resolution failed for these held packets (arp_error_report → ICMP host unreachable). */
  neighFailed(dev: NetDevice, pkt: Packet): void;
  /** A held packet was dropped because the queue was full. */
  neighQueueFull(dev: NetDevice, pkt: Packet): void;
}

/**
 * An owner that holds TCP's confirmations of its last confirmed entry back (the namespace: net/arp.ts
 * confirmNeighbour): the entry and the time of the latest confirmation not yet applied to it, as
 * hi * 2^30 + lo in two small integers (hi -1: none). A confirmation's time is always the clock's now, so
 * the latest one is the only one that counts. The table applies it (settleConfirm) before anything
 * reads or changes an entry (its methods, readyEntry) and forgets the entry when it leaves the table
 * (confirmLast null): each TCP ACK's confirmation then writes two fields of the namespace, read on the
 * same line, not the entry's two lines (cold in a big cluster: a server pod's entry for its gateway).
 */
export interface ConfirmHolder {
  confirmLast: NeighEntry | null;
  confirmPendHi: number;
  confirmPendLo: number;
}

/** Applies `h`'s held confirmation, if any, to its entry (confirmEntry at that time, as it would have run then). */
export function settleConfirm(h: ConfirmHolder): void {
  const hi = h.confirmPendHi;
  if (hi < 0) return;
  h.confirmPendHi = -1;
  const e = h.confirmLast;
  if (e !== null) confirmEntry(e, hi * HI + h.confirmPendLo);
}

/**
 * Permanent neighbours many namespaces hold alike, built once (flanneld's `ip neigh replace
 * 10.244.X.0 lladdr MAC dev flannel.1 nud permanent` for every other node): IPv4 → MAC, in the order
 * added. A table bound to the set (`NeighbourTable.bindShared`) holds a PERMANENT entry on its device
 * for each but the excluded one, made as an object only when first looked up.
 */
export class SharedNeighbours {
  readonly byIp = new Map<Ipv4, Mac>();

  /** Adds `ip` → `mac`; false (nothing added) when `ip` is already in the set. */
  add(ip: Ipv4, mac: Mac): boolean {
    if (this.byIp.has(ip)) return false;
    this.byIp.set(ip, mac);
    return true;
  }
}


/** Slots of a neighbour table's recent-entry cache when it is made (direct-mapped by device and address). */
const RECENT_SLOTS = 4;
/** The most slots it grows to (a node sending to the flannel gateways of hundreds of nodes). */
const RECENT_MAX_SLOTS = 1024;
/** Lookups between two reviews of the cache's conflict rate. */
const RECENT_REVIEW = 4096;

/**
 * Entries a table found lately, by (device, address): a slot holds the entry itself, whose own `ip`
 * and `dev` say whether it answers a lookup (one array read, not three: a node's table is cold when
 * one of a thousand nodes gets its next packet). A cache whose lookups keep evicting each other (more
 * than 1 in 16 of RECENT_REVIEW lookups a conflict) gets four times the slots, up to
 * RECENT_MAX_SLOTS; it holds only entries of the table, so its size changes no answer.
 */
class RecentNeigh {
  /** 32 - log2(slots). */
  shift = 0;
  entries: (NeighEntry | null)[] = NO_ENTRIES;
  /** Lookups since the last review (counted modulo RECENT_REVIEW) and conflict misses since then. */
  lookups = 0;
  conflicts = 0;

  constructor() {
    // Sized by the same method as grow(): V8 treats a field stored only once as a constant that
    // optimized code may rely on, and the first cache to grow mid-run would then discard the code of
    // every function that inlined a lookup (arpRcv, neighbour output). Written twice here, `shift`
    // and `entries` are ordinary fields from the first table on.
    this.size(RECENT_SLOTS);
  }

  slot(dev: NetDevice, ip: Ipv4): number {
    return Math.imul(ip ^ dev.ifindex, 0x9e3779b1) >>> this.shift;
  }

  /**
   * Counts a lookup; every RECENT_REVIEW lookups the conflict count starts again. Without a branch:
   * a store only the 4096th lookup makes would have no type feedback when the hot path is
   * optimized, and reaching it would discard that code.
   */
  count(): void {
    const n = (this.lookups + 1) & (RECENT_REVIEW - 1);
    this.lookups = n;
    this.conflicts = n === 0 ? 0 : this.conflicts;
  }

  /** Keeps `e` in its slot; the cache grows first when too many lookups found another entry there. */
  put(e: NeighEntry): void {
    let i = this.slot(e.dev, e.ip);
    if (this.entries[i] !== null && ++this.conflicts * 16 > RECENT_REVIEW && this.entries.length < RECENT_MAX_SLOTS) {
      this.grow();
      i = this.slot(e.dev, e.ip);
    }
    this.entries[i] = e;
  }

  /** `n` empty slots (n a power of two). */
  private size(n: number): void {
    this.shift = 32 - Math.log2(n);
    this.entries = new Array<NeighEntry | null>(n).fill(null);
  }

  /** Four times the slots, the entries moved to their new slots. */
  private grow(): void {
    const entries = this.entries;
    this.size(entries.length * 4);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e !== null) this.entries[this.slot(e.dev, e.ip)] = e;
    }
    this.lookups = 0;
    this.conflicts = 0;
  }
}

/** The initial value of RecentNeigh.entries, replaced in its constructor. */
const NO_ENTRIES: (NeighEntry | null)[] = [];

/** The id the next table takes (NeighbourTable.id): 1 up, 0 is "no table" in an entry's ownerId. */
let nextTableId = 1;

/** Per-namespace neighbour table keyed by (device, IPv4). */
export class NeighbourTable {
  /** This table's number, what its entries hold as their ownerId (a small integer: no two tables share one). */
  readonly id = nextTableId++;
  private readonly entries = new Map<number, NeighEntry>();
  params: NeighParams = { ...DEFAULT_NEIGH_PARAMS };
  /** The shared set this table is bound to, on which device, excluding which address. */
  private shared: SharedNeighbours | null = null;
  private sharedDev: NetDevice | null = null;
  private sharedSelf = -1;
  /** Shared entries made into objects (first lookup), by address. */
  private sharedMade: Map<Ipv4, NeighEntry> | null = null;
  /** Shared entries deleted from this table. */
  private sharedGone: Set<Ipv4> | null = null;
  /** Keys of the entries that were in the table when it was bound (listed before the shared ones). */
  private preShared: Set<number> | null = null;
  /** Entries found lately (made on first use, dropped whenever an entry leaves the table). */
  private recent: RecentNeigh | null = null;
  /** The owner when it holds confirmations back (ConfirmHolder), else null. */
  private readonly holder: ConfirmHolder | null;

  constructor(
    private readonly sim: Simulator,
    private readonly owner: NeighOwner,
    /** The table's random stream (reachable-time draws), or a function giving it on first use (most pods never draw). */
    private rng: Rng | (() => Rng),
  ) {
    this.holder = 'confirmPendHi' in owner ? (owner as unknown as ConfirmHolder) : null;
  }

  /** Applies the owner's held confirmation (ConfirmHolder) before an entry is read or changed. */
  settle(): void {
    const h = this.holder;
    if (h !== null && h.confirmPendHi >= 0) settleConfirm(h);
  }

  private static key(dev: NetDevice, ip: Ipv4): number {
    return dev.ifindex * 4294967296 + ip;
  }

  /** Slots of the recent-entry cache (0 when there is none): it grows when lookups keep evicting each other. */
  get recentSlots(): number {
    return this.recent === null ? 0 : this.recent.entries.length;
  }

  /** The entry for (dev, ip), if any, the owner's held confirmation applied first (settle); the lookup itself, `find`, is private. */
  get(dev: NetDevice, ip: Ipv4): NeighEntry | undefined {
    this.settle();
    return this.find(dev, ip);
  }

  /** get without settling: only for callers that settled just before (the device's copy is made from what it finds). */
  private find(dev: NetDevice, ip: Ipv4): NeighEntry | undefined {
    // The device's last entry first: an entry there is on `dev` (only get and create put one there),
    // and while its owner is this table it is the table's entry for (dev, ip) if its `ip` is. Its key
    // and owner as the device's copy has them (NetDevice.neighKey/neighOwner, equal to the entry's while
    // it is there, 0 owner while there is none): the entry itself is not read when it is another's.
    if (dev.neighKey === (ip | 0) && dev.neighOwner === this.id) return dev.neighLast as NeighEntry;
    // Then the recent-entry cache: the (device, address) key is a double, and a Map lookup by it
    // boxes the number; a namespace sends to a handful of next hops.
    let c = this.recent;
    if (c !== null) {
      const i = c.slot(dev, ip);
      c.count();
      const r = c.entries[i]!;
      if (r !== null && r.key === (ip | 0) && r.dev === dev) {
        // On change only: a pointer stored into an old object is a write barrier (two page headers read).
        if (dev.neighLast !== r) {
          dev.neighLast = r;
          copyToDevice(dev, r); // (settled: find's callers settle first)
        }
        return r;
      }
    }
    let e = this.entries.get(NeighbourTable.key(dev, ip));
    if (e === undefined && this.shared !== null && dev === this.sharedDev) e = this.sharedGet(ip);
    if (e === undefined) return undefined;
    if (c === null) c = this.recent = new RecentNeigh();
    c.put(e);
    if (dev.neighLast !== e) {
      dev.neighLast = e;
      copyToDevice(dev, e);
    }
    return e;
  }

  /**
   * Binds the table to `shared`: from now on it holds, as if added at this point in this order, a
   * PERMANENT entry on `dev` for every address of the set but `self`. False (nothing bound) when the
   * table is bound already or already holds one of those entries.
   */
  bindShared(shared: SharedNeighbours, dev: NetDevice, self: Ipv4 | -1): boolean {
    if (this.shared !== null) return false;
    if (this.entries.size > 0) {
      // An entry the set would replace in place (ip neigh replace) keeps its own place: not bound then.
      for (const ip of shared.byIp.keys()) if (ip !== self && this.entries.has(NeighbourTable.key(dev, ip))) return false;
    }
    this.shared = shared;
    this.sharedDev = dev;
    this.sharedSelf = self;
    this.preShared = this.entries.size > 0 ? new Set(this.entries.keys()) : null;
    return true;
  }

  /** The shared entry for `ip` (on the shared device), made on first use; undefined when excluded, deleted or absent. */
  private sharedGet(ip: Ipv4): NeighEntry | undefined {
    const made = this.sharedMade?.get(ip);
    if (made !== undefined) return made;
    const mac = this.shared!.byIp.get(ip);
    if (mac === undefined || ip === this.sharedSelf || this.sharedGone?.has(ip)) return undefined;
    const e = permanentEntry(this.sharedDev!, ip, mac, this.id);
    (this.sharedMade ??= new Map()).set(ip, e);
    return e;
  }

  /** Forgets a key of `entries` that is being deleted (for the listing order) and its entry `e`, if any. */
  private forget(k: number, e: NeighEntry | undefined): void {
    if (e !== undefined) this.left(e);
    this.recent = null;
    this.preShared?.delete(k);
    this.entries.delete(k);
  }

  /** `e` leaves the table (settled before: the callers settle first): the owner no longer holds confirmations of it. */
  private left(e: NeighEntry): void {
    const h = this.holder;
    if (h !== null && h.confirmLast === e) h.confirmLast = null;
    e.leave();
  }

  /** neigh_confirm: an upper layer confirmed the neighbour is reachable (n->confirmed = now); the entry, if any. */
  confirm(dev: NetDevice, ip: Ipv4): NeighEntry | undefined {
    this.settle();
    const e = this.find(dev, ip);
    if (e !== undefined) confirmEntryNow(e, this.sim);
    return e;
  }

  /** NUD_CONNECTED (PERMANENT, or REACHABLE within its reachable time): usable without going through output's state machine. */
  connected(e: NeighEntry): boolean {
    this.settle();
    return e.state === 'PERMANENT' || (e.state === 'REACHABLE' && this.sim.now - e.confirmed < e.reachableNs);
  }

  /** All entries in insertion order (`ip neigh show`). */
  all(): NeighEntry[] {
    this.settle();
    const shared = this.shared;
    if (shared === null) return [...this.entries.values()];
    const out: NeighEntry[] = [];
    const pre = this.preShared;
    if (pre !== null) for (const [k, e] of this.entries) if (pre.has(k)) out.push(e);
    const dev = this.sharedDev!;
    for (const [ip, mac] of shared.byIp) {
      if (ip === this.sharedSelf || this.sharedGone?.has(ip)) continue;
      out.push(this.sharedMade?.get(ip) ?? permanentEntry(dev, ip, mac, 0));
    }
    for (const [k, e] of this.entries) if (pre === null || !pre.has(k)) out.push(e);
    return out;
  }

  /** `ip neigh replace IP lladdr MAC dev DEV nud permanent`. */
  addPermanent(dev: NetDevice, ip: Ipv4, mac: Mac): void {
    this.settle();
    const e = this.create(dev, ip);
    if (e.timer) e.timer.cancel();
    e.timer = null;
    e.mac = mac;
    e.state = 'PERMANENT';
    this.flush(e);
  }

  /**
   * neigh_carrier_down (arp_netdev_event on NETDEV_CHANGE without carrier): every entry on `dev` but
   * the permanent ones is flushed, its timer stopped and the packets it held dropped (no ICMP: the
   * queue is purged, not failed). Returns how many entries went.
   */
  carrierDown(dev: NetDevice): number {
    this.settle();
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.dev !== dev || e.state === 'PERMANENT') continue;
      if (e.timer) e.timer.cancel();
      for (const p of e.queue) this.owner.neighQueueFull(dev, p);
      this.forget(k, e);
      n++;
    }
    return n;
  }

  /** Removes an entry (`ip neigh del`). */
  delete(dev: NetDevice, ip: Ipv4): void {
    this.settle();
    const k = NeighbourTable.key(dev, ip);
    const e = this.entries.get(k);
    if (e === undefined && this.shared !== null && dev === this.sharedDev) {
      const s = this.sharedGet(ip);
      if (s !== undefined) {
        if (s.timer) s.timer.cancel();
        this.left(s);
        this.recent = null;
        this.sharedMade!.delete(ip);
        (this.sharedGone ??= new Set()).add(ip);
      }
      return;
    }
    if (e?.timer) e.timer.cancel();
    this.forget(k, e);
  }

  private create(dev: NetDevice, ip: Ipv4): NeighEntry {
    let e = this.find(dev, ip);
    if (e === undefined) {
      e = new NeighEntry(ip, this.id, 'FAILED', UNSET, dev);
      this.entries.set(NeighbourTable.key(dev, ip), e);
      dev.neighLast = e;
      copyToDevice(dev, e);
    }
    return e;
  }

  private randReach(): number {
    const b = this.params.baseReachableNs;
    if (typeof this.rng === 'function') this.rng = this.rng();
    return Math.round(b / 2 + this.rng.next() * b);
  }

  /** neigh_output: sends `pkt` to next hop `ip` on `dev`, resolving first when needed. */
  output(dev: NetDevice, ip: Ipv4, pkt: Packet): void {
    this.settle();
    const e = this.find(dev, ip);
    const now = this.sim.now;
    if (e !== undefined) {
      switch (e.state) {
        case 'PERMANENT':
        case 'DELAY':
        case 'PROBE':
          this.owner.neighSend(dev, e.mac, pkt);
          return;
        case 'REACHABLE':
          if (now - e.confirmed < e.reachableNs) {
            this.owner.neighSend(dev, e.mac, pkt);
            return;
          }
          e.state = 'STALE';
          this.startDelay(e);
          this.owner.neighSend(dev, e.mac, pkt);
          return;
        case 'STALE':
          this.startDelay(e);
          this.owner.neighSend(dev, e.mac, pkt);
          return;
        case 'INCOMPLETE':
          this.enqueue(e, pkt);
          return;
        case 'FAILED':
          break;
        default: {
          const never: never = e.state;
          throw new Error(`bad neigh state ${String(never)}`);
        }
      }
    }
    const n = e ?? this.create(dev, ip);
    n.state = 'INCOMPLETE';
    n.probes = 0;
    this.enqueue(n, pkt);
    this.solicit(n, pkt);
  }

  private enqueue(e: NeighEntry, pkt: Packet): void {
    if (e.queue.length >= this.params.unresQlen) {
      // __neigh_event_send drops the oldest held packet to make room.
      const old = e.queue.shift()!;
      this.owner.neighQueueFull(e.dev, old);
    }
    e.queue.push(pkt);
  }

  private solicit(e: NeighEntry, trigger: Packet | null): void {
    e.probes++;
    this.owner.arpSolicit(e.dev, e.ip, e.state === 'PROBE' ? e.mac : null, trigger);
    e.timer = this.sim.schedule(this.params.retransNs, neighTimer, this, e);
  }

  private startDelay(e: NeighEntry): void {
    e.state = 'DELAY';
    e.timer = this.sim.schedule(this.params.delayFirstProbeNs, neighTimer, this, e);
  }

  /** neigh_timer_handler. */
  timer(e: NeighEntry): void {
    this.settle();
    e.timer = null;
    const p = this.params;
    switch (e.state) {
      case 'INCOMPLETE':
        if (e.probes >= p.mcastSolicit) return this.fail(e);
        return this.solicit(e, e.queue[0] ?? null);
      case 'DELAY':
        // Confirmed (neigh_confirm, or a reply) since the delay began: REACHABLE again, no probe.
        if (this.sim.now - e.confirmed <= p.delayFirstProbeNs) {
          e.state = 'REACHABLE';
          e.reachableNs = this.randReach();
          return;
        }
        e.state = 'PROBE';
        e.probes = 0;
        return this.solicit(e, null);
      case 'PROBE':
        if (e.probes >= p.ucastSolicit) return this.fail(e);
        return this.solicit(e, null);
      default:
        return;
    }
  }

  private fail(e: NeighEntry): void {
    e.state = 'FAILED';
    const q = e.queue;
    e.queue = [];
    for (const pkt of q) this.owner.neighFailed(e.dev, pkt);
  }

  /**
   * neigh_update from a received ARP: `reply` (or an ARP for us) makes the entry REACHABLE; `create`
   * makes an entry for the sender of a request addressed to us (STALE), as arp_process does.
   */
  update(dev: NetDevice, ip: Ipv4, mac: Mac, how: 'reply' | 'request-for-us' | 'other'): void {
    this.settle();
    let e = this.find(dev, ip);
    if (e === undefined) {
      if (how !== 'request-for-us') return;
      e = this.create(dev, ip);
      e.mac = mac;
      e.state = 'STALE';
      return;
    }
    if (e.state === 'PERMANENT') return;
    if (how === 'reply' || e.state === 'INCOMPLETE') {
      if (e.timer) e.timer.cancel();
      e.timer = null;
      e.mac = mac;
      e.state = 'REACHABLE';
      e.confirmed = this.sim.now;
      e.reachableNs = this.randReach();
      this.flush(e);
      return;
    }
    if (e.mac !== mac) {
      // A different lladdr for a known neighbour: override, unconfirmed.
      e.mac = mac;
      if (e.state !== 'DELAY' && e.state !== 'PROBE') e.state = 'STALE';
    }
  }

  private flush(e: NeighEntry): void {
    const q = e.queue;
    e.queue = [];
    for (const pkt of q) this.owner.neighSend(e.dev, e.mac, pkt);
  }
}

function permanentEntry(dev: NetDevice, ip: Ipv4, mac: Mac, ownerId: number): NeighEntry {
  return new NeighEntry(ip, ownerId, 'PERMANENT', mac, dev);
}

/**
 * The entry `table.output(dev, ip, …)` would send by at once and leave as it is (PERMANENT, DELAY,
 * PROBE, or REACHABLE within its reachable time); null when there is none or the entry needs output's
 * state machine (the caller then calls output). A ready entry is the device's last one, and the device's
 * copy of it (NetDevice.neighKey …) is current: the caller sends by the copy's MAC halves (neighSendLast).
 * The copy first: it reads only the device, which the caller holds, not the entry nor the table (in a
 * thousand-node cluster a node's table and entries are seldom in cache when its next packet comes). Then
 * the device's last entry itself and the table's lookup (`get`, which output would make anyway):
 * flannel.1 toward the other nodes' VTEPs, eth0 toward their addresses and cni0 toward its pods miss
 * the device's last entry ~6 times a request, and the entry found then is sent by its copy's MAC halves
 * instead of through output's switch and the owner's send of a 48-bit number. The clock
 * is the device's (one simulator per world). `tableId` is `table.id`, handed in from where the caller
 * keeps it (Namespace.neighId): reading it from the table would read the table. ip_finish_output2
 * (net/ip-output.ts) writes it out.
 */
export function readyNeighbour(table: NeighbourTable, tableId: number, dev: NetDevice, ip: Ipv4): NeighEntry | null {
  // The device's copy of its last entry (NetDevice.neighKey …): no line of the entry read. The entry's
  // pointer is the device's (neighLast: the copy is of it), not dereferenced here.
  if (dev.neighKey === (ip | 0) && dev.neighOwner === tableId && dev.sim.now < dev.neighUntil * UNTIL_UNIT) return dev.neighLast as NeighEntry;
  return readyEntry(table, tableId, dev, ip);
}

/**
 * readyNeighbour from the entry itself, when the device's copy did not answer (another next hop, or a
 * deadline the copy has not caught up with): a sendable entry is then the device's last one (get puts
 * it there and copies it), its copy current, so that the caller may send by the copy's MAC.
 */
export function readyEntry(table: NeighbourTable, tableId: number, dev: NetDevice, ip: Ipv4): NeighEntry | null {
  // (the device's last entry by its copy's key and owner, as get does: not read when it is another's;
  // an entry get finds is a new last entry of the device, and get has copied it)
  const last = dev.neighKey === (ip | 0) && dev.neighOwner === tableId;
  if (last) table.settle();
  const e = last ? (dev.neighLast as NeighEntry) : table.get(dev, ip); // (get settles first)
  if (e === undefined) return null;
  const st = e.nud;
  // PERMANENT, DELAY or PROBE (the numbers: checked at load, above); or REACHABLE, within its time
  if (((0x58 >> st) & 1) !== 0 || (st === 1 && e.untilHi >= 0 && dev.sim.now < e.untilHi * HI + e.untilLo)) {
    if (last) copyToDevice(dev, e); // (the copy's deadline behind the entry's: confirmations since)
    return e;
  }
  return null;
}

function neighTimer(t: NeighbourTable, e: NeighEntry): void {
  t.timer(e);
}

// link/bridge — a Linux software bridge (net/bridge/br_input.c, br_forward.c, br_fdb.c). Layer: link.
// Ports are enslaved devices; frames arriving on a port update the forwarding database (source MAC →
// port, aged out after `ageingTimeNs`, 300 s by default) and are then delivered up to the bridge's own
// interface (destination = the bridge's MAC or a port's MAC, broadcast, multicast), forwarded to the
// one port the FDB names, or flooded to every other port (broadcast, multicast, unknown unicast).
// The bridge device itself is an interface of its namespace (cni0, docker0): what the host sends out
// of it is looked up in the FDB the same way.
// A port with hairpin_mode on (NetDevice.hairpinMode; the CNI bridge plugin's hairpinMode, which
// flannel's CNI config turns on) may get a frame back out of the port it came in on: a flooded
// broadcast (its own ARP request), a unicast to a MAC learned on that port, a bridged-DNAT frame to
// itself (br_forward.c should_deliver).
// Not modelled: STP (ports forward at once, as with `stp_state 0`), VLAN filtering, multicast
// snooping (multicast is flooded), port isolation.
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import { traceEverSubscribed as traceEverSubscribedImported } from '../core/trace.js';
import { skbLength as skbLengthImported } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import type { EthernetHeader, Mac } from '../wire/types.js';
import { NetDevice, type PortMaster } from './device.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const traceEverSubscribed = traceEverSubscribedImported;
const skbLength = skbLengthImported;

/** An FDB entry (`bridge fdb show`). `local` entries are the ports' own MACs and never age. */
export interface FdbEntry {
  mac: Mac;
  port: NetDevice;
  local: boolean;
  /** Last time a frame from this MAC was seen, ns. */
  readonly updated: TimeNs;
}

/**
 * A BridgeDevice's FDB entry as `fdb` holds it: the bridge's slot table has its port and last-seen
 * time (what a frame reads and writes); this object is what `fdb` readers get.
 */
class BridgeFdbEntry implements FdbEntry {
  constructor(
    private readonly br: BridgeDevice,
    readonly mac: Mac,
    public port: NetDevice,
    readonly local: boolean,
    /** The last-seen time when the entry left the FDB (the table's while it is in). */
    public seen: TimeNs,
  ) {}
  get updated(): TimeNs {
    return this.br.fdbSeen(this);
  }
}
/**
 * br_netfilter: called for IP frames entering the bridge when bridge-nf-call-iptables is on. With an
 * `outPort` (a frame bridged between two ports) the bridge's namespace runs PREROUTING, FORWARD and
 * POSTROUTING on it; with `outPort` null (a frame for the bridge itself, about to go up) only
 * PREROUTING, which the IP layer then does not run again. Returns false when the bridge must not go
 * on with the frame (dropped, or routed instead after DNAT). Implemented by net/; null without
 * br_netfilter.
 */
export type BridgeNetfilter = (bridge: BridgeDevice, inPort: NetDevice, outPort: NetDevice | null, pkt: Packet) => boolean;

/**
 * A BridgeNetfilter's object form (net/'s Namespace): the bridge calls its method, where the function
 * is a closure, two more objects to fetch per IP frame (the function and the context holding its
 * namespace), each cold on a node of a thousand.
 */
export interface BridgeNetfilterTarget {
  bridgeNetfilter(bridge: BridgeDevice, inPort: NetDevice, outPort: NetDevice | null, pkt: Packet): boolean;
}

/** A bridged-DNAT frame waiting for its neighbour (Packet.nfBridge): the bridge holding it, its ingress port, its source MAC. */
interface BridgedDnatHeld {
  bridge: BridgeDevice;
  inPort: NetDevice;
  src: Mac;
}

/** The fewest slots of a bridge's FDB table (a power of two; at least twice as many as entries). */
const FDB_MIN_SLOTS = 16;
/**
 * A slot's elements, small integers but the port: the MAC's low 32 bits (signed) and high 16 bits (-1:
 * an empty slot), the port (the device itself; null for a local entry), the last-seen time as
 * `seenHi * 2^30 + seenLo` (seenLo a fraction only if the clock ever is one).
 */
const SLOT = 5;
const S_LO = 0;
const S_HI = 1;
const S_PORT = 2;
const S_SEEN_HI = 3;
const S_SEEN_LO = 4;
/** An FDB table element (see SLOT). */
type Slot = number | NetDevice | null;

/**
 * An empty FDB table of `slots` slots, built by push so that its elements are packed (tagged: the port
 * is a reference; the numbers are small integers, no number objects). Not a Float64Array: a typed
 * array's header is 80 bytes (its length and data pointers straddle two lines half the time), an
 * array's 32, and a frame reads it on a cold bridge.
 */
function emptyTable(slots: number): Slot[] {
  const tab: Slot[] = [];
  for (let i = 0; i < slots; i++) tab.push(0, -1, null, 0, 0);
  return tab;
}

/** A learning bridge and its own interface. */
export class BridgeDevice extends NetDevice implements PortMaster {
  // What a frame reads of the bridge comes first, together: the table and its shift, then what a frame
  // for the host reads (br_netfilter's object form, its counter), then what a forwarded one does (the
  // ageing time, the function form, the other counters). NetDevice's fields fill the object's first
  // 0x100 bytes: a frame up to the host reads 32 bytes from there, one line mostly.
  /**
   * The FDB as an open-addressing table (linear probing) of SLOT elements a MAC: the MAC's halves, the
   * port, last seen. A frame's learning and lookup read one slot (a line, sometimes two) and no entry
   * object: a Map lookup by a 48-bit MAC hashes a boxed number and reads boxed keys, and an entry
   * object with its boxed time is two more cold lines on a switch of a thousand ports. The slot holds
   * the port itself: a forward reads the slot, then the port it sends from (a port number and a list
   * of ports were two more lines, the list's header and its element, ~1.1 LL misses a request in the
   * big cluster's cni0). `fdb` mirrors it (the entries, in the kernel's listing order) for readers;
   * both change only here.
   */
  private tab: Slot[] = emptyTable(FDB_MIN_SLOTS);
  private tabShift = 32 - Math.log2(FDB_MIN_SLOTS);
  /** The object form of `nfFn` (the same hook), set only with it by setNetfilter; null once `netfilter` is set. */
  private nfTarget: BridgeNetfilterTarget | null = null;
  /** `counters`, as fields of the bridge: a record of their own was one more cold line a frame. */
  private nLocal = 0;
  /**
   * ageingTimeNs as ageHi * 2^30 + ageLo, both small integers (a time as a field is a heap number of
   * its own, one more cold line a frame); ageHi -1 when the time is not such an integer (then ageNs is
   * read).
   */
  private ageHi = 0;
  private ageLo = 0;
  private nfFn: BridgeNetfilter | null = null;
  private nForwarded = 0;
  private nFlooded = 0;
  private nFiltered = 0;
  readonly kind = 'bridge';
  readonly ports: NetDevice[] = [];
  readonly fdb = new Map<Mac, FdbEntry>();
  private ageNs: TimeNs = 0;
  /** How long a learned entry lives since its MAC was last seen (the bridge's ageing_time, 300 s by default). */
  get ageingTimeNs(): TimeNs {
    return this.ageNs;
  }
  set ageingTimeNs(t: TimeNs) {
    this.ageNs = t;
    const hi = Math.floor(t / 1073741824);
    const lo = t - hi * 1073741824;
    const split = Number.isInteger(t) && t >= 0 && hi <= 0x3fffffff;
    this.ageHi = split ? hi : -1;
    this.ageLo = split ? lo | 0 : 0; // (| 0: a small integer, not a double field)
  }
  /**
   * ageingTimeNs, from the split halves when it can be. portReceive and xmit write this expression out:
   * V8 did not inline this call there, and a double returned from a call is a new heap number each time.
   */
  private age(): TimeNs {
    return this.ageHi >= 0 ? this.ageHi * 1073741824 + this.ageLo : this.ageNs;
  }
  /** Set by net/ when bridge-nf-call-iptables=1 applies to this bridge (setNetfilter); setting it here replaces that hook. */
  get netfilter(): BridgeNetfilter | null {
    return this.nfFn;
  }
  set netfilter(fn: BridgeNetfilter | null) {
    this.nfFn = fn;
    this.nfTarget = null;
  }
  /** Installs a namespace's br_netfilter: `fn` (what `netfilter` reads) and `target`, which must do what `fn` does (as NetDevice.setReceiver). */
  setNetfilter(target: BridgeNetfilterTarget, fn: BridgeNetfilter): void {
    this.nfFn = fn;
    this.nfTarget = target;
  }
  /** Frames forwarded to one port, flooded, passed up to the bridge interface, filtered (a copy: the fields are the counters). */
  get counters(): Readonly<{ forwarded: number; flooded: number; local: number; filtered: number }> {
    return { forwarded: this.nForwarded, flooded: this.nFlooded, local: this.nLocal, filtered: this.nFiltered };
  }
  /** The port list of the last flood (of this bridge's ports only), for the next; null while one runs. */
  private floodOut: NetDevice[] | null = null;

  constructor(sim: Simulator, name: string, mac: Mac, mtu = 1500) {
    super(sim, name, mac, mtu);
    this.ageingTimeNs = 300e9;
    // The bridge's own address is a local entry too (br_fdb_change_mac_address): frames to it go up.
    this.setEntry(mac, this, true, 0);
  }

  /** `ip link set PORT master BRIDGE`: the port's MAC becomes a local FDB entry. */
  addPort(port: NetDevice): void {
    port.master = this;
    this.ports.push(port);
    this.setEntry(port.mac, port, true, this.sim.now); // (replaces an entry learned for that MAC)
  }

  /** Removes a port and its learned entries. */
  removePort(port: NetDevice): void {
    const i = this.ports.indexOf(port);
    if (i >= 0) this.ports.splice(i, 1);
    port.master = null;
    for (const [mac, e] of this.fdb) if (e.port === port) this.remove(mac);
  }

  /**
   * The home slot's offset of a MAC by its halves (a Fibonacci hash). A method, not a module function:
   * a call to a module function, inlined, first loads it from the module's context to check it (a line
   * that misses on a cold bridge); a method is known by the bridge's map.
   */
  private home(lo: number, hi: number): number {
    return (Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.tabShift) * SLOT;
  }

  /** The offset of a MAC's slot, -1 when it has no entry. */
  private find(mac: Mac): number {
    const lo = mac | 0;
    const hi = (mac / 4294967296) | 0;
    const tab = this.tab;
    const n = tab.length;
    for (let o = this.home(lo, hi); ; ) {
      const h = tab[o + S_HI];
      if (h === hi && tab[o] === lo) return o;
      if (h === -1) return -1; // (an empty slot ends the run)
      o += SLOT;
      if (o === n) o = 0;
    }
  }

  /** The MAC of the entry at slot offset `o`. */
  private macAt(o: number): Mac {
    return (this.tab[o + S_HI] as number) * 4294967296 + ((this.tab[o + S_LO] as number) >>> 0);
  }

  /** The last-seen time of the entry at slot offset `o`. */
  private seenAt(o: number): TimeNs {
    return (this.tab[o + S_SEEN_HI] as number) * 1073741824 + (this.tab[o + S_SEEN_LO] as number);
  }

  /** Sets the last-seen time of the entry at slot offset `o` (its two halves: see SLOT). */
  private setSeen(o: number, t: TimeNs): void {
    const hi = (t / 1073741824) | 0; // (the clock is never negative: truncation is the floor)
    this.tab[o + S_SEEN_HI] = hi;
    this.tab[o + S_SEEN_LO] = t - hi * 1073741824;
  }

  /** The slot of a frame's unicast destination, honouring ageing (an aged entry leaves); -1 when unknown. */
  private dstSlot(eth: EthernetHeader): number {
    const tab = this.tab;
    const o = this.find(eth.dst);
    if (o >= 0 && tab[o + S_PORT] !== null && this.sim.now - this.seenAt(o) > this.age()) {
      this.remove(this.macAt(o));
      return -1;
    }
    return o;
  }

  /** Adds or replaces (in place in `fdb`'s order, as Map.set does) the entry of `mac`. */
  private setEntry(mac: Mac, port: NetDevice, local: boolean, seen: TimeNs): void {
    let o = this.find(mac);
    if (o < 0) {
      if ((this.fdb.size + 1) * 2 > this.tab.length / SLOT) this.grow();
      const tab = this.tab;
      const n = tab.length;
      const lo = mac | 0;
      const hi = (mac / 4294967296) | 0;
      o = this.home(lo, hi);
      while (tab[o + S_HI] !== -1) {
        o += SLOT;
        if (o === n) o = 0;
      }
      tab[o + S_LO] = lo;
      tab[o + S_HI] = hi;
    }
    this.tab[o + S_PORT] = local ? null : port;
    this.setSeen(o, seen);
    this.fdb.set(mac, new BridgeFdbEntry(this, mac, port, local, seen));
  }

  /** The table twice as large, every entry placed again. */
  private grow(): void {
    const old = this.tab;
    const tab = emptyTable((old.length / SLOT) * 2);
    this.tab = tab;
    this.tabShift--;
    const n = tab.length;
    for (let p = 0; p < old.length; p += SLOT) {
      const hi = old[p + S_HI] as number;
      if (hi === -1) continue;
      let o = this.home(old[p + S_LO] as number, hi);
      while (tab[o + S_HI] !== -1) {
        o += SLOT;
        if (o === n) o = 0;
      }
      for (let k = 0; k < SLOT; k++) tab[o + k] = old[p + k]!;
    }
  }

  /** An entry leaves the FDB (aged out, or its port removed): its slot is emptied and the probe run behind it closed up. */
  private remove(mac: Mac): void {
    const tab = this.tab;
    let i = this.find(mac);
    const e = this.fdb.get(mac) as BridgeFdbEntry;
    e.seen = this.seenAt(i);
    this.fdb.delete(mac);
    const n = tab.length;
    // Backward shift: an entry further along the run moves into the hole unless its home lies in (hole, its slot].
    for (let j = i + SLOT === n ? 0 : i + SLOT; tab[j + S_HI] !== -1; j = j + SLOT === n ? 0 : j + SLOT) {
      const h = this.home(tab[j + S_LO] as number, tab[j + S_HI] as number);
      const fromHome = j >= h ? j - h : j - h + n;
      const fromHole = j >= i ? j - i : j - i + n;
      if (fromHome >= fromHole) {
        for (let k = 0; k < SLOT; k++) tab[i + k] = tab[j + k]!;
        i = j;
      }
    }
    tab[i + S_LO] = 0;
    tab[i + S_HI] = -1;
    tab[i + S_PORT] = null; // (nor keep the device alive)
  }

  /** An entry's last-seen time (BridgeFdbEntry.updated). */
  fdbSeen(e: FdbEntry): TimeNs {
    if (this.fdb.get(e.mac) !== e) return (e as BridgeFdbEntry).seen;
    return this.seenAt(this.find(e.mac));
  }

  /** br_fdb_update's new entry. */
  private learn(mac: Mac, port: NetDevice): void {
    this.setEntry(mac, port, false, this.sim.now);
  }

  /** A learned MAC seen on another port than its entry's. */
  private movePort(o: number, port: NetDevice): void {
    this.tab[o + S_PORT] = port;
    (this.fdb.get(this.macAt(o)) as BridgeFdbEntry).port = port;
  }

  /** The port a unicast MAC is known on, honouring ageing; null when unknown. `self` for local MACs. */
  lookup(mac: Mac): FdbEntry | null {
    const o = this.find(mac);
    if (o < 0) return null;
    if (this.tab[o + S_PORT] !== null && this.sim.now - this.seenAt(o) > this.age()) {
      this.remove(mac);
      return null;
    }
    return this.fdb.get(mac)!;
  }

  /**
   * Whether the table agrees with `fdb` (tests): every entry in a slot its probe from home reaches,
   * with its port (null for a local one), and no other slot in use.
   */
  checkTable(): boolean {
    let used = 0;
    for (let o = 0; o < this.tab.length; o += SLOT) {
      if (this.tab[o + S_HI] === -1) continue;
      used++;
      const mac = this.macAt(o);
      const e = this.fdb.get(mac);
      if (e === undefined || this.find(mac) !== o) return false;
      if (this.tab[o + S_PORT] !== (e.local ? null : e.port)) return false;
    }
    return used === this.fdb.size;
  }

  /** br_handle_frame: a frame arrived on a port. */
  portReceive(port: NetDevice, pkt: Packet): void {
    const eth = pkt.eth!;
    // The two probes and the I/G bit tests written out (probe, home, wire/mac's isMulticastMac: a group
    // address is never learned, always flooded): inlined, they took what V8 lets a function inline
    // (passUp and the second probe were then calls, ~+2,000 instructions a request). The I/G bit is
    // bit 40 of the MAC, bit 8 of its high half.
    // br_fdb_update: learn the source (never from a multicast/broadcast source address).
    const src = eth.src;
    const sHi = (src / 4294967296) | 0;
    if ((sHi & 0x100) === 0) {
      const t = this.tab;
      const sLo = src | 0;
      const n = t.length;
      let o = (Math.imul(sLo ^ Math.imul(sHi, 0x85ebca6b), 0x9e3779b1) >>> this.tabShift) * SLOT;
      for (;;) {
        const h = t[o + S_HI];
        if (h === sHi && t[o] === sLo) break;
        if (h === -1) {
          o = -1;
          break;
        }
        o += SLOT;
        if (o === n) o = 0;
      }
      if (o < 0) this.learn(src, port);
      else {
        const p = t[o + S_PORT];
        if (p !== null) {
          if (p !== port) this.movePort(o, port);
          // (setSeen written out: V8 does not inline it here, and a time handed to a call is a new heap number)
          const now = this.sim.now;
          const hi = (now / 1073741824) | 0;
          t[o + S_SEEN_HI] = hi;
          t[o + S_SEEN_LO] = now - hi * 1073741824;
        }
      }
    }
    const dst = eth.dst;
    const dHi = (dst / 4294967296) | 0;
    if ((dHi & 0x100) !== 0) {
      // Broadcast / multicast: flooded to the other ports and passed up to the host.
      this.flood(pkt, port, true);
      return;
    }
    const tab = this.tab; // (after learning, which may have grown the table)
    const dLo = dst | 0;
    const n = tab.length;
    let o = (Math.imul(dLo ^ Math.imul(dHi, 0x85ebca6b), 0x9e3779b1) >>> this.tabShift) * SLOT;
    for (;;) {
      const h = tab[o + S_HI];
      if (h === dHi && tab[o] === dLo) break;
      if (h === -1) {
        o = -1;
        break;
      }
      o += SLOT;
      if (o === n) o = 0;
    }
    const out = o < 0 ? null : (tab[o + S_PORT] as NetDevice | null);
    if (o >= 0 && out === null) {
      // A local entry. br_nf_pre_routing runs PREROUTING at the bridge port, before the frame is
      // passed up: tcpdump on the bridge sees it after DNAT.
      // (callNetfilter written out, the object form first: V8 did not inline it here, and each call
      // reads its function and code objects; passUp written out was worse: receive was then a call)
      if (pkt.ip !== null) {
        const t = this.nfTarget;
        if (t !== null) {
          if (!t.bridgeNetfilter(this, port, null, pkt)) return;
        } else {
          const nf = this.nfFn;
          if (nf !== null && !nf(this, port, null, pkt)) return;
        }
      }
      this.passUp(pkt);
      return;
    }
    if (out === null || this.sim.now - ((tab[o + S_SEEN_HI] as number) * 1073741824 + (tab[o + S_SEEN_LO] as number)) > (this.ageHi >= 0 ? this.ageHi * 1073741824 + this.ageLo : this.ageNs)) {
      if (out !== null) this.remove(this.macAt(o)); // (aged out)
      this.flood(pkt, port, false);
      return;
    }
    if (out === port && !port.hairpinMode) {
      this.nFiltered++;
      this.promiscTap(pkt);
      return;
    }
    // tcpdump on the bridge gets the frame as it entered (br_handle_frame_finish passes a clone
    // up before br_forward), so the capture comes before br_netfilter's hooks rewrite it.
    this.promiscTap(pkt);
    const nf = this.nfFn; // (callNetfilter written out, as above)
    if (nf !== null && pkt.ip !== null) {
      const t = this.nfTarget;
      if (!(t !== null ? t.bridgeNetfilter(this, port, out, pkt) : nf(this, port, out, pkt))) return;
    }
    this.nForwarded++;
    out.xmit(pkt);
  }

  /**
   * Re-bridges a frame whose destination br_netfilter rewrote to a neighbour on this bridge ("bridged
   * DNAT", br_nf_pre_routing_finish_bridge): forwarded to the port its new MAC is on, not routed.
   */
  rebridge(inPort: NetDevice, pkt: Packet): void {
    this.promiscTap(pkt);
    const eth = pkt.eth!;
    const o = this.dstSlot(eth);
    if (o < 0) return this.flood(pkt, inPort, false);
    const out = this.tab[o + S_PORT] as NetDevice | null;
    if (out !== null && shouldDeliver(out, inPort)) {
      this.nForwarded++;
      out.xmit(pkt);
      return;
    }
    // br_forward: not deliverable (back to its own port without hairpin mode, or the bridge's own MAC).
    this.drop(pkt, 'bridge-same-port');
  }

  /**
   * br_nf_pre_routing_finish_bridge: a bridged-DNAT frame goes to the neighbour layer to have its
   * destination resolved; remember its ingress port and source MAC (nf_bridge->neigh_header) for
   * when the neighbour layer sends it out of the bridge.
   */
  holdBridgedDnat(pkt: Packet, inPort: NetDevice): void {
    const held: BridgedDnatHeld = { bridge: this, inPort, src: pkt.eth!.src };
    pkt.nfBridge = held; // on the frame (not a map keyed by it): no hashing, gone with the frame
  }

  /** br_netfilter (set): through its object form when it has one. */
  private callNetfilter(inPort: NetDevice, outPort: NetDevice | null, pkt: Packet): boolean {
    const t = this.nfTarget;
    return t !== null ? t.bridgeNetfilter(this, inPort, outPort, pkt) : this.nfFn!(this, inPort, outPort, pkt);
  }

  /** The host sends a frame out of the bridge interface (br_dev_xmit). */
  xmit(pkt: Packet): void {
    if (!this.up) return this.drop(pkt, 'link-down');
    this.noteTx(pkt, skbLength(pkt));
    if (pkt.nfBridge !== null) {
      const d = pkt.nfBridge as BridgedDnatHeld;
      if (d.bridge === this) {
        // br_nf_pre_routing_finish_bridge_slow: the original source MAC back, bridged from its ingress port.
        pkt.nfBridge = null;
        pkt.eth!.src = d.src;
        return this.rebridge(d.inPort, pkt);
      }
    }
    const mac = pkt.eth!.dst;
    const hi = (mac / 4294967296) | 0;
    if ((hi & 0x100) === 0) {
      // probe(), written out: xmit is too large for V8 to inline it, and a call per frame costs more
      // than the lookup. (The I/G bit from the high half, as in portReceive.)
      const tab = this.tab;
      const lo = mac | 0;
      const n = tab.length;
      let o = this.home(lo, hi);
      for (;;) {
        const h = tab[o + S_HI];
        if (h === hi && tab[o] === lo) break;
        if (h === -1) {
          o = -1;
          break;
        }
        o += SLOT;
        if (o === n) o = 0;
      }
      if (o >= 0) {
        const out = tab[o + S_PORT] as NetDevice | null;
        if (out === null) return this.floodFromHost(pkt); // (a local MAC: flooded, as before)
        if (!(this.sim.now - ((tab[o + S_SEEN_HI] as number) * 1073741824 + (tab[o + S_SEEN_LO] as number)) > (this.ageHi >= 0 ? this.ageHi * 1073741824 + this.ageLo : this.ageNs))) {
          out.xmit(pkt);
          return;
        }
        this.remove(mac); // (aged out)
      }
    }
    this.floodFromHost(pkt);
  }

  private passUp(pkt: Packet): void {
    this.nLocal++;
    this.receive(pkt, skbLength(pkt));
  }

  /**
   * tcpdump on the bridge puts it in promiscuous mode, and br_handle_frame_finish then passes forwarded
   * frames up to the bridge interface too (where IP drops them as PACKET_OTHERHOST): capture sees them.
   */
  private promiscTap(pkt: Packet): void {
    const c = this.capture;
    if (c !== null) c.arrived(pkt);
    if (traceEverSubscribed() && this.tap.connected) this.tap.fire3(this, pkt, 'in');
  }

  private flood(pkt: Packet, inPort: NetDevice, up: boolean): void {
    // (used for broadcast/multicast, unknown unicast, and an unresolved re-bridged frame)
    this.nFlooded++;
    // The ports are chosen before the first copy goes out (a synchronous receiver could change them),
    // into this bridge's list, kept for its next flood (the underlay switch's floods reach 1,000
    // ports; `length = 0` would give the array's storage back). A flood that reaches this bridge again
    // while it runs (through a synchronous receiver) takes a list of its own.
    const out = this.floodOut ?? [];
    this.floodOut = null;
    let n = 0;
    for (const p of this.ports) if (p.up && shouldDeliver(p, inPort)) out[n++] = p;
    if (!up) this.promiscTap(pkt);
    const nf = this.nfFn !== null && pkt.ip !== null && !up;
    if (!nf && n > 1 && !traceEverSubscribed()) {
      // Each port's copy made by the port (NetDevice.xmitFloodCopy), from a template of the flood's
      // own: the frame itself goes on (up to the bridge's namespace), the template stays as it is now.
      const template = pkt.floodCopy();
      for (let i = 0; i < n; i++) out[i]!.xmitFloodCopy(template);
    } else {
      for (let i = 0; i < n; i++) {
        const p = out[i]!;
        const copy = pkt.floodCopy();
        if (nf && !this.callNetfilter(inPort, p, copy)) continue;
        p.xmit(copy);
      }
    }
    this.floodOut = out;
    if (up) this.passUp(pkt);
  }

  private floodFromHost(pkt: Packet): void {
    const n = this.ports.length;
    for (let i = 0; i < n; i++) {
      const p = this.ports[i]!;
      if (p.up) p.xmit(i === n - 1 ? pkt : pkt.floodCopy());
    }
  }
}

/** br_forward.c should_deliver: a port gets a frame unless it came in there and hairpin mode is off. */
function shouldDeliver(p: NetDevice, inPort: NetDevice): boolean {
  return p !== inPort || p.hairpinMode;
}

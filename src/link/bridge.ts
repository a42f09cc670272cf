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
import { isMulticastMac as isMulticastMacImported } from '../wire/mac.js';
import type { EthernetHeader, Mac } from '../wire/types.js';
import { NetDevice, type PortMaster } from './device.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const traceEverSubscribed = traceEverSubscribedImported;
const skbLength = skbLengthImported;
/** wire/mac's isMulticastMac (the I/G bit): a group address, never learned, always flooded. */
const isGroup = isMulticastMacImported;

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
/** A slot's doubles: the MAC (NaN: empty), last seen (ns), the port's number (BridgeDevice.portByNo; -1: a local entry), one unused. */
const SLOT_SHIFT = 2;
const SLOT = 1 << SLOT_SHIFT;
const S_SEEN = 1;
const S_PORT = 2;

/**
 * An empty FDB table of `slots` slots: a number array of doubles (NaN: empty), built by push so that its
 * elements are packed doubles. Not a Float64Array: a typed array's header is 80 bytes (its length and
 * data pointers straddle two lines half the time), an array's 32, and a frame reads it on a cold bridge.
 */
function emptyTable(slots: number): number[] {
  const tab: number[] = [];
  for (let i = 0; i < slots * SLOT; i++) tab.push(NaN);
  return tab;
}

/** A learning bridge and its own interface. */
export class BridgeDevice extends NetDevice implements PortMaster {
  // What a frame reads of the bridge comes first, together (the table, its shift, the ageing time, the
  // port list, br_netfilter, the counters): NetDevice's fields fill the object's first 0x108 bytes, and
  // these then share one or two lines.
  /**
   * The FDB as an open-addressing table (linear probing) of SLOT doubles a MAC: MAC, last seen, port
   * number. A frame's learning and lookup read one slot (a line, sometimes two) and no object: a Map
   * lookup by a 48-bit MAC hashes a boxed number and reads boxed keys, and an entry object with its
   * boxed time is two more cold lines on a switch of a thousand ports. `fdb` mirrors it (the entries,
   * in the kernel's listing order) for readers; both change only here.
   */
  private tab = emptyTable(FDB_MIN_SLOTS);
  private tabShift = 32 - Math.log2(FDB_MIN_SLOTS);
  /**
   * ageingTimeNs as ageHi * 2^30 + ageLo, both small integers (a time as a field is a heap number of
   * its own, one more cold line a frame); ageHi -1 when the time is not such an integer (then ageNs is
   * read).
   */
  private ageHi = 0;
  private ageLo = 0;
  /** Port numbers: 0 is the bridge itself, a port's is its `bridgePortNo`; null when free. */
  private portByNo: (NetDevice | null)[] = [];
  private nfFn: BridgeNetfilter | null = null;
  /** The object form of `nfFn` (the same hook), set only with it by setNetfilter; null once `netfilter` is set. */
  private nfTarget: BridgeNetfilterTarget | null = null;
  /** `counters`, as fields of the bridge: a record of their own was one more cold line a frame. */
  private nForwarded = 0;
  private nFlooded = 0;
  private nLocal = 0;
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
  /** Numbers of devices that are not ports of this bridge but sent a frame through portReceive (tests). */
  private strangerNo: Map<NetDevice, number> | null = null;
  /** The port list of the last flood (of this bridge's ports only), for the next; null while one runs. */
  private floodOut: NetDevice[] | null = null;

  constructor(sim: Simulator, name: string, mac: Mac, mtu = 1500) {
    super(sim, name, mac, mtu);
    this.ageingTimeNs = 300e9;
    this.portByNo.push(this);
    // The bridge's own address is a local entry too (br_fdb_change_mac_address): frames to it go up.
    this.setEntry(mac, this, 0, true, 0);
  }

  /** `ip link set PORT master BRIDGE`: the port's MAC becomes a local FDB entry. */
  addPort(port: NetDevice): void {
    port.master = this;
    this.ports.push(port);
    let no = this.portByNo.indexOf(null);
    if (no < 0) no = this.portByNo.push(port) - 1;
    else this.portByNo[no] = port;
    port.bridgePortNo = no;
    this.setEntry(port.mac, port, no, true, this.sim.now); // (replaces an entry learned for that MAC)
  }

  /** Removes a port and its learned entries. */
  removePort(port: NetDevice): void {
    const i = this.ports.indexOf(port);
    if (i >= 0) this.ports.splice(i, 1);
    port.master = null;
    for (const [mac, e] of this.fdb) if (e.port === port) this.remove(mac);
    if (port.bridgePortNo > 0 && this.portByNo[port.bridgePortNo] === port) this.portByNo[port.bridgePortNo] = null;
    port.bridgePortNo = -1;
  }

  /** The number a frame's ingress port has in the table (a device that is not a port gets one too). */
  private noOf(port: NetDevice): number {
    if (port.master === this && port.bridgePortNo >= 0) return port.bridgePortNo;
    if (port === this) return 0;
    const m = (this.strangerNo ??= new Map());
    let no = m.get(port);
    if (no === undefined) {
      no = this.portByNo.push(port) - 1;
      m.set(port, no);
    }
    return no;
  }

  /**
   * The home slot's offset of a MAC (a Fibonacci hash of its two halves). A method, not a module
   * function: a call to a module function, inlined, first loads it from the module's context to check
   * it (a line that misses on a cold bridge); a method is known by the bridge's map.
   */
  private home(mac: Mac): number {
    return (Math.imul((mac | 0) ^ Math.imul((mac / 4294967296) | 0, 0x85ebca6b), 0x9e3779b1) >>> this.tabShift) << SLOT_SHIFT;
  }

  /**
   * The offset of the slot of a frame's source or destination MAC, -1 when it has none. The MAC is
   * read here: a 48-bit MAC handed to a call V8 does not inline is a new heap number each time.
   */
  private probe(eth: EthernetHeader, dst: boolean): number {
    const mac = dst ? eth.dst : eth.src;
    const tab = this.tab;
    const m = tab.length - 1;
    for (let o = this.home(mac); ; o = (o + SLOT) & m) {
      const k = tab[o]!;
      if (k === mac) return o;
      if (k !== k) return -1; // (NaN: an empty slot ends the run)
    }
  }

  /** The offset of a MAC's slot, -1 when it has no entry. */
  private find(mac: Mac): number {
    const tab = this.tab;
    const m = tab.length - 1;
    for (let o = this.home(mac); ; o = (o + SLOT) & m) {
      const k = tab[o]!;
      if (k === mac) return o;
      if (k !== k) return -1;
    }
  }

  /** The slot of a frame's unicast destination, honouring ageing (an aged entry leaves); -1 when unknown. */
  private dstSlot(eth: EthernetHeader): number {
    const tab = this.tab;
    const o = this.probe(eth, true);
    if (o >= 0 && tab[o + S_PORT]! >= 0 && this.sim.now - tab[o + S_SEEN]! > this.age()) {
      this.remove(tab[o]!);
      return -1;
    }
    return o;
  }

  /** Adds or replaces (in place in `fdb`'s order, as Map.set does) the entry of `mac`. */
  private setEntry(mac: Mac, port: NetDevice, no: number, local: boolean, seen: TimeNs): void {
    let o = this.find(mac);
    if (o < 0) {
      if ((this.fdb.size + 1) * 2 > this.tab.length / SLOT) this.grow();
      const tab = this.tab;
      const m = tab.length - 1;
      o = this.home(mac);
      while (tab[o] === tab[o]) o = (o + SLOT) & m;
      tab[o] = mac;
    }
    const tab = this.tab;
    tab[o + S_SEEN] = seen;
    tab[o + S_PORT] = local ? -1 : no;
    this.fdb.set(mac, new BridgeFdbEntry(this, mac, port, local, seen));
  }

  /** The table twice as large, every entry placed again. */
  private grow(): void {
    const old = this.tab;
    const tab = emptyTable((old.length / SLOT) * 2);
    this.tab = tab;
    this.tabShift--;
    const m = tab.length - 1;
    for (let p = 0; p < old.length; p += SLOT) {
      const mac = old[p]!;
      if (mac !== mac) continue;
      let o = this.home(mac);
      while (tab[o] === tab[o]) o = (o + SLOT) & m;
      for (let k = 0; k < SLOT; k++) tab[o + k] = old[p + k]!;
    }
  }

  /** An entry leaves the FDB (aged out, or its port removed): its slot is emptied and the probe run behind it closed up. */
  private remove(mac: Mac): void {
    const tab = this.tab;
    let i = this.find(mac);
    const e = this.fdb.get(mac) as BridgeFdbEntry;
    e.seen = tab[i + S_SEEN]!;
    this.fdb.delete(mac);
    const m = tab.length - 1;
    // Backward shift: an entry further along the run moves into the hole unless its home lies in (hole, its slot].
    for (let j = (i + SLOT) & m; tab[j] === tab[j]; j = (j + SLOT) & m) {
      const h = this.home(tab[j]!);
      if (((j - h) & m) >= ((j - i) & m)) {
        for (let k = 0; k < SLOT; k++) tab[i + k] = tab[j + k]!;
        i = j;
      }
    }
    tab[i] = NaN;
  }

  /** An entry's last-seen time (BridgeFdbEntry.updated). */
  fdbSeen(e: FdbEntry): TimeNs {
    if (this.fdb.get(e.mac) !== e) return (e as BridgeFdbEntry).seen;
    return this.tab[this.find(e.mac) + S_SEEN]!;
  }

  /** br_fdb_update's new entry. */
  private learn(mac: Mac, port: NetDevice): void {
    this.setEntry(mac, port, this.noOf(port), false, this.sim.now);
  }

  /** A learned MAC seen on another port than its entry's. */
  private movePort(o: number, port: NetDevice): void {
    this.tab[o + S_PORT] = this.noOf(port);
    (this.fdb.get(this.tab[o]!) as BridgeFdbEntry).port = port;
  }

  /** The port a unicast MAC is known on, honouring ageing; null when unknown. `self` for local MACs. */
  lookup(mac: Mac): FdbEntry | null {
    const o = this.find(mac);
    if (o < 0) return null;
    if (this.tab[o + S_PORT]! >= 0 && this.sim.now - this.tab[o + S_SEEN]! > this.age()) {
      this.remove(mac);
      return null;
    }
    return this.fdb.get(mac)!;
  }

  /** br_handle_frame: a frame arrived on a port. */
  portReceive(port: NetDevice, pkt: Packet): void {
    const eth = pkt.eth!;
    // br_fdb_update: learn the source (never from a multicast/broadcast source address).
    if (!isGroup(eth.src)) {
      const t = this.tab;
      const o = this.probe(eth, false);
      if (o < 0) this.learn(eth.src, port);
      else {
        const no = t[o + S_PORT]!;
        if (no >= 0) {
          // (the entry's port by its number, not the port's number: portByNo is read for the forward
          // anyway, the port's bridgePortNo is a line of the device the frame's receive does not read)
          if (this.portByNo[no] !== port) this.movePort(o, port);
          t[o + S_SEEN] = this.sim.now;
        }
      }
    }
    if (isGroup(eth.dst)) {
      // Broadcast / multicast: flooded to the other ports and passed up to the host.
      this.flood(pkt, port, true);
      return;
    }
    const tab = this.tab; // (after learning, which may have grown the table)
    const o = this.probe(eth, true);
    const no = o < 0 ? -1 : tab[o + S_PORT]!;
    if (o >= 0 && no < 0) {
      // A local entry. br_nf_pre_routing runs PREROUTING at the bridge port, before the frame is
      // passed up: tcpdump on the bridge sees it after DNAT.
      // (callNetfilter written out: V8 did not inline it here, and each call reads its function and
      // code objects, ~2 D1 misses a frame; passUp written out was worse: skbLength and receive were
      // then called, not inlined)
      const nf = this.nfFn;
      if (nf !== null && pkt.ip !== null) {
        const t = this.nfTarget;
        if (!(t !== null ? t.bridgeNetfilter(this, port, null, pkt) : nf(this, port, null, pkt))) return;
      }
      this.passUp(pkt);
      return;
    }
    if (o < 0 || this.sim.now - tab[o + S_SEEN]! > (this.ageHi >= 0 ? this.ageHi * 1073741824 + this.ageLo : this.ageNs)) {
      if (o >= 0) this.remove(tab[o]!); // (aged out)
      this.flood(pkt, port, false);
      return;
    }
    const out = this.portByNo[no]!;
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
    const no = this.tab[o + S_PORT]!;
    if (no >= 0 && shouldDeliver(this.portByNo[no]!, inPort)) {
      const out = this.portByNo[no]!;
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
    const eth = pkt.eth!;
    if (!isGroup(eth.dst)) {
      // probe(), written out: xmit is too large for V8 to inline it, and a call per frame costs more
      // than the lookup.
      const tab = this.tab;
      const mac = eth.dst;
      const m = tab.length - 1;
      let o = this.home(mac);
      for (let k = tab[o]!; k !== mac; k = tab[o]!) {
        if (k !== k) {
          o = -1;
          break;
        }
        o = (o + SLOT) & m;
      }
      if (o >= 0) {
        const no = tab[o + S_PORT]!;
        if (no < 0) return this.floodFromHost(pkt); // (a local MAC: flooded, as before)
        if (!(this.sim.now - tab[o + S_SEEN]! > (this.ageHi >= 0 ? this.ageHi * 1073741824 + this.ageLo : this.ageNs))) {
          this.portByNo[no]!.xmit(pkt);
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

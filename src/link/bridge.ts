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
import { traceEverSubscribed } from '../core/trace.js';
import { skbLength } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import { isMulticastMac } from '../wire/mac.js';
import type { Mac } from '../wire/types.js';
import { NetDevice, type PortMaster } from './device.js';

/** An FDB entry (`bridge fdb show`). `local` entries are the ports' own MACs and never age. */
export interface FdbEntry {
  mac: Mac;
  port: NetDevice;
  local: boolean;
  /** Last time a frame from this MAC was seen, ns. */
  updated: TimeNs;
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

/** The fewest and the most slots of a bridge's FDB lookup cache. */
const FDB_CACHE_MIN_SLOTS = 16;
const FDB_CACHE_MAX_SLOTS = 8192;

/** A learning bridge and its own interface. */
export class BridgeDevice extends NetDevice implements PortMaster {
  readonly kind = 'bridge';
  readonly ports: NetDevice[] = [];
  readonly fdb = new Map<Mac, FdbEntry>();
  ageingTimeNs: TimeNs = 300e9;
  private nfFn: BridgeNetfilter | null = null;
  /** The object form of `nfFn` (the same hook), set only with it by setNetfilter; null once `netfilter` is set. */
  private nfTarget: BridgeNetfilterTarget | null = null;
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
  readonly counters = { forwarded: 0, flooded: 0, local: 0, filtered: 0 };
  /**
   * FDB entries found lately, direct-mapped by MAC (at least twice as many slots as the FDB has
   * entries, up to FDB_CACHE_MAX_SLOTS): a MAC is a 48-bit number, not a small integer, so a Map
   * lookup by it hashes a boxed number and reads the boxed keys of its chain, a few cache misses on a
   * switch with a thousand ports. Holds only entries in `fdb` (a slot is emptied when its entry
   * leaves), so it answers as `fdb` does. `fdb` is changed only by the bridge itself.
   */
  private cacheKeys = new Float64Array(FDB_CACHE_MIN_SLOTS).fill(NaN);
  private cacheVals: (FdbEntry | null)[] = new Array<FdbEntry | null>(FDB_CACHE_MIN_SLOTS).fill(null);
  private cacheShift = 32 - Math.log2(FDB_CACHE_MIN_SLOTS);
  /** The port list of the last flood (of this bridge's ports only), for the next; null while one runs. */
  private floodOut: NetDevice[] | null = null;

  constructor(sim: Simulator, name: string, mac: Mac, mtu = 1500) {
    super(sim, name, mac, mtu);
    // The bridge's own address is a local entry too (br_fdb_change_mac_address): frames to it go up.
    this.fdb.set(mac, { mac, port: this, local: true, updated: 0 });
  }

  /** `ip link set PORT master BRIDGE`: the port's MAC becomes a local FDB entry. */
  addPort(port: NetDevice): void {
    port.master = this;
    this.ports.push(port);
    this.fdb.set(port.mac, { mac: port.mac, port, local: true, updated: this.sim.now });
    this.resetCache(); // (an entry learned for that MAC was replaced)
  }

  /** Removes a port and its learned entries. */
  removePort(port: NetDevice): void {
    const i = this.ports.indexOf(port);
    if (i >= 0) this.ports.splice(i, 1);
    port.master = null;
    for (const [mac, e] of this.fdb) if (e.port === port) this.fdb.delete(mac);
    this.resetCache();
  }

  /** Empties the FDB cache, with at least twice as many slots as the FDB has entries (up to the most). */
  private resetCache(): void {
    let n = FDB_CACHE_MIN_SLOTS;
    while (n < this.fdb.size * 2 && n < FDB_CACHE_MAX_SLOTS) n *= 2;
    this.cacheKeys = new Float64Array(n).fill(NaN);
    this.cacheVals = new Array<FdbEntry | null>(n).fill(null);
    this.cacheShift = 32 - Math.log2(n);
  }

  /** br_fdb_update's new entry: the cache is made larger (and emptied) when the FDB outgrew it, checked here once per entry, not per lookup. */
  private learn(mac: Mac, port: NetDevice): void {
    this.fdb.set(mac, { mac, port, local: false, updated: this.sim.now });
    const n = this.cacheKeys.length;
    if (this.fdb.size * 2 > n && n < FDB_CACHE_MAX_SLOTS) this.resetCache();
  }

  /** The cache slot of a MAC (a Fibonacci hash of its two halves). */
  private cacheSlot(mac: Mac): number {
    return Math.imul((mac | 0) ^ Math.imul((mac / 4294967296) | 0, 0x85ebca6b), 0x9e3779b1) >>> this.cacheShift;
  }

  /** fdb.get(mac), through the cache. */
  private entry(mac: Mac): FdbEntry | undefined {
    const i = this.cacheSlot(mac);
    if (this.cacheKeys[i] === mac) return this.cacheVals[i]!;
    return this.entryMiss(mac, i);
  }

  /**
   * fdb.get(mac) into cache slot `i`. Apart from `entry`: the Map takes the MAC as a boxed number, and
   * inlined into the caller that box was made before the cache was looked at, on every lookup (two
   * heap numbers per bridged frame, ~0.4 KB per H1 request).
   */
  private entryMiss(mac: Mac, i: number): FdbEntry | undefined {
    const e = this.fdb.get(mac);
    if (e !== undefined) {
      this.cacheKeys[i] = mac;
      this.cacheVals[i] = e;
    }
    return e;
  }

  /** The port a unicast MAC is known on, honouring ageing; null when unknown. `self` for local MACs. */
  lookup(mac: Mac): FdbEntry | null {
    const e = this.entry(mac);
    if (e === undefined) return null;
    if (!e.local && this.sim.now - e.updated > this.ageingTimeNs) {
      this.expire(e);
      return null;
    }
    return e;
  }

  /** An entry aged out leaves the FDB and the cache (its own MAC, not the caller's: see entryMiss). */
  private expire(e: FdbEntry): void {
    const mac = e.mac;
    this.fdb.delete(mac);
    const i = this.cacheSlot(mac);
    if (this.cacheKeys[i] === mac) {
      this.cacheKeys[i] = NaN;
      this.cacheVals[i] = null;
    }
  }

  /** br_handle_frame: a frame arrived on a port. */
  portReceive(port: NetDevice, pkt: Packet): void {
    const eth = pkt.eth!;
    // br_fdb_update: learn the source (never from a multicast/broadcast source address).
    if (!isMulticastMac(eth.src)) {
      const e = this.entry(eth.src);
      if (e === undefined) this.learn(eth.src, port);
      else if (!e.local) {
        // On change only: a pointer stored into an old entry is a write barrier (two page headers read).
        if (e.port !== port) e.port = port;
        e.updated = this.sim.now;
      }
    }
    const dst = eth.dst;
    if (isMulticastMac(dst)) {
      // Broadcast / multicast: flooded to the other ports and passed up to the host.
      this.flood(pkt, port, true);
      return;
    }
    const e = this.lookup(dst);
    if (e !== null && e.local) {
      // br_nf_pre_routing runs PREROUTING at the bridge port, before the frame is passed up: tcpdump
      // on the bridge sees it after DNAT.
      if (this.nfFn !== null && pkt.ip !== null && !this.callNetfilter(port, null, pkt)) return;
      this.passUp(pkt);
      return;
    }
    if (e !== null) {
      if (e.port === port && !port.hairpinMode) {
        this.counters.filtered++;
        this.promiscTap(pkt);
        return;
      }
      // tcpdump on the bridge gets the frame as it entered (br_handle_frame_finish passes a clone
      // up before br_forward), so the capture comes before br_netfilter's hooks rewrite it.
      this.promiscTap(pkt);
      if (this.nfFn !== null && pkt.ip !== null && !this.callNetfilter(port, e.port, pkt)) return;
      this.counters.forwarded++;
      e.port.xmit(pkt);
      return;
    }
    this.flood(pkt, port, false);
  }

  /**
   * Re-bridges a frame whose destination br_netfilter rewrote to a neighbour on this bridge ("bridged
   * DNAT", br_nf_pre_routing_finish_bridge): forwarded to the port its new MAC is on, not routed.
   */
  rebridge(inPort: NetDevice, pkt: Packet): void {
    this.promiscTap(pkt);
    const e = this.lookup(pkt.eth!.dst);
    if (e !== null && !e.local && shouldDeliver(e.port, inPort)) {
      this.counters.forwarded++;
      e.port.xmit(pkt);
      return;
    }
    if (e === null) return this.flood(pkt, inPort, false);
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
    const e = this.lookupUnicastDst(pkt);
    if (e !== null && !e.local) {
      e.port.xmit(pkt);
      return;
    }
    this.floodFromHost(pkt);
  }

  /**
   * lookup of the frame's destination, null for a multicast one. Takes the frame: lookup is not
   * inlined into xmit, and a MAC (48 bits) handed to a call is a new heap number each time.
   */
  private lookupUnicastDst(pkt: Packet): FdbEntry | null {
    const dst = pkt.eth!.dst;
    return isMulticastMac(dst) ? null : this.lookup(dst);
  }

  private passUp(pkt: Packet): void {
    this.counters.local++;
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
    this.counters.flooded++;
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

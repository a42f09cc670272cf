// link/device — the NetDevice abstraction (Linux struct net_device, ns-3 NetDevice). Layer: link
// (imports core, wire, packet). A device transmits frames handed down by the namespace (dev_queue_xmit)
// and hands received frames up through an RxHandler the net layer installs (netif_receive_skb), or to
// its bridge master when enslaved (rx_handler = br_handle_frame).
import { TraceSource, traceEverSubscribed as traceEverSubscribedImported, type FrameHook } from '../core/trace.js';
import type { Simulator } from '../core/simulator.js';
import type { Packet } from '../packet/packet.js';
import { macHigh16, macLow32 } from '../wire/mac.js';
import type { Mac } from '../wire/types.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const traceEverSubscribed = traceEverSubscribedImported;

/** Direction of a frame at a capture point, as tcpdump's `-Q in|out` would split them. */
export type TapDirection = 'in' | 'out';

/** Why a device dropped a frame (closed union; every drop is counted and traced). */
export type LinkDropReason = 'link-down' | 'queue-full' | 'no-carrier' | 'fault-loss' | 'mtu-exceeded' | 'no-handler' | 'bridge-same-port' | 'qdisc-limit' | 'tc-filter-drop';

/** A device a root qdisc can sit in front of (`tc qdisc add dev X root …`): a NIC or a veth end. */
export interface QdiscDevice {
  readonly sim: Simulator;
  readonly qualifiedName: string;
  /** The driver's transmit, after the qdisc (dev_hard_start_xmit: the capture tap fires there). */
  transmit(pkt: Packet): void;
  drop(pkt: Packet, reason: LinkDropReason): void;
}

/** A root qdisc on a device's egress: it may drop, hold or pass a frame (`dev.transmit`, now or later). */
export interface EgressQdisc {
  enqueue(dev: QdiscDevice, pkt: Packet): void;
}

/** Hands a frame a qdisc stage lets through to the next stage of the chain, or to the driver. */
export function passOn(next: EgressQdisc | null, dev: QdiscDevice, pkt: Packet): void {
  if (next !== null) next.enqueue(dev, pkt);
  else dev.transmit(pkt);
}

/** A tc ingress filter (`tc qdisc add dev X ingress` + `filter … action drop`): true drops the frame. */
export interface IngressFilter {
  drops(pkt: Packet): boolean;
}

/** Called with each frame a device receives, when it is not a bridge port. Implemented by net/. */
export type RxHandler = (dev: NetDevice, pkt: Packet) => void;

/**
 * The same receiver as an object (net/'s Namespace): a device calls its method, where an RxHandler
 * closure would be two more objects to fetch per frame (the function and the context holding its
 * namespace), each cold on a node of a thousand.
 */
export interface RxTarget {
  frameIn(dev: NetDevice, pkt: Packet): void;
}

/** Receives frames from an enslaved port (implemented by link/bridge). */
export interface PortMaster {
  portReceive(port: NetDevice, pkt: Packet): void;
}

/**
 * A random locally administered unicast MAC, as the kernel gives a new veth or bridge
 * (eth_random_addr), drawn from the stream `mac/OWNER/IFNAME`. The stream name is part of the
 * determinism contract: every device of every builder takes its MAC from here.
 */
export function randomMac(sim: Simulator, owner: string, ifname: string): Mac {
  const r = sim.rng.stream(`mac/${owner}/${ifname}`);
  return ((r.int(256) & 0xfe) | 0x02) * 2 ** 40 + r.int(256) * 2 ** 32 + r.uint32();
}

let nextIfindex = 1;
/** Restarts interface numbering (one simulation per process run keeps indexes stable). */
export function resetIfindex(): void {
  nextIfindex = 1;
}

/** Base class of every device: name, MAC, MTU, up/down, taps, counters. */
export abstract class NetDevice {
  /**
   * Bumped whenever any device goes up or down (routes over a down device are skipped): a cache of
   * route lookups (net/namespace.ts) is valid while this and the route tables' epoch stand still.
   */
  static upEpoch = 0;
  // The fields a frame reads come first (V8 lays an object's fields out in the order they are defined):
  // what every frame reads (state, mtu, capture), what only a received one does (receiver, counters, the IP
  // layer's last route), what both do (the MAC halves, ifindex), what only a sent one does (noArp,
  // the copy of the last neighbour entry and the entry), the bridge port's, the fields read only for
  // tracing, listings and drops (an object of their own), and the transmit counters last, next to the
  // subclass's fields. In a thousand-node cluster a device is seldom in cache when its next
  // frame comes, and each line a frame reads of it is a miss: a received frame read four or five lines
  // of the device when the MAC halves and the route came after the send's fields (bench/README.md,
  // session 40: s40-ip).
  readonly sim: Simulator;
  /**
   * Administratively down (bit 1: `up` false) and no carrier (bit 2: `carrier` false) as one small
   * integer: a frame tests one field, 0 when it may pass (two booleans were two loads and tests, and 8
   * more bytes of every device's spans). Read through `up` and `carrier`.
   */
  protected st = 0;
  /** Administratively up (`ip link set DEV up`). */
  get up(): boolean {
    return (this.st & 1) === 0;
  }
  set up(v: boolean) {
    if (v !== ((this.st & 1) === 0)) NetDevice.upEpoch++;
    this.st = v ? this.st & ~1 : this.st | 1;
  }
  /**
   * Carrier (IFF_LOWER_UP): false while the cable is out (`link-down` fault); frames sent or arriving
   * are dropped ('no-carrier'). `up` stays as the administrator set it.
   */
  get carrier(): boolean {
    return (this.st & 2) === 0;
  }
  set carrier(v: boolean) {
    this.st = v ? this.st & ~2 : this.st | 2;
  }
  /**
   * (Read by a sender, and by a veth for its peer before the peer receives: next to the state, on the
   * line every frame reads of a device, sent or received; it sat after the route, on a line a bridge
   * port's receive does not read, which a veth's transmit to the host's end then missed.)
   */
  mtu: number;
  /**
   * The capture writer's point on this interface (capture/point.ts, hung here by whoever opens the capture),
   * called at the same places as `tap`, just before its subscribers; null when the interface is not captured.
   */
  capture: FrameHook<Packet> | null = null;
  /** The object form of `rxFn` (the same receiver), set only with it by setReceiver; null once `rxHandler` is set. */
  private rxTarget: RxTarget | null = null;
  /** Set when the device is a bridge port (`ip link set DEV master BR`). */
  master: PortMaster | null = null;
  /** tc ingress filters (a partition's `from` side), consulted after the capture tap, before the stack. */
  ingress: IngressFilter | null = null;
  /**
   * The counters (`ip -s link`), fields of the device itself rather than of an object of their own: in
   * a thousand-node cluster a device is seldom in cache when its next frame comes, and a separate
   * counters object was one more line to fetch per frame. `stats` reads them together.
   */
  rxPackets = 0;
  rxBytes = 0;
  /**
   * The route net/ last looked up for a packet received on this device (net/namespace.ts
   * fibLookupIn): its namespace, the destination (as a signed 32-bit integer), the route epoch it was
   * found at and the route. Here for the same reason as neighLast: a node's route cache is cold when
   * its next packet comes, the receiving device is not.
   */
  fibNs: object | null = null;
  fibDst = 0;
  fibEpoch = -1;
  fibRoute: object | null = null;
  /** Whether fibRoute is a local or broadcast route (ip_rcv_finish delivers up without reading the route). */
  fibLocal = false;
  /**
   * `mac` as its high 16 and low 32 bits (signed): mac === macFromParts(macHi, macLo). A 48-bit MAC
   * field is a heap number of its own on this Node, one more cold line for every frame received
   * (eth_type_trans's compare) and sent (the source address) in a big cluster; these two are in the
   * device, between what only a received frame reads and what
   * only a sent one does, as is ifindex (the netfilter hooks' -i and -o).
   */
  readonly macHi: number = 0;
  readonly macLo: number = 0;
  readonly ifindex = nextIfindex++;
  /** IFF_NOARP: the namespace sends on this device without resolving a next hop (dummy, loopback). */
  readonly noArp: boolean = false;
  /**
   * net/neighbour's copy of what a send reads of neighLast's entry (NeighEntry.publish keeps it): the
   * entry's key (its address | 0), its table's id (0: no entry, or one that left its table; the table's
   * lookup compares these two, not the entry's), the MAC's halves, and how long it may be sent to as
   * is: while the clock is below neighUntil * 2^20 ns (PERMANENT, DELAY and PROBE up to 2^50 ns;
   * REACHABLE up to its deadline rounded down; 0 for any other state). A send whose next hop is
   * the device's last (30 of 36 a request in the big cluster's window) then reads no line of the
   * entry, which in a thousand-node cluster is cold when the node's next packet comes (two lines of
   * it a send, ~5 LL misses a request). Small integers: no number objects.
   */
  neighKey = 0;
  neighOwner = 0;
  neighUntil = 0;
  neighMacHi = 0;
  neighMacLo = 0;
  /**
   * The neighbour entry net/ last found for a next hop on this device (net/neighbour.ts's per-device
   * slot; link never reads it, hence `object`). Kept on the device because the device is in cache
   * when its namespace sends on it, while the namespace's neighbour table, in a thousand-node cluster,
   * is not.
   */
  neighLast: object | null = null;
  /**
   * The bridge port flag hairpin_mode (`ip link set DEV type bridge_slave hairpin on`, BR_HAIRPIN_MODE):
   * the bridge may send a frame back out of the port it arrived on (br_forward.c should_deliver).
   */
  hairpinMode = false;
  // What a frame does not read (tracing, listings, drops, the closure form of the receiver) is an object of its
  // own: the subclasses' fields (a veth's peer, a NIC's wire and qdisc, the bridge's table) come after
  // NetDevice's in the object (at 0x100), and each frame reads them; with these eight fields in the device
  // they began a line past the send's fields (at 0x118).
  private readonly cold: DeviceCold;
  /**
   * The transmit counters, last: right before the subclasses' fields, which a frame sent reads (a veth's
   * qdisc, peer and delay; a NIC's qdisc and wire; the bridge's table; the VXLAN device's FDB index), so
   * that a send reads one line there, where these two, between the MAC halves and the neighbour's
   * copy, were a line of their own for a device's own transmit (a veth's, a NIC's: the bridge's
   * forwards and floods send on a port without the IP layer's reads).
   */
  txPackets = 0;
  txBytes = 0;
  /** Set by net/ when the device is placed in a namespace (setReceiver); setting it here replaces that receiver. */
  get rxHandler(): RxHandler | null {
    return this.cold.rxFn;
  }
  set rxHandler(h: RxHandler | null) {
    this.cold.rxFn = h;
    this.rxTarget = null;
  }
  /** Installs a namespace's receiver: `fn` (what `rxHandler` reads) and `target`, which must do what `fn` does. */
  setReceiver(target: RxTarget, fn: RxHandler): void {
    this.cold.rxFn = fn;
    this.rxTarget = target;
  }
  /** The interface name (`ip link`'s). */
  get name(): string {
    return this.cold.name;
  }
  set name(v: string) {
    this.cold.name = v;
  }
  /** Frames dropped (all reasons; `dropsByReason` splits them). */
  get drops(): number {
    return this.cold.drops;
  }
  set drops(v: number) {
    this.cold.drops = v;
  }
  /** The counters as one record (a copy: the device's fields are the counters). */
  get stats(): { rxPackets: number; rxBytes: number; txPackets: number; txBytes: number; drops: number } {
    return { rxPackets: this.rxPackets, rxBytes: this.rxBytes, txPackets: this.txPackets, txBytes: this.txBytes, drops: this.drops };
  }

  constructor(sim: Simulator, name: string, mac: Mac, mtu = 1500) {
    this.sim = sim;
    this.mtu = mtu;
    this.cold = new DeviceCold(name, mac);
    this.macHi = macHigh16(mac);
    this.macLo = macLow32(mac) | 0;
  }

  /** Device kind as `ip -d link` names it ("veth", "bridge", "vxlan", "ether", "dummy", "loopback"). */
  abstract readonly kind: string;
  get mac(): Mac {
    return this.cold.mac;
  }
  /** Fires for every frame seen on this interface (what tcpdump -i would show). */
  get tap(): TraceSource<[dev: NetDevice, pkt: Packet, dir: TapDirection]> {
    return this.cold.tap;
  }
  /** Fires for every frame this device drops. */
  get dropped(): TraceSource<[dev: NetDevice, pkt: Packet, reason: LinkDropReason]> {
    return this.cold.dropped;
  }
  /** Namespace-qualified name used in captures ("node1/cni0"); set by net/. */
  get qualifiedName(): string {
    return this.cold.qualifiedName;
  }
  set qualifiedName(v: string) {
    this.cold.qualifiedName = v;
  }
  /**
   * The interface index as the device's namespace numbers it (dev_index_reserve: per network
   * namespace, lo is 1 in each; 0 until the device joins one): what `ip link` prints and `@ifN` names.
   * `ifindex` is the simulation-wide key the datapath uses (neighbour hashing, netfilter -i / -o).
   */
  get nsIfindex(): number {
    return this.cold.nsIfindex;
  }
  set nsIfindex(v: number) {
    this.cold.nsIfindex = v;
  }
  /** Drops by reason (the total is `drops`). */
  get dropsByReason(): Partial<Record<LinkDropReason, number>> {
    return this.cold.dropsByReason;
  }

  /** Transmits a frame (dev_queue_xmit); the frame's eth header is set by the caller. */
  abstract xmit(pkt: Packet): void;

  /**
   * A bridge flood's transmit of its own copy of `template` (Packet.floodCopy), which stays the
   * flood's: made here, or by a device that can (link/nic) only when the frame reaches the other end.
   * Called only when nothing can tell the two apart: no trace ever had a subscriber (a subscriber
   * would see the template at departure and the copy at arrival) and nothing rewrites the copy before
   * it leaves (no br_netfilter).
   */
  xmitFloodCopy(template: Packet): void {
    this.xmit(template.floodCopy());
  }

  /** Counts and traces a drop. */
  drop(pkt: Packet, reason: LinkDropReason): void {
    this.drops++;
    this.dropsByReason[reason] = (this.dropsByReason[reason] ?? 0) + 1;
    if (traceEverSubscribed() && this.dropped.connected) this.dropped.fire3(this, pkt, reason);
  }

  /** Records a transmitted frame at the capture point and in counters. */
  protected noteTx(pkt: Packet, len: number): void {
    this.txPackets++;
    this.txBytes += len;
    const c = this.capture;
    if (c !== null) c.departed(pkt);
    if (traceEverSubscribed() && this.tap.connected) this.tap.fire3(this, pkt, 'out');
  }

  /** Delivers a received frame: capture, counters, then the bridge (if enslaved) or the namespace. */
  receive(pkt: Packet, len: number): void {
    // The field, not the `up` and `carrier` accessors: this site sees every device class (an accessor
    // call through a polymorphic load per received frame).
    const st = this.st;
    if (st !== 0) {
      this.drop(pkt, (st & 1) !== 0 ? 'link-down' : 'no-carrier');
      return;
    }
    this.rxPackets++;
    this.rxBytes += len;
    const c = this.capture;
    if (c !== null) c.arrived(pkt);
    // The process-wide flag first: the device's trace sources are objects of their own, which a big
    // cluster's untraced run would otherwise read (cold) for every frame.
    if (traceEverSubscribed() && this.tap.connected) this.tap.fire3(this, pkt, 'in');
    // sch_handle_ingress runs after the taps (tcpdump sees the frame) and before the protocol handlers.
    if (this.ingress !== null && this.ingress.drops(pkt)) {
      this.drop(pkt, 'tc-filter-drop');
      return;
    }
    this.deliverUp(pkt);
  }

  /** Hands a received frame to the bridge master or the namespace (netif_receive_skb). */
  protected deliverUp(pkt: Packet): void {
    if (this.master !== null) this.master.portReceive(this, pkt);
    else if (this.rxTarget !== null) this.rxTarget.frameIn(this, pkt);
    else if (this.cold.rxFn !== null) this.cold.rxFn(this, pkt);
    else this.drop(pkt, 'no-handler');
  }
}

/** NetDevice's fields no frame reads (NetDevice.cold). */
class DeviceCold {
  rxFn: RxHandler | null = null;
  drops = 0;
  readonly tap = new TraceSource<[dev: NetDevice, pkt: Packet, dir: TapDirection]>();
  readonly dropped = new TraceSource<[dev: NetDevice, pkt: Packet, reason: LinkDropReason]>();
  readonly dropsByReason: Partial<Record<LinkDropReason, number>> = {};
  qualifiedName: string;
  nsIfindex = 0;
  constructor(
    public name: string,
    readonly mac: Mac,
  ) {
    this.qualifiedName = name;
  }
}

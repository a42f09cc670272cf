// link/vxlan — a VXLAN tunnel device (drivers/net/vxlan/vxlan_core.c), as flannel creates flannel.1:
// `ip link add flannel.1 type vxlan id 1 local NODE_IP dev eth0 dstport 8472 nolearning`.
// Layer: link. Transmit: the inner Ethernet frame's destination MAC is looked up in the device's FDB
// (`bridge fdb append MAC dev flannel.1 dst REMOTE_NODE_IP`) and the frame leaves inside
// outer IPv4 / UDP / VXLAN toward that node through the namespace's ip_local_out (an L3Output the net
// layer provides). Receive: `attach` registers the device's UDP port with its namespace (as
// setup_udp_tunnel_sock sets encap_rcv); net hands each outer datagram that arrives on that port to
// `encapReceive`, which checks the VNI and delivers the inner frame as received on this device.
// On the wire as Linux sends it: outer TTL 64, TOS 0, DF clear (df unset), IP ID from the ip_idents
// counters, UDP checksum computed (the kernel's default when the creator does not set
// IFLA_VXLAN_UDP_CSUM, as flannel's netlink call does not; observed on this machine's kernel), UDP source port from a hash of the
// inner flow scaled into the local port range 32768–60999 (udp_flow_src_port), destination port the
// configured one (8472 for flannel, 4789 IANA), VXLAN flags 0x08 with the VNI.
// Not modelled: learning (flannel uses nolearning), L2 miss / L3 miss notifications, GBP, multicast groups.
import type { Simulator } from '../core/simulator.js';
import { traceEverSubscribed as traceEverSubscribedImported } from '../core/trace.js';
import { skbLength as skbLengthImported } from '../packet/length.js';
import { Packet, Recycler, packetRecyclingAllowed as packetRecyclingAllowedImported, releaseEthernet as releaseEthernetImported } from '../packet/packet.js';
import { EtherType, IpProto, type Ipv4, type Mac, type VxlanHeader } from '../wire/types.js';
import { IPV4_DEFAULT_TTL as IPV4_DEFAULT_TTLImported, ipv4Header } from '../wire/ipv4.js';
import { vxlanHeader } from '../wire/vxlan.js';
import { NetDevice } from './device.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const traceEverSubscribed = traceEverSubscribedImported;
const skbLength = skbLengthImported;
const packetRecyclingAllowed = packetRecyclingAllowedImported;
const releaseEthernet = releaseEthernetImported;
const IPV4_DEFAULT_TTL = IPV4_DEFAULT_TTLImported;
const RECYCLER_VXLAN = Recycler.VXLAN;
const IPPROTO_UDP = IpProto.UDP;

/** How a tunnel device sends its outer packets: the namespace's ip_local_out. Implemented by net/. */
export interface L3Output {
  ipLocalOut(pkt: Packet): boolean;
}

/**
 * Where a UDP tunnel opens its port (setup_udp_tunnel_sock): the namespace hands `rx` every locally
 * delivered UDP datagram to `port` that carries an encapsulated frame (udp_sk(sk)->encap_rcv).
 * Implemented by net/.
 */
export interface UdpTunnelHost {
  /** `target`, when given, is `rx`'s object form (the host may call its method instead: one object fewer to fetch per datagram). */
  registerUdpEncap(port: number, rx: (outer: Packet) => void, target?: EncapReceiver): void;
}

/** A UDP tunnel's receive hook as an object (a VxlanDevice). */
export interface EncapReceiver {
  encapReceive(outer: Packet): void;
}

/**
 * An open-addressing index of a shared FDB map (MAC → VTEP), built once per map and read by every
 * device bound to it: a MAC is a 48-bit number, and a Map probe by it hashes a boxed number and reads
 * the boxed keys of its chain; here a probe is two reads of one array. The map must not change once
 * bound (flannel builds it whole, then binds every node's flannel.1 to it).
 */
class SharedFdbIndex {
  /** Slot i: the MAC at 2i (NaN when empty), its VTEP at 2i + 1. */
  readonly slots: Float64Array;
  readonly shift: number;
  readonly mask: number;
  constructor(map: ReadonlyMap<Mac, Ipv4>) {
    let n = 16;
    while (n < map.size * 2) n *= 2;
    this.slots = new Float64Array(2 * n).fill(NaN);
    this.shift = 32 - Math.log2(n);
    this.mask = n - 1;
    for (const [mac, ip] of map) {
      const i = this.find(mac);
      const at = i >= 0 ? i : this.free(mac);
      this.slots[2 * at] = mac;
      this.slots[2 * at + 1] = ip;
    }
  }
  private home(mac: Mac): number {
    return Math.imul((mac | 0) ^ Math.imul((mac / 4294967296) | 0, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }
  /** The slot holding `mac`, or -1. */
  find(mac: Mac): number {
    FIND_KEY[0] = mac;
    return this.findStaged();
  }
  /**
   * find of the MAC written to FIND_KEY[0] just before: find is not inlined into VxlanFdb.get's callers
   * (its loop), and a MAC (48 bits) handed to a call is a new heap number each time, one per frame sent.
   */
  findStaged(): number {
    const mac = FIND_KEY[0]!;
    const s = this.slots;
    for (let i = this.home(mac); ; i = (i + 1) & this.mask) {
      const k = s[2 * i]!;
      if (k === mac) return i;
      if (k !== k) return -1; // (NaN: an empty slot ends the probe)
    }
  }
  private free(mac: Mac): number {
    let i = this.home(mac);
    while (!Number.isNaN(this.slots[2 * i]!)) i = (i + 1) & this.mask;
    return i;
  }
}

/** The MAC SharedFdbIndex.findStaged looks for (see there). */
const FIND_KEY = new Float64Array(1);

/** The index of each shared map, made at its first binding. */
const sharedIndexes = new WeakMap<ReadonlyMap<Mac, Ipv4>, SharedFdbIndex>();

/** Who keeps a copy of a VxlanFdb's `plain` and `selfSlot` (its VxlanDevice: see fdbIx there). */
interface FdbIndexHolder {
  fdbIx: SharedFdbIndex | null;
  fdbSelf: number;
}

/**
 * A VXLAN device's FDB (`bridge fdb show dev flannel.1`): inner MAC → remote VTEP IP, iterated in
 * insertion order as a Map. It may be bound to a shared map many devices hold alike (flanneld's entry
 * for every other node's flannel.1): the shared entries, but the excluded one, then read as if set at
 * the binding, in the shared map's order; setting or deleting one changes this device's view only.
 */
export class VxlanFdb implements Iterable<[Mac, Ipv4]> {
  private readonly own = new Map<Mac, Ipv4>();
  private shared: ReadonlyMap<Mac, Ipv4> | null = null;
  private sharedSelf = -1;
  /** This device's changes to shared entries: a new VTEP, or undefined for deleted. */
  private changed: Map<Mac, Ipv4 | undefined> | null = null;
  /** MACs set before the binding (listed before the shared entries). */
  private pre: Set<Mac> | null = null;
  /**
   * The shared map's index while this FDB reads as the shared map alone (no entry of its own, none
   * changed): `get` then answers from it, and reads neither the maps nor the boxed excluded MAC
   * (its slot, `selfSlot`, stands for it). Null otherwise.
   */
  private plain: SharedFdbIndex | null = null;
  private selfSlot = -1;

  /** `holder` (the device the FDB is of) gets a copy of `plain` and `selfSlot` whenever they change. */
  constructor(private readonly holder: FdbIndexHolder | null = null) {}

  /** Binds to `shared` excluding `self`; false (nothing bound) when bound already or an entry is already set here. */
  bindShared(shared: ReadonlyMap<Mac, Ipv4>, self: Mac | -1): boolean {
    if (this.shared !== null) return false;
    if (this.own.size > 0) {
      for (const mac of shared.keys()) if (mac !== self && this.own.has(mac)) return false;
      this.pre = new Set(this.own.keys());
    }
    this.shared = shared;
    this.sharedSelf = self;
    this.replain();
    return true;
  }

  /** Sets `plain` after any change (the index made at the shared map's first binding). */
  private replain(): void {
    const shared = this.shared;
    if (shared === null || this.own.size > 0 || this.changed !== null) this.plain = null;
    else {
      let ix = sharedIndexes.get(shared);
      if (ix === undefined) sharedIndexes.set(shared, (ix = new SharedFdbIndex(shared)));
      this.selfSlot = ix.find(this.sharedSelf);
      this.plain = ix;
    }
    const h = this.holder;
    if (h !== null) {
      h.fdbIx = this.plain;
      h.fdbSelf = this.selfSlot;
    }
  }

  /** Whether `holder`'s copy is this FDB's `plain` and `selfSlot` (tests). */
  holderAgrees(): boolean {
    return this.holder === null || (this.holder.fdbIx === this.plain && (this.plain === null || this.holder.fdbSelf === this.selfSlot));
  }

  /** Is `mac` a shared entry this FDB holds (not excluded)? Its change, if any, is in `changed`. */
  private isShared(mac: Mac): boolean {
    return this.shared !== null && mac !== this.sharedSelf && this.shared.has(mac);
  }

  get(mac: Mac): Ipv4 | undefined {
    const ix = this.plain;
    if (ix !== null) {
      FIND_KEY[0] = mac;
      const i = ix.findStaged();
      return i < 0 || i === this.selfSlot ? undefined : ix.slots[2 * i + 1]!;
    }
    const v = this.own.size === 0 ? undefined : this.own.get(mac);
    if (v !== undefined || this.shared === null || mac === this.sharedSelf) return v;
    const c = this.changed;
    if (c !== null && c.has(mac)) return c.get(mac);
    return this.shared.get(mac);
  }

  has(mac: Mac): boolean {
    return this.get(mac) !== undefined;
  }

  set(mac: Mac, ip: Ipv4): this {
    // A shared entry changes in place; one deleted here comes back at the end, as a Map's would.
    if (!this.own.has(mac) && this.isShared(mac) && !(this.changed?.has(mac) === true && this.changed.get(mac) === undefined)) {
      (this.changed ??= new Map()).set(mac, ip);
    } else this.own.set(mac, ip);
    this.replain();
    return this;
  }

  delete(mac: Mac): boolean {
    if (!this.own.has(mac) && this.isShared(mac)) {
      if (this.get(mac) === undefined) return false;
      (this.changed ??= new Map()).set(mac, undefined);
      this.replain();
      return true;
    }
    this.pre?.delete(mac);
    const had = this.own.delete(mac);
    this.replain();
    return had;
  }

  get size(): number {
    let n = this.own.size;
    const shared = this.shared;
    if (shared !== null) {
      n += shared.size - (shared.has(this.sharedSelf) ? 1 : 0);
      if (this.changed !== null) for (const v of this.changed.values()) if (v === undefined) n--;
    }
    return n;
  }

  *entries(): IterableIterator<[Mac, Ipv4]> {
    const shared = this.shared;
    if (shared === null) {
      yield* this.own;
      return;
    }
    const pre = this.pre;
    if (pre !== null) for (const kv of this.own) if (pre.has(kv[0])) yield kv;
    const c = this.changed;
    for (const [mac, ip] of shared) {
      if (mac === this.sharedSelf) continue;
      const v = c !== null && c.has(mac) ? c.get(mac) : ip;
      if (v !== undefined) yield [mac, v];
    }
    for (const kv of this.own) if (pre === null || !pre.has(kv[0])) yield kv;
  }

  [Symbol.iterator](): IterableIterator<[Mac, Ipv4]> {
    return this.entries();
  }
}

/**
 * Outer packets given back by decapsulating devices, for any device's next encapsulation: one list
 * for all, last in first out, so the packet reused is the one last touched (a list per device would
 * hand a node of a thousand a packet gone cold since its last frame). More would only sit there.
 */
const spare: Packet[] = [];
const SPARE_MAX = 64;

/** The shared VXLAN header of each VNI (wire's vxlanHeader, flags I), made on first use: never written once made. */
const HEADERS = new Map<number, VxlanHeader>();
function vxlanHeaderOf(vni: number): VxlanHeader {
  let h = HEADERS.get(vni);
  if (h === undefined) HEADERS.set(vni, (h = vxlanHeader(vni)));
  return h;
}

const PORT_MIN = 32768;
const PORT_MAX = 61000;

/** A VXLAN device. */
export class VxlanDevice extends NetDevice implements EncapReceiver {
  // What a frame reads comes first (see NetDevice): what a received one does (the VNI, `recycle`) in
  // the first line after NetDevice's fields, then what a sent one does (the header, the FDB's index,
  // the namespace, the keys, the port); the FDB, `kind`, `counters` and `local` last. (The VNI and
  // `recycle` were 40 bytes apart, two lines a received frame three times in four.)
  readonly vni: number;
  /**
   * Ownership rule for outer packets: an outer packet lives from this device's xmit to the
   * encapReceive of the VTEP it reaches; the only holders on the way are the events carrying it
   * (veth, channel, netem, the neighbour queue), each done before it arrives. When the world allows it
   * (packet/packet.ts allowPacketRecycling: `recycle`, asked at the first release unless set) and no
   * trace ever had a subscriber, the receiving device gives the packet with its IP and UDP records
   * back (`spare`) and the next xmit renews them instead of allocating (4 objects per
   * encapsulated frame: ~11 % of H1's allocation). Never recycled: a packet that was cut into fragments
   * or reassembled (fragments point at it), and any outer this device did not build (Packet.recycler:
   * clones, parsed packets, an outer a test built by hand). A renewed packet takes the next uid, as `new Packet()` would.
   */
  recycle: boolean | null = null;
  /**
   * The VXLAN header every frame this device encapsulates carries (flags I, its VNI): one record shared
   * by all its outer packets, as nothing writes a VXLAN record after it is made (clone copies it), and
   * by every device of the same VNI (vxlanHeaderOf). Storing it into a recycled (old) outer packet is a
   * write barrier, which reads the page header of the stored object: one header record for all a
   * cluster's flannel.1 devices keeps that one page header in cache, where a record per device was a
   * cold page per node.
   */
  private readonly header: VxlanHeader;
  /**
   * The FDB's shared index and this device's own slot in it, while the FDB reads as its shared map
   * alone (VxlanFdb.plain and selfSlot, copied here by the FDB whenever they change): a frame sent
   * then reads the device and the index, not the FDB object (two more cold lines a frame on a node of
   * a thousand: its map and `plain` were 64 bytes apart). Null otherwise: `fdb.get` answers.
   */
  fdbIx: SharedFdbIndex | null = null;
  fdbSelf = -1;
  /** The namespace the tunnel sends through, once attached. */
  private l3: L3Output | null = null;
  /**
   * `local | 0` and `hashSeed | 0`, read by every xmit: an address or a seed above 2^31 is a heap number
   * of its own on this Node, one more cold line a frame on a node of a thousand.
   */
  private readonly localKey: number = 0;
  private readonly seedKey: number = 0;
  readonly dstPort: number;
  /** `bridge fdb` entries: inner MAC → remote VTEP IP. */
  readonly fdb: VxlanFdb = new VxlanFdb(this);
  readonly kind = 'vxlan';
  readonly counters = { txNoFdb: 0, rxBadVni: 0 };
  readonly local: Ipv4;

  constructor(
    sim: Simulator,
    name: string,
    mac: Mac,
    vni: number,
    local: Ipv4,
    dstPort: number,
    /** skb hash seed (hashrnd), drawn per node from a seeded stream. */
    hashSeed: number,
    mtu = 1450,
  ) {
    super(sim, name, mac, mtu);
    this.vni = vni;
    this.dstPort = dstPort;
    this.local = local;
    this.header = vxlanHeaderOf(vni);
    this.localKey = local | 0;
    this.seedKey = hashSeed | 0;
  }

  /** vxlan_sock_add → setup_udp_tunnel_sock: opens `dstPort` in `host` (the device's namespace) and sends through it. */
  attach(host: L3Output & UdpTunnelHost): void {
    this.l3 = host;
    host.registerUdpEncap(this.dstPort, (outer) => this.encapReceive(outer), this);
  }

  /** vxlan_xmit: encapsulates the frame toward the VTEP its destination MAC maps to. */
  xmit(inner: Packet): void {
    if (!this.up) return this.drop(inner, 'link-down');
    const len = skbLength(inner);
    // fdb.get, from the device's copy of its index when it has one (see fdbIx)
    const ix = this.fdbIx;
    let remote: Ipv4 | undefined;
    if (ix !== null) {
      FIND_KEY[0] = inner.eth!.dst;
      const i = ix.findStaged();
      remote = i < 0 || i === this.fdbSelf ? undefined : ix.slots[2 * i + 1]!;
    } else remote = this.fdb.get(inner.eth!.dst);
    if (remote === undefined || this.l3 === null) {
      this.counters.txNoFdb++;
      return this.drop(inner, 'no-carrier');
    }
    this.noteTx(inner, len);
    const outer = spare.length > 0 ? this.renewOuter(remote, this.flowSrcPort(inner), 8 + 8 + len) : this.newOuter(remote, this.flowSrcPort(inner), 8 + 8 + len);
    if (outer.vxlan !== this.header) outer.vxlan = this.header; // (a renewed packet keeps its record: see renewOuter)
    outer.recycler = RECYCLER_VXLAN;
    outer.inner = inner;
    outer.flowId = inner.flowId;
    this.l3.ipLocalOut(outer);
  }

  private newOuter(remote: Ipv4, srcPort: number, udpLength: number): Packet {
    const outer = new Packet();
    outer.ip = ipv4Header(IpProto.UDP, this.localKey, remote); // (ipv4Header stores addresses >>> 0)
    outer.udp = { srcPort, dstPort: this.dstPort, length: udpLength, checksum: null };
    return outer;
  }

  /**
   * A spare outer packet made as newOuter makes one: every field of the packet and of its IP and UDP
   * records rewritten. Its IP, UDP and VXLAN records stay in it (Packet.renewKeepingRecords; xmit
   * stores the VXLAN record only when another VNI's): storing them back is a write barrier each, which
   * reads the page headers of the packet and of the record.
   */
  private renewOuter(remote: Ipv4, srcPort: number, udpLength: number): Packet {
    const outer = spare.pop()!;
    const ip = outer.ip!;
    const udp = outer.udp!;
    outer.renewKeepingRecords();
    // ipv4Header(IpProto.UDP, local, remote)'s values
    ip.tos = 0;
    ip.totalLength = 0;
    ip.id = -1;
    ip.flags = 0;
    ip.fragOffset = 0;
    ip.ttl = IPV4_DEFAULT_TTL;
    ip.protocol = IPPROTO_UDP;
    ip.checksum = null;
    ip.src = this.localKey >>> 0; // (this.local: see localKey)
    ip.dst = remote >>> 0;
    ip.options = null;
    udp.srcPort = srcPort;
    udp.dstPort = this.dstPort;
    udp.length = udpLength;
    udp.checksum = null;
    return outer;
  }

  /** vxlan_rcv: the outer datagram arrived on our UDP port; deliver the inner frame here. */
  encapReceive(outer: Packet): void {
    const inner = outer.inner;
    if (outer.vxlan === null || inner === null || inner.eth === null) return this.drop(outer, 'no-handler');
    if (outer.vxlan.vni !== this.vni) {
      this.counters.rxBadVni++;
      return this.drop(outer, 'no-handler');
    }
    this.receive(inner, skbLength(inner));
    // The inner frame went on (or ended) synchronously: the outer packet is done (see `recycle`).
    if ((this.recycle ??= packetRecyclingAllowed(this.sim)) && outer.recycler === RECYCLER_VXLAN && outer.fragList === null && outer.ip !== null && outer.udp !== null && spare.length < SPARE_MAX && !traceEverSubscribed()) {
      outer.inner = null; // (nor keep the frame, its conntrack entry or payload alive in the spare list)
      outer.ct = null;
      releaseEthernet(outer); // (for the next frame's neighbour output)
      spare.push(outer);
    }
  }

  /** udp_flow_src_port: hash of the inner flow scaled into [32768, 61000). */
  private flowSrcPort(inner: Packet): number {
    let h = this.seedKey;
    const ip = inner.ip;
    if (ip !== null) {
      h = mix(h, ip.src);
      h = mix(h, ip.dst);
      h = mix(h, ip.protocol);
      const ports = inner.tcp ?? inner.udp;
      if (ports !== null) h = mix(h, (ports.srcPort << 16) | ports.dstPort);
      else if (inner.icmp !== null) h = mix(h, inner.icmp.rest >>> 16);
    } else if (inner.arp !== null) {
      h = mix(h, inner.arp.spa);
      h = mix(h, inner.arp.tpa);
      h = mix(h, EtherType.ARP);
    }
    h ^= h >>> 16;
    const hash = h >>> 0;
    return Math.floor((hash * (PORT_MAX - PORT_MIN)) / 4294967296) + PORT_MIN;
  }
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ (v >>> 0), 0x5bd1e995);
  return (h ^ (h >>> 15)) | 0;
}

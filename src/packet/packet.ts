// packet/packet — the packet in flight. Layer: packet (imports core, wire).
// A packet is a set of header records plus a payload length and optional payload bytes, plus the
// metadata the kernel keeps beside an skb (mark, conntrack, devices). Bytes are produced only where a
// capture point records the packet (packet/serialize), so each interface shows the headers as they
// are there: after NAT, after TTL decrement, with or without encapsulation.
import { copyTcpOptions } from '../wire/tcp.js';
import type { ArpHeader, EthernetHeader, IcmpHeader, Ipv4Header, TcpHeader, UdpHeader, VxlanHeader } from '../wire/types.js';
// This module's own exported functions called in it, as module constants: an export is read from its
// module cell at each use, a constant is folded (bench/README.md, session 38: s38-cells).
const releaseEthernetHere = releaseEthernet;

let nextUid = 1;

/** The recyclers of the ownership rule below: who built a packet it may take back. */
// TCP: transport/tcp's tcpSegment, given back at its socket's layer (net/ip-input); VXLAN: link/vxlan's
// outer packets, given back by the decapsulating device.
export const Recycler = { NONE: 0, TCP: 1, VXLAN: 2 } as const;
const RecyclerHere = Recycler; // own export, as a module constant
export type Recycler = (typeof Recycler)[keyof typeof Recycler];

/** One packet (skb). Exactly one of arp / ip is set above Ethernet; at most one of icmp / udp / tcp above IP. */
export class Packet {
  /** Monotonic id for tracing (not on the wire). Reset per run with resetPacketUids(). */
  uid = nextUid++;
  eth: EthernetHeader | null = null;
  arp: ArpHeader | null = null;
  ip: Ipv4Header | null = null;
  icmp: IcmpHeader | null = null;
  udp: UdpHeader | null = null;
  tcp: TcpHeader | null = null;
  /** VXLAN header when this packet is an outer UDP datagram carrying `inner` (an Ethernet frame). */
  vxlan: VxlanHeader | null = null;
  /**
   * Encapsulated packet: the inner Ethernet frame of a VXLAN packet, or the original datagram quoted
   * by an ICMP error (serialized up to the quote limit).
   */
  inner: Packet | null = null;
  /** Application payload length in bytes (after the innermost L4 header). */
  payloadLength = 0;
  /** Application payload bytes when the app supplied real data (HTTP, DNS); null means zero bytes of that length. */
  payload: Uint8Array | null = null;
  /**
   * A fragment (ip_do_fragment): the whole datagram it was cut from. The fragment has no L4 record; its
   * `payloadLength` bytes are the whole's IP payload from byte `ip.fragOffset * 8` on (serialize reads
   * them from there). Never a fragment itself; shared read-only by all fragments of the datagram.
   */
  fragOf: Packet | null = null;
  /**
   * A datagram reassembled by ip_defrag: the IP payload length of each fragment as it arrived, in
   * offset order (the skb's frag_list; its largest is IPCB(skb)->frag_max_size). Output refragments
   * along it when it fits the MTU, as ip_do_fragment's fast path does. Null for other packets.
   */
  fragList: number[] | null = null;

  // --- metadata the kernel keeps beside the packet (never on the wire) ---
  /** skb->mark (iptables MARK / -m mark). */
  mark = 0;
  /** Conntrack entry attached by the netfilter layer (opaque here). */
  ct: object | null = null;
  /** Conntrack direction of this packet relative to `ct` (0 original, 1 reply). */
  ctDir = 0;
  /** PREROUTING already ran for this packet at a bridge port (br_netfilter); ip_rcv skips it. */
  brPrerouted = false;
  /** Flow id of the application flow that sent the packet, for statistics (0 = none). */
  flowId = 0;
  /**
   * A bit netem flipped (corrupt), counted from the first bit of the IP header (−1: none). The records
   * stay as sent; serialize flips the bit after computing every checksum, so the capture shows the
   * frame as it is on the wire, and the receiving stack's checksum check (net/) fails where the kernel's would.
   */
  corruptBit = -1;
  /**
   * Capture hand-off memo (capture/frame-memo): the tag of the capture point that last serialized this
   * packet leaving a device whose wire peer is captured too (0: none), and where its bytes are kept.
   * Read only at that peer's arrival capture; never copied by clone().
   */
  capTag = 0;
  capAt = 0;
  capLen = 0;
  /**
   * Which recycler built this packet with records of its own (Recycler; NONE: made by hand, parsed,
   * cloned or cut from a datagram): the only packets it takes back where they end. Never copied by
   * clone().
   */
  recycler: Recycler = RecyclerHere.NONE;
  /**
   * skb->nf_bridge's bridged-DNAT part: set by the bridge that hands a bridged-DNAT frame to the
   * neighbour layer (its ingress port and source MAC, link/bridge's record; opaque here), taken back
   * when the frame leaves that bridge. Null for every other packet; never copied by clone().
   */
  nfBridge: object | null = null;

  /**
   * Makes this packet what `new Packet()` makes at this point (the next uid, every field as initialised
   * above), for a sender that recycles packets nothing else can hold (link/vxlan's outer packets, transport/tcp's segments).
   * Every field of the class is set here: test/link/vxlan-recycle checks it against a new Packet.
   */
  renew(): void {
    this.ip = null;
    this.udp = null;
    this.vxlan = null;
    this.renewKeepingRecords();
  }

  /**
   * renew() but for `ip`, `udp` and `vxlan`, left as they are: link/vxlan renews its outer packets with
   * the same three records, and storing them back into a recycled (old) packet is a write barrier each.
   */
  renewKeepingRecords(): void {
    this.tcp = null;
    this.renewAllButHeaders();
  }

  /**
   * renew() but for `ip` and `tcp`, left as they are: transport/tcp renews a segment given back with the
   * same two records (rewritten whole), and storing them back into a recycled (old) packet is a write
   * barrier each (test/packet/renew checks it against a new packet).
   */
  renewKeepingIpTcp(): void {
    this.udp = null;
    this.vxlan = null;
    this.renewAllButHeaders();
  }

  /** The renew variants' common part: every field as a new packet has it but the `ip`, `udp`, `vxlan` and `tcp` records. */
  private renewAllButHeaders(): void {
    this.uid = nextUid++;
    this.eth = null;
    this.arp = null;
    this.icmp = null;
    this.inner = null;
    this.payloadLength = 0;
    this.payload = null;
    this.fragOf = null;
    this.fragList = null;
    this.mark = 0;
    this.ct = null;
    this.ctDir = 0;
    this.brPrerouted = false;
    this.flowId = 0;
    this.corruptBit = -1;
    this.capTag = 0;
    this.capAt = 0;
    this.capLen = 0;
    this.recycler = RecyclerHere.NONE;
    this.nfBridge = null;
  }

  /**
   * One port's copy of a flooded frame (br_flood's skb_clone, whose data the copies share): a frame
   * without an IP header (ARP) shares its Ethernet and ARP records with the copies, as nothing writes
   * them after the frame is built (neighbour output, br_netfilter and bridged DNAT write the Ethernet
   * record of IP frames only; netem's corrupt writes a clone()); any other frame is clone()d. Saves two
   * of a flooded ARP request's three objects per port (the big cluster's underlay floods to 1,000 ports).
   */
  floodCopy(): Packet {
    if (this.ip !== null || this.arp === null || this.inner !== null || this.tcp !== null || this.udp !== null || this.icmp !== null || this.vxlan !== null) return this.clone();
    const p = new Packet();
    p.eth = this.eth;
    p.arp = this.arp;
    return this.copyRestInto(p);
  }

  /** Copies what every copy of this packet shares (payload, fragments, mark, conntrack, flow) into `p`. */
  private copyRestInto(p: Packet): Packet {
    p.payloadLength = this.payloadLength;
    p.payload = this.payload;
    p.fragOf = this.fragOf;
    p.fragList = this.fragList;
    p.mark = this.mark;
    p.ct = this.ct;
    p.ctDir = this.ctDir;
    p.flowId = this.flowId;
    p.corruptBit = this.corruptBit;
    return p;
  }

  /** Copy with fresh header records (payload bytes and inner packet shared read-only); used by flooding. */
  clone(): Packet {
    const p = new Packet();
    p.eth = this.eth && { ...this.eth };
    p.arp = this.arp && { ...this.arp };
    p.ip = this.ip && { ...this.ip };
    p.icmp = this.icmp && { ...this.icmp };
    p.udp = this.udp && { ...this.udp };
    p.tcp = this.tcp && { ...this.tcp, options: copyTcpOptions(this.tcp.options) };
    p.vxlan = this.vxlan && { ...this.vxlan };
    p.inner = this.inner && this.inner.clone();
    return this.copyRestInto(p);
  }
}

/** Restarts packet uids at 1 so two runs in one process number packets alike. */
export function resetPacketUids(): void {
  nextUid = 1;
}

// --- Recycling (ownership rule) ---
// A packet lives from its sender to where it ends: a socket's layer, a decapsulating VXLAN device, a
// drop. On the way only the events that carry it hold it, each done before it arrives. Three things
// can keep a packet beyond that, and recycling is off while any can: a trace subscriber (taps, hops,
// drops: traceEverSubscribed, process-wide and sticky), the netfilter cost model (it remembers the
// packet it is walking by identity, Netfilter.walkPkt: the world builder allows recycling only
// without it), and a packet cut into fragments or reassembled (fragments point at their datagram).
// Only packets their recycler built come back (Packet.recycler): a packet made by hand
// stays its maker's. Direct observers that are not trace subscribers (a device's FrameHook, an
// rxHandler, a protocol receiver, a UDP encapsulation handler) see a packet only during the call and
// must copy what they keep: capture/ copies a frame's bytes into its ring at once.
// Clones are new packets. A recycled packet is renewed (Packet.renew) before its next use.

const recyclingWorlds = new WeakSet<object>();

/**
 * The builder of the world whose simulator is `sim` says nothing in it keeps a packet after its flight
 * (no cost model, no frame hook that stores packets): its ends may give packets back for reuse.
 */
export function allowPacketRecycling(sim: object): void {
  recyclingWorlds.add(sim);
}

/** Whether allowPacketRecycling was called for `sim` (a trace subscriber is checked apart: traceEverSubscribed). */
export function packetRecyclingAllowed(sim: object): boolean {
  return recyclingWorlds.has(sim);
}

/** TCP segments given back where they ended (net/ip-input), for transport/tcp's next segments. */
const spareSegments: Packet[] = [];
/** More would only sit there: H1 keeps a few dozen in flight. */
const SPARE_SEGMENTS_MAX = 256;

/**
 * A TCP segment that ended at its socket's layer, given back by the caller that delivered it (after
 * every reader of it returned). Only a segment with its own IP and TCP records, not a fragment or a
 * reassembled datagram. Its references are dropped at once (the spare list keeps no frame, payload or
 * conntrack entry alive).
 */
export function releaseSegment(pkt: Packet): void {
  if (spareSegments.length >= SPARE_SEGMENTS_MAX || pkt.recycler !== RecyclerHere.TCP || pkt.ip === null || pkt.tcp === null || pkt.fragList !== null || pkt.fragOf !== null || pkt.inner !== null) return;
  pkt.payload = null;
  pkt.ct = null;
  releaseEthernetHere(pkt);
  spareSegments.push(pkt);
}

/** A spare TCP segment (its IP and TCP records still attached, to be rewritten whole), or null. */
export function takeSegment(): Packet | null {
  return spareSegments.length > 0 ? spareSegments.pop()! : null;
}

/**
 * Ethernet records of packets given back (a TCP segment above, a VXLAN outer packet in link/vxlan),
 * for the next frame neighbour output sends (net/arp neighSend): a frame's first send would
 * otherwise allocate one per frame (~1 KB per H1 request). Only the records of packets the ownership
 * rule gives back come here: such a packet's record is its own (clone and br_netfilter copy records;
 * the only record two packets share, a reassembled datagram's, is never given back).
 */
const spareEthernet: EthernetHeader[] = [];

/** Takes `pkt`'s Ethernet record for reuse (pkt.eth becomes null); `pkt` is being given back. */
export function releaseEthernet(pkt: Packet): void {
  const eth = pkt.eth;
  if (eth === null) return;
  pkt.eth = null;
  if (spareEthernet.length < SPARE_SEGMENTS_MAX) spareEthernet.push(eth);
}

/** A spare Ethernet record (every field to be rewritten), or null. */
export function takeEthernet(): EthernetHeader | null {
  return spareEthernet.length > 0 ? spareEthernet.pop()! : null;
}

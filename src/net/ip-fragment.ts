// net/ip-fragment — cutting an IPv4 datagram into fragments on output (net/ipv4/ip_output.c
// ip_fragment, ip_do_fragment, ip_frag_next). Layer: net (imports packet, wire, and net/).
//
// Called by ipFinishOutput (__ip_finish_output: skb->len > mtu, or the datagram was reassembled here
// so IPCB(skb)->frag_max_size is set) and by br_netfilter for a reassembled bridged frame.
//   - DF set: ICMP fragmentation needed with the next-hop MTU, and a 'frag-needed' drop.
//   - Fast path (the skb's frag_list, i.e. a datagram nf_defrag reassembled): the fragments keep the
//     sizes they arrived with, when each fits the MTU and all but the last are multiples of 8.
//   - Slow path: (mtu − ihl) rounded down to a multiple of 8 bytes per fragment, the last one takes
//     what is left. Every fragment: the same ID, TTL, TOS, protocol, addresses; MF on all but the last
//     (on the last too when the datagram was itself a non-last fragment); offset in 8-byte units.
// Measured on Linux 6.x (test/fidelity/kernel-fragment.test.ts): 3028 bytes over MTU 1500 → 1500,
// 1500, 68 at offsets 0, 185, 370; a router without conntrack cuts each 1500-byte fragment for MTU
// 1400 into 1396 + 124; with conntrack it reassembles and cuts 3028 into 1396, 1396, 276.
// A fragment carries no L4 record: `fragOf` is the whole datagram, whose bytes serialize reads.
// Not modelled: IP options on non-first fragments (ip_options_fragment: they are copied as they are),
// GSO segmentation, IPSTATS_MIB_FRAG* counters.
import { Packet } from '../packet/packet.js';
import { ipv4HeaderLength } from '../wire/ipv4.js';
import { IcmpType, IcmpUnreachCode, IP_DF, IP_MF } from '../wire/types.js';
import { dropPacket } from './drop.js';
import { icmpSend } from './icmp.js';
import type { Namespace } from './namespace.js';

/**
 * ip_fragment: the fragments of `pkt` for a link of `mtu` bytes, or null when DF forbids it (then an
 * ICMP fragmentation-needed went back to the sender and the packet is dropped as 'frag-needed').
 */
export function ipFragment(ns: Namespace, pkt: Packet, mtu: number): Packet[] | null {
  const ip = pkt.ip!;
  if ((ip.flags & IP_DF) !== 0) {
    icmpSend(ns, pkt, IcmpType.DEST_UNREACH, IcmpUnreachCode.FRAG_NEEDED, mtu);
    dropPacket(ns, pkt, 'frag-needed');
    return null;
  }
  return ipDoFragment(pkt, mtu);
}

/** ip_do_fragment: cuts `pkt` (DF clear) into fragments of at most `mtu` bytes each. */
export function ipDoFragment(pkt: Packet, mtu: number): Packet[] {
  const ip = pkt.ip!;
  const hlen = ipv4HeaderLength(ip);
  const left = ip.totalLength - hlen;
  const sizes = pkt.fragList !== null && fragListFits(pkt.fragList, mtu - hlen) ? pkt.fragList : sliceSizes(left, mtu - hlen);
  // A fragment being cut again points into the datagram it came from, at its own offset.
  const whole = pkt.fragOf ?? pkt;
  const base = ip.fragOffset * 8;
  const moreAfter = ip.flags & IP_MF;
  const out: Packet[] = [];
  let off = 0;
  for (let i = 0; i < sizes.length; i++) {
    const len = sizes[i]!;
    const last = i === sizes.length - 1;
    const f = new Packet();
    f.ip = {
      tos: ip.tos,
      totalLength: hlen + len,
      id: ip.id,
      flags: (ip.flags & ~IP_MF) | (last ? moreAfter : IP_MF),
      fragOffset: (base + off) >>> 3,
      ttl: ip.ttl,
      protocol: ip.protocol,
      checksum: null,
      src: ip.src,
      dst: ip.dst,
      options: ip.options,
    };
    f.payloadLength = len;
    f.fragOf = whole;
    // ip_copy_metadata: mark, conntrack reference, and podwire's flow statistics.
    f.mark = pkt.mark;
    f.ct = pkt.ct;
    f.ctDir = pkt.ctDir;
    f.flowId = pkt.flowId;
    out.push(f);
    off += len;
  }
  return out;
}

/** ip_do_fragment's frag_list check: every piece fits `room` and all but the last are multiples of 8. */
function fragListFits(list: number[], room: number): boolean {
  for (let i = 0; i < list.length; i++) {
    const len = list[i]!;
    if (len > room || ((len & 7) !== 0 && i < list.length - 1)) return false;
  }
  return true;
}

/** ip_frag_next's sizes: (mtu − ihl) & ~7 per fragment while more remains, the rest last. */
function sliceSizes(left: number, room: number): number[] {
  const step = room & ~7;
  const sizes: number[] = [];
  while (left > room) {
    sizes.push(step);
    left -= step;
  }
  sizes.push(left);
  return sizes;
}

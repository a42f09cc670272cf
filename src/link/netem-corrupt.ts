// link/netem-corrupt — netem's `corrupt P`: `skb->data[rand(headlen)] ^= 1 << rand(8)` (sch_netem.c),
// one bit of the frame as it leaves, after its checksums were computed (skb_checksum_help). Layer: link.
// A bit in the Ethernet header changes the header record (a flipped destination MAC makes the frame
// PACKET_OTHERHOST at the receiver, or a multicast a bridge floods; a flipped EtherType finds no
// protocol handler). A bit past it is kept as `pkt.corruptBit` (from the IP header's first bit): the
// records stay as sent, serialize flips the bit last, and the receiver's checksum check fails (IP
// header: ip_rcv; L4: the TCP/UDP/ICMP receive of the final destination — net/ip-input.ts).
// Not modelled: a flipped bit in an ARP body (the capture shows it; arp_rcv reads the record as sent).
import type { Rng } from '../core/rng.js';
import type { Packet } from '../packet/packet.js';

const ETH_HLEN = 14;

/** XORs bit `bit` (0 = least significant) of byte `byte` (0 = most significant) of an n-byte number. */
function flipByteBit(value: number, byte: number, nBytes: number, bit: number): number {
  const weight = 2 ** (8 * (nBytes - 1 - byte)) * (1 << bit);
  return Math.floor(value / weight) % 2 === 1 ? value - weight : value + weight;
}

/** Flips one random bit of a `len`-byte frame. */
export function corruptFrame(pkt: Packet, len: number, rng: Rng): void {
  const byte = rng.int(len);
  const bit = rng.int(8);
  const eth = pkt.eth;
  if (eth !== null && byte < ETH_HLEN) {
    if (byte < 6) eth.dst = flipByteBit(eth.dst, byte, 6, bit);
    else if (byte < 12) eth.src = flipByteBit(eth.src, byte - 6, 6, bit);
    else eth.etherType = flipByteBit(eth.etherType, byte - 12, 2, bit);
    return;
  }
  pkt.corruptBit = (byte - (eth !== null ? ETH_HLEN : 0)) * 8 + bit; // byte·8 + the bit's weight (1 << bit)
}

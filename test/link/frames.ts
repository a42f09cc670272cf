// test/link/frames — minimal frames for link-layer tests: an Ethernet header over an IPv4/UDP record
// (lengths filled as the net layer fills them), and a recorder for what a device hands up.
import type { NetDevice } from '../../src/link/device.js';
import type { L3Output, UdpTunnelHost } from '../../src/link/vxlan.js';
import { frameLength, ipTotalLength, udpLength } from '../../src/packet/length.js';
import { Packet } from '../../src/packet/packet.js';
import { arpRequest } from '../../src/wire/arp.js';
import { formatMac } from '../../src/wire/mac.js';
import { BROADCAST_MAC, EtherType, IpProto, type Mac } from '../../src/wire/types.js';

/** A UDP frame from MAC `src` to MAC `dst` with `payload` bytes; `tag` goes in udp.srcPort to tell frames apart. */
export function udpEthFrame(src: Mac, dst: Mac, payload = 64, tag = 1000): Packet {
  const p = new Packet();
  p.eth = { dst, src, etherType: EtherType.IPv4 };
  p.ip = { tos: 0, totalLength: 0, id: 1, flags: 0, fragOffset: 0, ttl: 64, protocol: IpProto.UDP, checksum: null, src: 0x0a000001, dst: 0x0a000002, options: null };
  p.udp = { srcPort: tag, dstPort: 9, length: 0, checksum: null };
  p.payloadLength = payload;
  p.udp.length = udpLength(p);
  p.ip.totalLength = ipTotalLength(p);
  return p;
}

/** A broadcast ARP request frame from `src`. */
export function arpBroadcast(src: Mac): Packet {
  const p = new Packet();
  p.eth = { dst: BROADCAST_MAC, src, etherType: EtherType.ARP };
  p.arp = arpRequest(src, 0x0a000001, 0x0a000002);
  return p;
}

/** One received frame as a test sees it. */
export interface Rx {
  dev: string;
  src: string;
  dst: string;
  tag: number;
  len: number;
}

/** Installs a receive handler on each device that appends to the returned log. */
export function recordRx(...devs: NetDevice[]): Rx[] {
  const log: Rx[] = [];
  for (const d of devs) {
    d.rxHandler = (dev, pkt) => log.push({ dev: dev.name, src: formatMac(pkt.eth!.src), dst: formatMac(pkt.eth!.dst), tag: pkt.udp?.srcPort ?? -1, len: frameLength(pkt) });
  }
  return log;
}

/** Subscribes to each device's drops; returns the log of "dev: reason". */
export function recordDrops(...devs: NetDevice[]): string[] {
  const log: string[] = [];
  for (const d of devs) d.dropped.connect((dev, _p, reason) => log.push(`${dev.name}: ${reason}`));
  return log;
}

/** A host under a VxlanDevice that keeps the outer packets it is handed and the decapsulation hook it is given. */
export class FakeHost implements L3Output, UdpTunnelHost {
  readonly sent: Packet[] = [];
  rx: ((outer: Packet) => void) | null = null;
  ipLocalOut(pkt: Packet): boolean {
    this.sent.push(pkt);
    return true;
  }
  registerUdpEncap(_port: number, rx: (outer: Packet) => void): void {
    this.rx = rx;
  }
}

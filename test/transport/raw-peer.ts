// test/transport/raw-peer — a scripted TCP endpoint for tests (ns-3 TcpGeneralTest's "sender/receiver
// under the test's control", gVisor's testbench): it registers itself as protocol 6 of a FakeStack,
// records every segment it receives, and sends exactly the segments the test writes, so a test can
// put a podwire socket in front of sequences a podwire peer would never produce (a SYN with a chosen
// ISN on a TIME_WAIT 4-tuple, a zero window).
import type { L4Receiver } from '../../src/net/api.js';
import { Packet } from '../../src/packet/packet.js';
import { ipv4Header } from '../../src/wire/ipv4.js';
import { IP_DF, IpProto, type Ipv4, type TcpOption } from '../../src/wire/types.js';
import type { FakeStack } from './fake-net.js';

/** What a test writes for one segment; seq/ack are absolute 32-bit values. */
export interface RawSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  options?: TcpOption[];
  /** Payload bytes (a length: the payload itself is not needed by the socket under test). */
  len?: number;
}

export class RawPeer implements L4Receiver {
  readonly got: Packet[] = [];
  /** Called for each received segment, after it is recorded. */
  onSegment: ((pkt: Packet) => void) | null = null;
  constructor(readonly stack: FakeStack) {
    stack.registerProtocol(IpProto.TCP, this);
  }
  receive(pkt: Packet): void {
    this.got.push(pkt);
    this.onSegment?.(pkt);
  }
  error(_icmp: Packet): void {}
  /** Sends one segment to `dst`, as written. */
  send(dst: Ipv4, s: RawSegment): void {
    const p = new Packet();
    p.ip = ipv4Header(IpProto.TCP, this.stack.addr, dst, IP_DF, 0, 64, 0);
    p.tcp = { srcPort: s.srcPort, dstPort: s.dstPort, seq: s.seq >>> 0, ack: (s.ack ?? 0) >>> 0, flags: s.flags, window: s.window ?? 65535, checksum: null, urgent: 0, options: s.options ?? [] };
    p.payloadLength = s.len ?? 0;
    this.stack.ipLocalOut(p);
  }
}

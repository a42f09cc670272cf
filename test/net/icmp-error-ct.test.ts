// An ICMP error joins the offending packet's connection only in the namespace whose conntrack attached
// it (icmp_glue_bits → nf_ct_attach). A packet arriving from another namespace carries no entry in
// Linux (skb_scrub_packet → nf_reset_ct on the way in); here its sender's entry is still on the object,
// and the sender's table may have destroyed and reused that entry for another connection since.
import { expect, it } from 'vitest';
import { SEC } from '../../src/core/time.js';
import type { Packet } from '../../src/packet/packet.js';
import { DEFAULT_CT_TIMEOUTS } from '../../src/netfilter/ct-timeouts.js';
import { IcmpType, IpProto } from '../../src/wire/types.js';
import { Lab, udpDatagram } from './harness.js';

it("a late error from a namespace without netfilter does not ride on the sender's reused entry", () => {
  const lab = new Lab();
  const a = lab.host('a');
  const b = lab.host('b');
  const [ea, eb] = lab.veth(a, 'eth0', '10.0.1.1/24', b, 'eth0', '10.0.1.2/24');
  lab.capture(ea, eb);
  const nfA = a.enableNetfilter({ conntrack: { timeouts: { ...DEFAULT_CT_TIMEOUTS, udp: 5 * SEC } } });
  const errors: Packet[] = [];
  // b (no netfilter) answers the first datagram with a port unreachable 20 s later (a slow peer);
  // a counts the errors its ICMP layer receives.
  b.registerProtocol(IpProto.UDP, {
    receive: (p) => {
      if (p.udp!.srcPort === 1111) lab.sim.post(20 * SEC, () => b.icmpSend(p, IcmpType.DEST_UNREACH, 3, 0));
    },
    error: () => {},
  });
  a.registerProtocol(IpProto.UDP, { receive: () => {}, error: (p) => void errors.push(p) });
  const first = udpDatagram('10.0.1.2', 9999, { srcPort: 1111 });
  a.ipLocalOut(first);
  const second = udpDatagram('10.0.1.2', 9999, { srcPort: 2222 });
  // 16 s: the first flow's entry expired at 5 s and is 11 s past it: the table reuses it for this one.
  lab.sim.post(16 * SEC, () => a.ipLocalOut(second));
  lab.sim.run();
  expect(second.ct, "the second flow took the first flow's recycled entry").toBe(first.ct);
  const err = lab.log.find((s) => s.dev === 'a/eth0' && s.dir === 'in' && s.pkt.icmp)?.pkt;
  expect(err, 'the port unreachable reached a').toBeDefined();
  // The error quotes the first flow (sport 1111), whose entry is gone: it must not be attached to the
  // second flow's connection (sport 2222).
  expect(err!.ct).not.toBe(second.ct);
  expect(nfA.conntrack.ctOf(err!)).toBeNull();
});

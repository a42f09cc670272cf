// link/vxlan reads its VTEP address and hash seed as small integers (VxlanDevice.localKey/seedKey, issue
// 13): the outer packet of a device whose address and seed are above 2^31 must carry the address itself
// (a new outer and a renewed spare one) and the source port udp_flow_src_port gives with the seed.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { VxlanDevice } from '../../src/link/vxlan.js';
import { allowPacketRecycling, type Packet } from '../../src/packet/packet.js';
import { FakeHost, udpEthFrame } from './frames.js';

const VX = 0x020000000001;
const PEER_VX = 0x020000000002;
const LOCAL = 0xc0a80a05; // 192.168.10.5
const PEER = 0xc0a80a06;

describe('VxlanDevice with an address and a hash seed above 2^31', () => {
  it('new and renewed outer packets carry the address and the seeded source ports', () => {
    const sim = new Simulator(1);
    allowPacketRecycling(sim);
    const a = new VxlanDevice(sim, 'flannel.1', VX, 1, LOCAL, 8472, 0xdeadbeef);
    const b = new VxlanDevice(sim, 'flannel.1', PEER_VX, 1, PEER, 8472, 0x9e3779b9);
    a.fdb.set(PEER_VX, PEER);
    b.fdb.set(VX, LOCAL);
    const ha = new FakeHost();
    const hb = new FakeHost();
    a.attach(ha);
    b.attach(hb);
    const seen: [number, number, number][] = [];
    let renewed: Packet | null = null;
    for (let tag = 1000; tag < 1006; tag++) {
      a.xmit(udpEthFrame(VX, PEER_VX, 64, tag));
      const o = ha.sent.pop()!;
      if (tag > 1000) expect(o).toBe(renewed); // (the outer b gave back)
      seen.push([o.ip!.src, o.ip!.dst, o.udp!.srcPort]);
      hb.rx!(o); // received: the outer goes to the spare list, the next xmit renews it
      b.xmit(udpEthFrame(PEER_VX, VX, 64, tag));
      const r = hb.sent.pop()!;
      seen.push([r.ip!.src, r.ip!.dst, r.udp!.srcPort]);
      ha.rx!(r);
      renewed = r;
    }
    expect(seen.map(([s, d]) => [s, d])).toEqual(Array.from({ length: 6 }, () => [[LOCAL, PEER], [PEER, LOCAL]]).flat());
    expect(seen.map((x) => x[2])).toEqual(SRC_PORTS);
  });
});

const SRC_PORTS = [39327, 41461, 41799, 38989, 34382, 46406, 36855, 43933, 57670, 59804, 60141, 57331];

// link/vxlan against a fake namespace: attach (setup_udp_tunnel_sock) opens the device's UDP port in
// its host and makes it send through the host's ip_local_out; without attach it has nowhere to send.
//
//   inner frame ─xmit→ flannel.1 ─(FDB: inner dst MAC → 10.100.0.2)→ host.ipLocalOut(outer UDP :8472)
//   host's encap_rcv(outer, VNI 1) → flannel.1 receives the inner frame
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { VxlanDevice, type L3Output, type UdpTunnelHost } from '../../src/link/vxlan.js';
import type { Packet } from '../../src/packet/packet.js';
import { recordDrops, recordRx, udpEthFrame } from './frames.js';

const VX = 0x020000000001;
const REMOTE_VX = 0x020000000002;
const LOCAL = 0x0a640001;
const REMOTE = 0x0a640002;

class FakeHost implements L3Output, UdpTunnelHost {
  readonly sent: Packet[] = [];
  readonly encap = new Map<number, (outer: Packet) => void>();
  ipLocalOut(pkt: Packet): boolean {
    this.sent.push(pkt);
    return true;
  }
  registerUdpEncap(port: number, rx: (outer: Packet) => void): void {
    this.encap.set(port, rx);
  }
}

function rig(vni = 1) {
  const sim = new Simulator(1);
  const vx = new VxlanDevice(sim, 'flannel.1', VX, vni, LOCAL, 8472, 12345);
  vx.fdb.set(REMOTE_VX, REMOTE);
  return { sim, vx, host: new FakeHost() };
}

describe('VxlanDevice.attach (UDP tunnel registration)', () => {
  it('registers the destination port with the host', () => {
    const { vx, host } = rig();
    vx.attach(host);
    expect([...host.encap.keys()]).toEqual([8472]);
  });

  it('xmit sends the outer UDP datagram through the host, toward the VTEP the FDB names', () => {
    const { vx, host } = rig();
    vx.attach(host);
    vx.xmit(udpEthFrame(VX, REMOTE_VX));
    expect(host.sent.map((p) => [p.ip!.src, p.ip!.dst, p.udp!.dstPort, p.vxlan!.vni])).toEqual([[LOCAL, REMOTE, 8472, 1]]);
  });

  it('before attach there is nowhere to send: the frame is dropped as no-carrier', () => {
    const { vx } = rig();
    const drops = recordDrops(vx);
    vx.xmit(udpEthFrame(VX, REMOTE_VX));
    expect(drops).toEqual(['flannel.1: no-carrier']);
  });

  it('the registered receiver delivers the inner frame as received on the device; a wrong VNI is dropped', () => {
    const { vx, host } = rig();
    vx.attach(host);
    const peer = rig(1);
    const wrong = rig(2);
    for (const r of [peer, wrong]) {
      r.vx.fdb.set(VX, LOCAL);
      r.vx.attach(r.host);
    }
    peer.vx.xmit(udpEthFrame(REMOTE_VX, VX, 64, 7));
    wrong.vx.xmit(udpEthFrame(REMOTE_VX, VX, 64, 8));
    const rx = recordRx(vx);
    const drops = recordDrops(vx);
    for (const outer of [...peer.host.sent, ...wrong.host.sent]) host.encap.get(8472)!(outer);
    expect(rx.map((r) => r.tag)).toEqual([7]);
    expect(drops).toEqual(['flannel.1: no-handler']);
  });
});

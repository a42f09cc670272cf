// The VXLAN header record an outer packet carries is shared by every device of one VNI (link/vxlan.ts
// vxlanHeaderOf), and outer packets are recycled between devices (the spare pool is the process's):
// each outer packet must still carry its own device's VNI, and a receiving VTEP of another VNI drops it.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { VxlanDevice, type L3Output, type UdpTunnelHost } from '../../src/link/vxlan.js';
import type { Packet } from '../../src/packet/packet.js';
import { udpEthFrame } from './frames.js';

const MAC = (i: number) => 0x020000000000 + i;
const IP = (i: number) => 0x0a640000 + i;

class FakeHost implements L3Output, UdpTunnelHost {
  readonly sent: Packet[] = [];
  ipLocalOut(pkt: Packet): boolean {
    this.sent.push(pkt);
    return true;
  }
  registerUdpEncap(): void {}
}

function vtep(sim: Simulator, i: number, vni: number): { dev: VxlanDevice; host: FakeHost } {
  const dev = new VxlanDevice(sim, `vx${i}`, MAC(i), vni, IP(i), 8472, 7 * i);
  const host = new FakeHost();
  dev.attach(host);
  dev.recycle = true;
  return { dev, host };
}

describe('VXLAN header records', () => {
  it('devices of one VNI share one record, devices of another VNI carry their own, across recycled outer packets', () => {
    const sim = new Simulator(1);
    const a = vtep(sim, 1, 1);
    const b = vtep(sim, 2, 1);
    const c = vtep(sim, 3, 2);
    const d = vtep(sim, 4, 2);
    for (const x of [a, b, c, d]) for (const y of [a, b, c, d]) if (x !== y) x.dev.fdb.set(MAC(Number(y.dev.name.slice(2))), IP(Number(y.dev.name.slice(2))));
    const got: { vtep: string; inner: Packet }[] = [];
    for (const x of [a, b, c, d]) x.dev.rxHandler = (dev, p) => got.push({ vtep: dev.name, inner: p });
    // Alternate senders of both VNIs; every outer packet is received (and so given back to the spare
    // pool) before the next send, so each send renews the packet another device built.
    const plan: [typeof a, typeof a][] = [
      [a, b],
      [c, d],
      [b, a],
      [d, c],
      [a, b],
      [c, d],
    ];
    const outers: Packet[] = [];
    for (const [from, to] of plan) {
      from.dev.xmit(udpEthFrame(from.dev.mac, to.dev.mac, 10));
      const outer = from.host.sent.pop()!;
      outers.push(outer);
      expect(outer.vxlan!.vni).toBe(from.dev.vni);
      to.dev.encapReceive(outer);
    }
    expect(got.map((g) => g.vtep)).toEqual(['vx2', 'vx4', 'vx1', 'vx3', 'vx2', 'vx4']);
    // (the packets were recycled: each send renewed the one the previous device built)
    for (const o of outers) expect(o).toBe(outers[0]);
    // A frame sent to a VTEP of another VNI: its outer packet carries the sender's VNI and is refused.
    a.dev.xmit(udpEthFrame(a.dev.mac, c.dev.mac, 10));
    const stray = a.host.sent.pop()!;
    expect(stray.vxlan!.vni).toBe(1);
    c.dev.encapReceive(stray);
    expect(got).toHaveLength(6);
    expect(c.dev.counters.rxBadVni).toBe(1);
    // One record per VNI: the two devices of VNI 1 send the same object, the devices of VNI 2 another.
    a.dev.xmit(udpEthFrame(a.dev.mac, b.dev.mac, 10));
    b.dev.xmit(udpEthFrame(b.dev.mac, a.dev.mac, 10));
    c.dev.xmit(udpEthFrame(c.dev.mac, d.dev.mac, 10));
    const [hb, ha, hc] = [b.host.sent.pop()!.vxlan, a.host.sent.pop()!.vxlan, c.host.sent.pop()!.vxlan];
    expect(ha).toBe(hb);
    expect(hc).not.toBe(ha);
    expect(hc!.vni).toBe(2);
  });
});

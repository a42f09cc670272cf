// Who gets a frame, a bridged IP frame, a tunnel's datagram and a TCP segment when the namespace is
// called as an object (NetDevice.setReceiver, BridgeDevice.setNetfilter, registerUdpEncap's device, the
// namespace's own TCP receiver) rather than through the closures it also hands out: always the
// receiver installed last, as with the closures alone.
//
//   a: eth0 10.0.0.1/24 ══ veth ══ b: eth0 10.0.0.2/24, each with VXLAN devices on ports 8472 and 4789
import { describe, expect, it } from 'vitest';
import { BridgeDevice, type BridgeNetfilter } from '../../src/link/bridge.js';
import type { NetDevice } from '../../src/link/device.js';
import { VethDevice } from '../../src/link/veth.js';
import { VxlanDevice } from '../../src/link/vxlan.js';
import type { Packet } from '../../src/packet/packet.js';
import { IpProto, TcpFlag } from '../../src/wire/types.js';
import { udpEthFrame } from '../link/frames.js';
import { ip, Lab, udpDatagram } from './harness.js';

const MAC_A1 = 0x020000000a01;
const MAC_A2 = 0x020000000a02;
const MAC_B1 = 0x020000000b01;
const MAC_B2 = 0x020000000b02;

/** a and b on a veth; each has vx1 (VNI 1, port 8472) and vx2 (VNI 2, port 4789) pointing at the other. */
function tunnels(bPorts: Array<[vni: number, port: number, mac: number]>) {
  const lab = new Lab();
  const a = lab.host('a');
  const b = lab.host('b');
  lab.veth(a, 'eth0', '10.0.0.1/24', b, 'eth0', '10.0.0.2/24');
  const mk = (ns: typeof a, name: string, mac: number, vni: number, local: string, port: number) => {
    const d = new VxlanDevice(lab.sim, name, mac, vni, ip(local), port, 7);
    ns.addDevice(d);
    d.attach(ns);
    return d;
  };
  const a1 = mk(a, 'vx1', MAC_A1, 1, '10.0.0.1', 8472);
  const a2 = mk(a, 'vx2', MAC_A2, 2, '10.0.0.1', 4789);
  const bs = bPorts.map(([vni, port, mac], i) => mk(b, `vx${i + 1}`, mac, vni, '10.0.0.2', port));
  a1.fdb.set(MAC_B1, ip('10.0.0.2'));
  a2.fdb.set(MAC_B2, ip('10.0.0.2'));
  // What each of b's tunnel devices receives (its namespace's receiver replaced after addDevice).
  const got = bs.map(() => [] as number[]);
  bs.forEach((d, i) => (d.rxHandler = (_dev, p) => got[i]!.push(p.eth!.dst)));
  return { lab, a1, a2, bs, got };
}

describe('UDP tunnel datagrams', () => {
  it("reach the device of their port when the namespace has one tunnel port or several", () => {
    const one = tunnels([[1, 8472, MAC_B1]]);
    one.a1.xmit(udpEthFrame(MAC_A1, MAC_B1));
    one.lab.sim.run();
    expect(one.got).toEqual([[MAC_B1]]);

    // b's one tunnel port is 8472, its device VNI 2: a VNI 2 datagram to port 4789 is not its.
    const other = tunnels([[2, 8472, MAC_B2]]);
    other.a2.xmit(udpEthFrame(MAC_A2, MAC_B2));
    other.lab.sim.run();
    expect(other.got).toEqual([[]]);

    const two = tunnels([[1, 8472, MAC_B1], [2, 4789, MAC_B2]]);
    two.a2.xmit(udpEthFrame(MAC_A2, MAC_B2));
    two.a1.xmit(udpEthFrame(MAC_A1, MAC_B1));
    two.a2.xmit(udpEthFrame(MAC_A2, MAC_B2));
    two.lab.sim.run();
    expect(two.got).toEqual([[MAC_B1], [MAC_B2, MAC_B2]]);
  });

  it('reach the receiver a host registered without its device', () => {
    const lab = new Lab();
    const a = lab.host('a');
    const b = lab.host('b');
    lab.veth(a, 'eth0', '10.0.0.1/24', b, 'eth0', '10.0.0.2/24');
    const tx = new VxlanDevice(lab.sim, 'vx1', MAC_A1, 1, ip('10.0.0.1'), 8472, 7);
    a.addDevice(tx);
    tx.attach(a);
    tx.fdb.set(MAC_B1, ip('10.0.0.2'));
    const outers: Packet[] = [];
    b.registerUdpEncap(8472, (outer) => outers.push(outer));
    tx.xmit(udpEthFrame(MAC_A1, MAC_B1));
    lab.sim.run();
    expect(outers.map((o) => o.inner!.eth!.dst)).toEqual([MAC_B1]);
  });
});

describe("a device's receiver", () => {
  it('is the one set last: a handler set after the namespace took the device gets its frames', () => {
    const lab = new Lab();
    const a = lab.host('a');
    const b = lab.host('b');
    const [ea, eb] = lab.veth(a, 'eth0', '10.0.0.1/24', b, 'eth0', '10.0.0.2/24');
    const seen: string[] = [];
    const up = eb.rxHandler!;
    eb.rxHandler = (dev, pkt) => {
      seen.push(dev.name);
      up(dev, pkt); // (on to the namespace, as a load balancer's dataplane hook does)
    };
    expect(eb.rxHandler).not.toBe(up);
    const got: Packet[] = [];
    b.registerProtocol(IpProto.UDP, { receive: (p) => got.push(p), error: () => {} });
    a.ipLocalOut(udpDatagram('10.0.0.2'));
    lab.sim.run();
    expect(seen.length).toBeGreaterThanOrEqual(2); // the ARP request and the datagram, at least
    expect(got.length).toBe(1);
    expect(ea.rxHandler).not.toBeNull();
  });
});

describe('the TCP receiver', () => {
  it('is the one registered last', () => {
    const lab = new Lab();
    const a = lab.host('a');
    const b = lab.host('b');
    lab.veth(a, 'eth0', '10.0.0.1/24', b, 'eth0', '10.0.0.2/24');
    const first: Packet[] = [];
    const second: Packet[] = [];
    b.registerProtocol(IpProto.TCP, { receive: (p) => first.push(p), error: () => {} });
    b.registerProtocol(IpProto.TCP, { receive: (p) => second.push(p), error: () => {} });
    const seg = udpDatagram('10.0.0.2');
    seg.ip!.protocol = IpProto.TCP;
    seg.udp = null;
    seg.tcp = { srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 1000, checksum: null, urgent: 0, options: [] };
    a.ipLocalOut(seg);
    lab.sim.run();
    expect([first.length, second.length]).toEqual([0, 1]);
  });
});

describe("a bridge's br_netfilter", () => {
  it("is called through its object form when set with one, else as the function set; reading it gives the function", () => {
    const lab = new Lab();
    const ns = lab.host('n');
    const [p1] = VethDevice.pair(lab.sim, 'p1', 0x020000000101, 'q1', 0x020000000102);
    const [p2, q2] = VethDevice.pair(lab.sim, 'p2', 0x020000000201, 'q2', 0x020000000202);
    const br = lab.bridge(ns, 'br0', null, [p1, p2]);
    const calls: string[] = [];
    const plain: BridgeNetfilter = () => {
      calls.push('plain');
      return true;
    };
    const withTarget: BridgeNetfilter = () => {
      calls.push('function');
      return true;
    };
    const target = {
      bridgeNetfilter: (b: BridgeDevice, inPort: NetDevice, outPort: NetDevice | null) => {
        calls.push(`target ${b.name} ${inPort.name}>${outPort?.name ?? 'up'}`);
        return true;
      },
    };
    const frame = () => udpEthFrame(0x020000000999, q2.mac);
    br.portReceive(p2, udpEthFrame(q2.mac, 0x020000000999)); // (learn q2's MAC on p2)
    br.setNetfilter(target, withTarget);
    expect(br.netfilter).toBe(withTarget);
    br.portReceive(p1, frame());
    br.netfilter = plain;
    expect(br.netfilter).toBe(plain);
    br.portReceive(p1, frame());
    br.netfilter = null;
    br.portReceive(p1, frame());
    expect(calls).toEqual(['target br0 p1>p2', 'plain']);
  });
});

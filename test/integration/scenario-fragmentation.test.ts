// scenarios/fragmentation.yaml end to end: fragments of 4000-byte datagrams across flannel VXLAN, and
// path MTU discovery of the laptop's DF datagrams to a NodePort (the kernel behaviour each step
// reproduces is measured in test/fidelity/kernel-fragment.test.ts).
//
//   big-a (node1) ─ cni0 ─ flannel.1 ═VXLAN═ flannel.1 ─ cni0 ─ big-b (node2, udp-echo :9000)
//   laptop ── network ── node2 eth0 :30090 (NodePort, externalTrafficPolicy Local) → big-b
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { IP_DF, IP_MF, type Ipv4Header } from '../../src/wire/types.js';
import { hasTshark, NO_TSHARK, tsharkCheck, tsharkRecords } from '../helpers/tshark.js';
import { runScenarioFrames } from './run-scenario.js';

const r = runScenarioFrames('fragmentation');
const stats = JSON.parse(r.statsJson) as { flows: { name: string; sent: number; received: number; errors: number; errorsByKind: Record<string, number> }[]; counters: Record<string, Record<string, number>> };
const frag = (h: Ipv4Header) => `${h.totalLength}${(h.flags & IP_DF) !== 0 ? ' DF' : ''}${(h.flags & IP_MF) !== 0 ? ' MF' : ''} @${h.fragOffset}`;
const on = (ifName: string, src: string) => r.frames.filter((f) => f.ifName === ifName && f.pkt.ip !== null && formatIpv4(f.pkt.ip.src) === src);

describe('scenarios/fragmentation.yaml', () => {
  afterAll(() => rmSync(r.dir, { recursive: true, force: true }));

  it('big-a cuts each 4000-byte datagram for MTU 1450; each fragment crosses the underlay in its own VXLAN packet', () => {
    const podIp = formatIpv4(r.world.cluster!.pods.find((p) => p.name === 'big-a')!.ip);
    expect(on('big-a/eth0', podIp).slice(0, 3).map((f) => frag(f.pkt.ip!))).toEqual(['1444 MF @0', '1444 MF @178', '1180 @356']);
    const under = on('node1/eth0', '10.100.11.11').filter((f) => f.pkt.vxlan !== null).slice(0, 3);
    expect(under.map((f) => `${frag(f.pkt.ip!)} [${frag(f.pkt.inner!.ip!)}]`)).toEqual(['1494 @0 [1444 MF @0]', '1494 @0 [1444 MF @178]', '1230 @0 [1180 @356]']);
    expect(stats.flows.find((f) => f.name === 'big-datagrams')).toMatchObject({ sent: 3, received: 3 });
  });

  it('the laptop: DF datagram → frag-needed (mtu 1450, quote translated back to the NodePort), EMSGSIZE once, then fragments', () => {
    const lap = r.frames.filter((f) => f.ifName === 'laptop/eth0' && f.pkt.ip !== null && (f.pkt.udp !== null || f.pkt.icmp?.type === 3 || f.pkt.ip.fragOffset > 0 || (f.pkt.ip.flags & IP_MF) !== 0));
    const lines = lap.map((f) => {
      const p = f.pkt;
      const quote = p.inner?.ip ? ` quote ${formatIpv4(p.inner.ip.dst)}:${p.inner.udp?.dstPort}` : '';
      return `${formatIpv4(p.ip!.src)} > ${formatIpv4(p.ip!.dst)} ${frag(p.ip!)}${p.icmp ? ` icmp ${p.icmp.type}/${p.icmp.code} mtu ${p.icmp.rest & 0xffff}${quote}` : ''}`;
    });
    expect(lines).toEqual([
      '10.100.11.100 > 10.100.11.12 1500 DF @0',
      '10.100.11.12 > 10.100.11.100 576 @0 icmp 3/4 mtu 1450 quote 10.100.11.12:30090',
      '10.100.11.100 > 10.100.11.12 1444 MF @0',
      '10.100.11.100 > 10.100.11.12 76 @178',
      '10.100.11.12 > 10.100.11.100 1444 MF @0',
      '10.100.11.12 > 10.100.11.100 76 @178',
    ]);
    expect(stats.flows.find((f) => f.name === 'laptop-pmtu')).toMatchObject({ sent: 3, received: 1 });
    // The datagram after the error is refused by the socket's sk_err: EMSGSIZE, not a missing route.
    expect(stats.flows.find((f) => f.name === 'laptop-pmtu')!.errorsByKind).toMatchObject({ msgsize: 1, 'no-route': 0, timeout: 1 });
    expect(r.world.namespaces.get('laptop')!.mtuFor(0x0a640b0c)).toBe(1450);
  });

  describe.skipIf(!hasTshark())(`in tshark (${NO_TSHARK} otherwise)`, () => {
    it('zero malformed frames and zero bad checksums; tshark reassembles every datagram', () => {
      const c = tsharkCheck(r.capturePath);
      expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
      expect(c.badChecksumFrames, c.errors.join('\n')).toEqual([]);
      const reassembled = tsharkRecords(r.capturePath, ['frame.interface_name', 'ip.reassembled.length', 'udp.length']).filter((x) => x['frame.interface_name'] === 'big-b/eth0' && x['ip.reassembled.length'] !== '');
      // Each 4000-byte datagram and its echo (4008 bytes of UDP), and the laptop's one 1472-byte datagram and its echo.
      expect(reassembled.map((x) => x['ip.reassembled.length']).sort()).toEqual(['1480', '1480', '4008', '4008', '4008', '4008', '4008', '4008']);
    });
  });
});

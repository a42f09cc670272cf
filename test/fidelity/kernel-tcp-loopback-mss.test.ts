// A connection to one of the host's own addresses goes through lo (ip_route_output gives a local route
// the loopback device), so its SYN advertises lo's MSS: 65535 - 40 = 65495 (ipv4_default_advmss caps
// lo's MTU 65536 at IP_MAX_MTU), and the initial windows follow from it (65495 in the SYN, 65483 in
// the SYN-ACK: one MSS less the timestamps). A node reaching its own NodePort, or in IPVS mode any
// ClusterIP (a local address on kube-ipvs0), shows this. podwire took the MTU of the device holding
// the address (eth0's 1500: MSS 1460, windows 64240 / 65160).
//
//   lome: eth0 10.5.0.1/24 (veth to lopeer); a client in lome connects to 10.5.0.1:8080 in lome
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { TcpLayer } from '../../src/transport/tcp/layer.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip, netnsSkipReason, nsExec, PYTHON, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { pwaFixture } from './netns-pwa.js';

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: lo-mss }
spec:
  hosts:
    - { name: lome, interfaces: [{ name: eth0, address: 10.5.0.1/24 }] }
    - { name: lopeer, interfaces: [{ name: eth0, address: 10.5.0.2/24 }] }
  veths: [{ ends: [lome/eth0, lopeer/eth0] }]
`;

/** The handshake's SYN and SYN-ACK: flags, MSS option, window (unscaled in both). */
function handshake(ps: Packet[]): string[] {
  return ps
    .filter((p) => p.tcp !== null && (p.tcp.flags & TcpFlag.SYN) !== 0)
    .map((p) => `${p.tcp!.flags & TcpFlag.ACK ? 'S.' : 'S'} mss ${p.tcp!.options.find((o) => o.kind === 'mss')?.value} win ${p.tcp!.window}`);
}

function podwireHandshake(): string[] {
  const w = buildWorld(loadScenarioText(SCENARIO, 'lo-mss.yaml'), 1);
  const ns = w.namespaces.get('lome')!;
  const seen: Packet[] = [];
  ns.lo.tap.connect((_d, p, dir) => {
    if (dir === 'out') seen.push(p);
  });
  const tcp = new TcpLayer(ns);
  tcp.listen(8080, () => {});
  w.sim.scheduleAt(1e9, () => tcp.connect(0x0a050001, 8080, () => {}));
  w.sim.run({ until: 2e9 });
  return handshake(seen);
}

const skip = netnsSkipReason() ?? (PYTHON === null ? 'needs python3' : null);

describe('TCP to an own address (through lo)', () => {
  it('podwire: the SYN advertises MSS 65495 (window 65495), the SYN-ACK too (window 65483)', () => {
    expect(podwireHandshake()).toEqual(['S mss 65495 win 65495', 'S. mss 65495 win 65483']);
  });
});

describe.skipIf(skip !== null)(`TCP to an own address: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it('the same MSS and windows on lo', async () => {
    const me = set.create('lome');
    const peer = set.create('lopeer');
    ip('-n', me, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer);
    ip('-n', me, 'addr', 'add', '10.5.0.1/24', 'dev', 'eth0');
    ip('-n', me, 'link', 'set', 'eth0', 'up');
    const file = join(dir, 'lo.pcap');
    const td = await startTcpdump(me, 'lo', file);
    nsExec(me, PYTHON!, ['-c', 'import socket\nl=socket.socket(); l.bind(("10.5.0.1",8080)); l.listen()\nc=socket.socket(); c.connect(("10.5.0.1",8080)); a,_=l.accept(); c.close(); a.close()'], { timeoutMs: 5000 });
    await sleep(200);
    await stopChild(td.child);
    const kernel = handshake(readPcap(file, 'lo').map((f) => parseFrame(f.bytes)));
    expect(kernel).toEqual(['S mss 65495 win 65495', 'S. mss 65495 win 65483']);
    expect(podwireHandshake()).toEqual(kernel);
  });
});

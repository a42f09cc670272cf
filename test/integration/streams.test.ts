// Habit 5 at the scale of a scenario: randomness comes from named streams, so adding a container to
// docker0-bridge does not move what the existing ones draw (MACs of veth ends, ephemeral ports,
// IP IDs, ping identifiers).
//
//        c1        c2        c3        (c4: added in the second run)
//         |         |         |         |
//       +--------- docker0 172.17.0.1/16 ---------+   (host "docker-host")
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { formatMac } from '../../src/wire/mac.js';
import { DOCKER0 } from './run-scenario.js';

const base = readFileSync(DOCKER0, 'utf8');

/** docker0-bridge with a fourth container c4 on its own veth, pinging c1. */
function withC4(text: string): string {
  return text
    .replace('ports: [veth1a2b3c4, veth5d6e7f8, veth9a0b1c2]', 'ports: [veth1a2b3c4, veth5d6e7f8, veth9a0b1c2, vethc4c4c4c]')
    .replace('  veths:\n', '    - name: c4\n      interfaces:\n        - { name: eth0, address: 172.17.0.5/16 }\n      routes:\n        - { to: default, via: 172.17.0.1 }\n  veths:\n    - { ends: [c4/eth0, docker-host/vethc4c4c4c], delay: 10us }\n')
    .replace('  traffic:\n', '  traffic:\n    - { name: ping-c4-c1, type: ping, from: c4, to: c1, count: 3, interval: 1s, start: 1s }\n');
}

/** What each existing device and flow drew: device MACs, and per packet sent by c1..c3 the (src port, IP ID). */
function draws(text: string) {
  const world = buildWorld(loadScenarioText(text, 'docker0.yaml'), 7);
  const macs: Record<string, string> = {};
  for (const d of world.devices) if (!d.qualifiedName.startsWith('c4/') && !d.qualifiedName.endsWith('vethc4c4c4c')) macs[d.qualifiedName] = formatMac(d.mac);
  const sent: string[] = [];
  for (const host of ['c1', 'c2', 'c3']) {
    const eth0 = world.namespaces.get(host)!.device('eth0')!;
    eth0.tap.connect((_d, pkt, dir) => {
      if (dir !== 'out' || pkt.ip === null || pkt.ip.dst === 0xac110005) return;
      sent.push(`${host} id=${pkt.ip.id} ${pkt.udp ? `sport=${pkt.udp.srcPort}` : pkt.icmp ? `icmp=${pkt.icmp.type}/${pkt.icmp.rest >>> 16}` : ''}`);
    });
  }
  world.sim.run();
  return { macs, sent, devices: world.devices.length };
}

describe('named random streams in a scenario', () => {
  it('the edit adds a host (sanity check of the test itself)', () => {
    expect(draws(withC4(base)).devices).toBe(draws(base).devices + 3); // c4/lo, c4/eth0, docker-host/vethc4c4c4c
  });

  it('adding container c4 leaves every other device\'s MAC unchanged', () => {
    expect(draws(withC4(base)).macs).toEqual(draws(base).macs);
  });

  it('adding container c4 leaves the IP IDs, ephemeral ports and ping identifiers of c1..c3 unchanged', () => {
    const before = draws(base).sent;
    const after = draws(withC4(base)).sent;
    expect(before.length).toBeGreaterThan(10);
    expect(after).toEqual(before);
  });
});

// The ownership rule (packet/packet.ts): only segments transport/tcp built (Packet.recycler) are given back for
// reuse where they end; a TCP packet made by hand and kept by its maker (an injected probe) stays as it was.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Packet } from '../../src/packet/packet.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { ROOT } from '../integration/run-scenario.js';
import { ipv4Header } from '../../src/wire/ipv4.js';
import { IP_DF, IpProto, TcpFlag } from '../../src/wire/types.js';

it('a hand-made TCP SYN kept by its injector is not recycled after delivery', () => {
  const loaded = loadScenarioFile(join(ROOT, 'scenarios', 'http-clusterip.yaml'));
  const world = buildWorld(loaded, 3);
  const web = [...world.namespaces.values()].find((n) => n.name.startsWith('web-'))!;
  const node = [...world.namespaces.values()].find((n) => n.name === 'node1')!;
  const to = web.sourceFor(0x0a640b0b)!; // the web pod's own address (toward node1)
  let kept: Packet | null = null;
  world.sim.scheduleAt(2e9, () => {
    const pkt = new Packet();
    pkt.ip = ipv4Header(IpProto.TCP, 0, to, IP_DF);
    pkt.tcp = { srcPort: 40000, dstPort: 8080, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0, options: [] };
    kept = pkt;
    node.ipLocalOut(pkt);
  });
  world.sim.run({ until: 2.5e9 });
  expect(kept).not.toBeNull();
  expect(kept!.tcp?.flags).toBe(TcpFlag.SYN);
  expect(kept!.tcp?.dstPort).toBe(8080);
});

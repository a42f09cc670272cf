// Upper-layer neighbour confirmation (neigh_confirm via IpStack.confirmNeighbour, which TCP calls on
// forward progress): a confirmed entry stays REACHABLE past its reachable time, and an entry in DELAY
// that is confirmed goes back to REACHABLE instead of sending a unicast probe.
//
//   a: eth0 10.0.0.1/24 ══ veth ══ b: eth0 10.0.0.2/24
import { describe, expect, it } from 'vitest';
import { ip, Lab, udpDatagram, udpSink } from './harness.js';

function setup() {
  const lab = new Lab();
  const a = lab.host('a');
  const b = lab.host('b');
  const [ea] = lab.veth(a, 'eth0', '10.0.0.1/24', b, 'eth0', '10.0.0.2/24');
  udpSink(b);
  udpSink(a);
  a.neigh.params = { ...a.neigh.params, baseReachableNs: 2e9, delayFirstProbeNs: 1e9 };
  lab.capture(ea);
  const arps = () => lab.log.filter((s) => s.dev === 'a/eth0' && s.dir === 'out' && s.line.startsWith('ARP')).map((s) => `${s.t / 1e9}s ${s.line}`);
  return { lab, a, ea, arps };
}

describe('neighbour confirmation from an upper layer', () => {
  it('without confirmation, traffic past the reachable time makes a probe (unicast ARP after delay_first_probe_time)', () => {
    const { lab, a, arps } = setup();
    for (let i = 0; i < 60; i++) lab.sim.scheduleAt(i * 100e6, () => a.ipLocalOut(udpDatagram('10.0.0.2')));
    lab.sim.run({ until: 7e9 });
    expect(arps().length).toBeGreaterThan(1);
  });

  it('confirmed on every send (as TCP does on each ACK of new data): only the first ARP request', () => {
    const { lab, a, ea, arps } = setup();
    for (let i = 0; i < 60; i++)
      lab.sim.scheduleAt(i * 100e6, () => {
        a.ipLocalOut(udpDatagram('10.0.0.2'));
        a.confirmNeighbour(ip('10.0.0.2'));
      });
    lab.sim.run({ until: 7e9 });
    expect(arps()).toEqual(['0s ARP who-has 10.0.0.2 tell 10.0.0.1']);
    expect(a.neigh.get(ea, ip('10.0.0.2'))!.state).toBe('REACHABLE');
  });
});

// IPv4 Identification of UDP datagrams, as Linux include/net/ip.h ip_select_ident_segs() chooses it
// (since the CVE-2020-36516 fix, and before it for DF packets too):
//
//   if (sk && inet_sk(sk)->inet_daddr) { iph->id = htons(inet_id); inet_id += segs; return; }  // connected
//   if (DF && !ignore_df) iph->id = 0; else __ip_select_ident(...);                             // unconnected
//
//   a: eth0 10.0.0.1/24 ═══ veth ═══ eth0 10.0.0.2/24 :b
import { describe, expect, it } from 'vitest';
import { UdpLayer } from '../../src/transport/udp.js';
import { IP_DF } from '../../src/wire/types.js';
import { ip, Lab } from '../net/harness.js';

function setup() {
  const lab = new Lab(5);
  const a = lab.host('a');
  const b = lab.host('b');
  const [ea] = lab.veth(a, 'eth0', '10.0.0.1/24', b, 'eth0', '10.0.0.2/24');
  lab.capture(ea);
  new UdpLayer(b).socket().bind(9);
  const ua = new UdpLayer(a);
  /** (DF, id) of each UDP datagram a sent. */
  const sent = () => lab.log.filter((s) => s.dir === 'out' && s.pkt.udp).map((s) => ({ df: (s.pkt.ip!.flags & IP_DF) !== 0, id: s.pkt.ip!.id }));
  return { lab, ua, sent };
}

describe('IP ID of UDP datagrams', () => {
  it('an unconnected socket sends DF datagrams with IDs from the hashed ip_idents counter (Linux 6.18: not 0)', () => {
    const { ua, sent, lab } = setup();
    const s = ua.socket();
    for (let i = 0; i < 3; i++) s.sendTo(ip('10.0.0.2'), 9, 10);
    lab.sim.run();
    const got = sent();
    expect(got.every((x) => x.df)).toBe(true);
    const ids = got.map((x) => x.id);
    expect(ids.slice(1).map((id, i) => (id - ids[i]! + 65536) % 65536), `IDs ${ids.join(', ')}`).toEqual([1, 1]);
  });

  it('a connected socket numbers its datagrams from its own counter (inet_id), DF set', () => {
    const { ua, sent, lab } = setup();
    const s = ua.socket().connect(ip('10.0.0.2'), 9);
    for (let i = 0; i < 4; i++) s.send(10);
    lab.sim.run();
    const got = sent();
    expect(got.every((x) => x.df)).toBe(true);
    const ids = got.map((x) => x.id);
    expect(ids.slice(1).map((id, i) => (id - ids[i]! + 65536) % 65536), `IDs ${ids.join(', ')}`).toEqual([1, 1, 1]);
  });
});

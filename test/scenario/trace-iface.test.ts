// `podwire trace --iptables-save FILE --in-iface IF --out-iface IF`: the interface a traced packet comes in or
// leaves by, so a dump's `-i virbr0` / `-o cali+` rules can match (the one-interface node said eth0 for both).
import { describe, expect, it } from 'vitest';
import { expectNoStack, podwire } from './cli-run.js';

const DUMP = 'test/fixtures/iptables/real/centos-flannel-libvirt.save';
const guest = ['trace', '--iptables-save', DUMP, '--local-ip', '192.168.1.5', '--src', '192.168.122.5', '--dst', '8.8.8.8:80'];

describe('trace --in-iface / --out-iface', () => {
  it('a libvirt guest\'s packet from virbr0 is forwarded and masqueraded; from eth0 it is rejected', () => {
    const eth0 = podwire(...guest);
    expect(eth0.code).toBe(0);
    expect(eth0.out).toMatch(/^outcome 1: p=1\.000000 REJECT {2}\(by -A FORWARD -j REJECT --reject-with icmp-host-prohibited\)$/m);
    const virbr0 = podwire(...guest, '--in-iface', 'virbr0');
    expect(virbr0.code).toBe(0);
    expect(virbr0.out).toMatch(/^outcome 1: p=1\.000000 ACCEPT masquerade {2}\(by -A FORWARD -s 192\.168\.122\.0\/24 -i virbr0 -j ACCEPT\)$/m);
  });

  it('a name the kernel would not take is a one-line usage error', () => {
    for (const bad of ['a/b', 'sixteen-chars-xx', 'has space']) {
      const r = podwire(...guest, '--in-iface', bad);
      expect(r.code).toBe(2);
      expect(r.errLines).toEqual([`podwire: --in-iface: expected an interface name of 1 to 15 characters without '/', ':' or spaces, got "${bad}"`]);
      expectNoStack(r.err);
    }
  });
});

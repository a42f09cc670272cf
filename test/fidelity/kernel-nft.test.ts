// kube-proxy's nftables mode against the kernel: the transaction podwire's kube-proxy writes for the
// services of kube-proxy's own unit test is loaded with the real `nft -f` into a network namespace
// (it must be accepted), `nft list ruleset` there must equal podwire's listing (elements compared as
// sets: the kernel lists a hash set in its per-boot hash order), and new connections through that
// node end as podwire's model of the same rules says: DNAT to the endpoint (with or without
// masquerade, seen as the source address at the endpoint), REJECT (connection refused) or DROP
// (no answer).
//
//   client 10.0.0.2/24 ══ veth ══ node [kube-proxy table, ip_forward, ext 192.168.0.2/24 ══ gateway 192.168.0.1] ══ veth ══ endpoints 10.180.0.1-5/24 :80
import { afterAll, describe, expect, it } from 'vitest';
import { renderNftablesSync } from '../../src/k8s/kube-proxy/nftables.js';
import { listRuleset } from '../../src/netfilter/nft/list.js';
import { NftRuleset } from '../../src/netfilter/nft/ruleset.js';
import { CFG, flow, node, SERVICES } from '../netfilter/nft-services.js';
import { findProgram, ip, killAll, NetnsSet, netnsSkipReason, nsExec, nsSpawn, nsSysctl, sleep, stopChild } from '../helpers/netns.js';

const skip = netnsSkipReason() ?? (findProgram('nft') === null ? 'needs nft' : findProgram('python3') === null ? 'needs python3' : null);

/** A listing with the items of every `elements = { ... }` sorted (hash order is the kernel's). */
function normalize(listing: string): string {
  return listing.replace(/elements = \{ ([^}]*) \}/g, (_m, body: string) => `elements = { ${body.split(/,\s*\n\s*|, /).sort().join(', ')} }`);
}

const SERVER = `
import socket,select
ls=[]
for a in ["10.180.0.1","10.180.0.2","10.180.0.3","10.180.0.4","10.180.0.5"]:
  s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind((a,80)); s.listen(8); ls.append(s)
while True:
  r,_,_=select.select(ls,[],[],6)
  if not r: break
  for s in r:
    c,peer=s.accept(); print(c.getsockname()[0], peer[0], flush=True); c.close()`;

const CLIENT = (dst: string, port: number) => `
import socket
s=socket.socket(); s.settimeout(1)
try:
  s.connect(("${dst}",${port})); print("ok")
except ConnectionRefusedError: print("REJECT")
except socket.timeout: print("DROP")
except OSError as e: print("ERR", e.errno)`;

describe.skipIf(skip !== null)(`kube-proxy nftables mode: nft and the kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const set = new NetnsSet('pwn');
  afterAll(async () => {
    await killAll();
    set.destroy();
  });

  it('nft accepts the transaction and lists the same ruleset; connections end where podwire says', async () => {
    const [c, n, e, g] = [set.create('c'), set.create('n'), set.create('e'), set.create('g')];
    const id = process.pid % 100000;
    ip('link', 'add', `pnc${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c);
    ip('link', 'set', `pnc${id}`, 'netns', n, 'name', 'eth0');
    ip('link', 'add', `pne${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', e);
    ip('link', 'set', `pne${id}`, 'netns', n, 'name', 'eth1');
    ip('-n', c, 'addr', 'add', '10.0.0.2/24', 'dev', 'eth0');
    ip('-n', n, 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0');
    ip('-n', n, 'addr', 'add', '10.180.0.254/24', 'dev', 'eth1');
    // The node's own network and default route (a gateway namespace): service addresses route out there.
    ip('link', 'add', `png${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', g);
    ip('link', 'set', `png${id}`, 'netns', n, 'name', 'ext');
    ip('-n', n, 'addr', 'add', '192.168.0.2/24', 'dev', 'ext');
    ip('-n', g, 'addr', 'add', '192.168.0.1/24', 'dev', 'eth0');
    for (let i = 1; i <= 5; i++) ip('-n', e, 'addr', 'add', `10.180.0.${i}/24`, 'dev', 'eth0');
    for (const [ns, dev] of [[c, 'eth0'], [n, 'eth0'], [n, 'eth1'], [e, 'eth0'], [n, 'lo'], [n, 'ext'], [g, 'eth0'], [e, 'lo']] as const) ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', c, 'route', 'add', 'default', 'via', '10.0.0.1');
    ip('-n', e, 'route', 'add', 'default', 'via', '10.180.0.254');
    ip('-n', n, 'route', 'add', 'default', 'via', '192.168.0.1');
    nsSysctl(n, { 'net.ipv4.ip_forward': 1 });

    const text = renderNftablesSync(SERVICES, CFG, null, new Map(), 0);
    nsExec(n, findProgram('nft')!, ['-f', '-'], { input: text });
    const kernel = nsExec(n, findProgram('nft')!, ['list', 'ruleset']);
    const ours = new NftRuleset();
    ours.apply(text, 'kube-proxy');
    expect(normalize(kernel)).toBe(normalize(listRuleset(ours)));

    const srv = nsSpawn(e, findProgram('python3')!, ['-c', SERVER]);
    await sleep(300);
    const cases: [string, number][] = [
      ['172.30.0.41', 80], // ClusterIP → 10.180.0.1, client address kept
      ['172.30.0.41', 443], // a port the ClusterIP does not serve → reject
      ['172.30.0.50', 80], // unallocated ClusterIP → drop
      ['172.30.0.46', 80], // no endpoints → reject
      ['192.168.0.2', 3003], // NodePort from a pod → 10.180.0.3, masqueraded
      ['192.168.99.33', 80], // external IP → 10.180.0.4 or .5, masqueraded
    ];
    const kernelOut: string[] = [];
    for (const [dst, port] of cases) kernelOut.push(nsExec(c, findProgram('python3')!, ['-c', CLIENT(dst, port)], { timeoutMs: 5000 }).trim());
    await stopChild(srv);
    const accepted = srv.stdout().trim().split('\n');
    // The endpoint saw each accepted connection as "local remote": what podwire's DNAT and masquerade give.
    const model = node();
    let k = 0;
    cases.forEach(([dst, port], i) => {
      const p = flow(model, '10.0.0.2', dst, port);
      if (p === 'DROP' || p === 'REJECT') {
        expect(`${dst}:${port} ${kernelOut[i]}`).toBe(`${dst}:${port} ${p}`);
        return;
      }
      expect(kernelOut[i]).toBe('ok');
      const [local, remote] = accepted[k++]!.split(' ');
      const [to, masq] = p.split(' ');
      expect(to!.split(':')[0] === local || dst === '192.168.99.33').toBe(true); // numgen picks one of two for the external IP
      expect(remote).toBe(masq === 'masq' ? '10.180.0.254' : '10.0.0.2');
    });
  }, 60_000);
});

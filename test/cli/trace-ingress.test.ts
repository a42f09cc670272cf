// `podwire trace --host H --path P`: the packet's walk to the ingress controller pod, the proxy's
// decision for the request, then the walk of its connection to the chosen pod.
//
//   user ──▶ node1:30080 ──DNAT + MASQUERADE──▶ ingress-nginx pod :80 ── route(Host, path) ──▶ pod IP:8080
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const podwire = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('podwire trace --host (ingress)', () => {
  it('follows the NodePort to the controller pod, prints the matched rule and endpoints, then the proxy\'s connection to a bar pod', () => {
    const r = podwire('trace', 'scenarios/flow2-ingress.yaml', '--from', 'host/user', '--to', '10.100.11.11:30080', '--host', 'mydomain.com', '--path', '/bar/*');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/-A KUBE-NODEPORTS -p tcp -m comment --comment "ingress-nginx\/ingress-nginx-controller:http" -m tcp --dport 30080 -j KUBE-EXT-/);
    expect(r.out).toMatch(/^verdict: delivered to ingress-nginx-controller-[a-z0-9]+-[a-z0-9]+\.ingress-nginx$/m);
    expect(r.out).toMatch(/^ingress-nginx ingress-nginx-controller-\S+: Host mydomain\.com path \/bar\/\* → rule default\/my-ingress mydomain\.com \/bar\/\* ImplementationSpecific; upstream default-bar-8080; uri sent \/bar\/\*$/m);
    expect(r.out).toMatch(/^ {2}endpoints 10\.244\.\d\.\d+:8080, 10\.244\.\d\.\d+:8080 \(round_robin, one pick per request\)/m);
    // The second walk starts in the controller pod and ends in a bar pod: no Service DNAT on the way.
    const second = r.out.slice(r.out.indexOf('trace: ingress-nginx-controller'));
    expect(second).toMatch(/^verdict: delivered to bar-/m);
    expect(second).not.toMatch(/DNAT --to-destination/);
  });

  it('says 404 for a Host no rule has, and the controller\'s own redirect for plain HTTP to a TLS host', () => {
    const nf = podwire('trace', 'scenarios/flow2-ingress.yaml', '--from', 'host/user', '--to', '10.100.11.11:30080', '--host', 'nobody.example');
    expect(nf.out).toMatch(/Host nobody\.example path \/ → 404 \(_: default backend\)$/m);
    const tls = podwire('trace', 'scenarios/flow2-ingress.yaml', '--from', 'host/user', '--to', '10.100.11.11:30080', '--host', 'foo.mydomain.com');
    expect(tls.out).toMatch(/^ {2}\(plain HTTP to this host gets 308 to https\)$/m);
  });
});

// scenario/load + scenario/build: every bad input gives one line `file:line:col: field: message`,
// pointing at the offending YAML token. Each case is a small file; the expected line is exact.
import { describe, expect, it } from 'vitest';
import { formatUserError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { problems } from './problems.js';

const HEAD = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata:
  name: t
spec:
`; // lines 1-5; the body starts on line 6

/** The formatted errors of loading and building `text`, or ['ok']. */

describe('scenario validation errors (file:line:col: field: message)', () => {
  it('unknown field', () => {
    // Points at the value of the unknown key (col 15); clang/esbuild style would point at the key (col 7).
    expect(problems(HEAD + '  hosts:\n    - name: a\n      colour: blue\n')).toEqual(['bad.yaml:8:7: spec.hosts[0].colour: unknown field "colour"']);
  });

  it('unknown field at the top of spec', () => {
    expect(problems(HEAD + '  hostz: []\n')).toEqual(['bad.yaml:6:3: spec.hostz: unknown field "hostz"']);
  });

  it('wrong type', () => {
    expect(problems(HEAD + '  hosts:\n    - name: a\n      forwarding: "yes"\n')).toEqual([
      'bad.yaml:8:19: spec.hosts[0].forwarding: expected true or false, got a string',
    ]);
  });

  it('cluster.mssClamp: pmtu or an MSS in iptables --set-mss range', () => {
    expect(problems(HEAD + '  cluster:\n    mssClamp: auto\n')).toEqual(['bad.yaml:7:15: spec.cluster.mssClamp: expected pmtu or an MSS from 0 to 65515']);
    expect(problems(HEAD + '  cluster:\n    mssClamp: 70000\n')).toEqual(['bad.yaml:7:15: spec.cluster.mssClamp: at most 65515, got 70000']);
  });

  it('bad CIDR (octet > 255) in a flow mapping', () => {
    expect(problems(HEAD + '  hosts:\n    - name: a\n      interfaces:\n        - { name: eth0, address: 10.0.0.300/24 }\n')).toEqual([
      'bad.yaml:9:34: spec.hosts[0].interfaces[0].address: expected an address with prefix like 172.17.0.1/16',
    ]);
  });

  it('bad CIDR (prefix /33) in a block mapping', () => {
    expect(problems(HEAD + '  hosts:\n    - name: a\n      interfaces:\n        - name: eth0\n          address: 10.0.0.1/33\n')).toEqual([
      'bad.yaml:10:20: spec.hosts[0].interfaces[0].address: expected an address with prefix like 172.17.0.1/16',
    ]);
  });

  it('unknown host in veth ends', () => {
    expect(problems(HEAD + '  hosts:\n    - name: a\n  veths:\n    - ends: [a/eth0, ghost/eth0]\n')).toEqual([
      'bad.yaml:9:22: spec.veths[0].ends[1]: unknown host "ghost" (declare it under spec.hosts)',
    ]);
  });

  it('route via a gateway that no connected subnet reaches', () => {
    const text =
      HEAD +
      '  hosts:\n    - name: a\n      interfaces:\n        - { name: eth0, address: 10.0.0.1/24 }\n      routes:\n        - { to: default, via: 192.168.9.1 }\n    - name: b\n  veths:\n    - ends: [a/eth0, b/eth0]\n';
    expect(problems(text)).toEqual([
      'bad.yaml:11:31: spec.hosts[0].routes[0].via: gateway 192.168.9.1 is not on a connected subnet (Linux: "Nexthop has invalid gateway"; add onlink: true to force)',
    ]);
  });

  it('the same route is accepted with onlink: true', () => {
    const text =
      HEAD +
      '  hosts:\n    - name: a\n      interfaces:\n        - { name: eth0, address: 10.0.0.1/24 }\n      routes:\n        - { to: default, via: 192.168.9.1, dev: eth0, onlink: true }\n    - name: b\n  veths:\n    - ends: [a/eth0, b/eth0]\n';
    expect(problems(text)).toEqual(['ok']);
  });

  it('duplicate host', () => {
    expect(problems(HEAD + '  hosts:\n    - name: a\n    - name: a\n')).toEqual(['bad.yaml:8:13: spec.hosts[1].name: duplicate host "a"']);
  });

  it('a kind podwire does not model is a warning, not an error (kubectl apply accepts any kind)', () => {
    const text = HEAD + '  hosts: []\n---\napiVersion: v1\nkind: Gizmo\nmetadata: { name: x }\n';
    expect(problems(text)).toEqual(['ok']);
    expect(loadScenarioText(text, 'bad.yaml').warnings.map(formatUserError)).toEqual(['bad.yaml:9:7: kind: Gizmo is not modelled by podwire and is ignored']);
  });

  it('YAML syntax error', () => {
    const got = problems(HEAD + '  hosts:\n    - name: a\n     bad: [\n');
    expect(got[0]).toBe('bad.yaml:8:1: YAML: Sequence item without - indicator');
    expect(got.every((l) => /^bad\.yaml:\d+:\d+: YAML: /.test(l)), got.join('\n')).toBe(true);
  });

  it('duplicate key is a YAML error at the second key', () => {
    const got = problems(HEAD + '  hosts: []\n  hosts: []\n');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^bad\.yaml:7:3: YAML: .*[Mm]ap keys must be unique/);
  });

  it('missing Scenario document (only a Kubernetes manifest)', () => {
    expect(problems('apiVersion: v1\nkind: Pod\nmetadata: { name: x }\n')).toEqual([
      'bad.yaml:1:1: no document with kind: Scenario (apiVersion: podwire.dev/v1alpha1)',
    ]);
  });

  it('empty file', () => {
    expect(problems('')).toEqual(['bad.yaml:1:1: no document with kind: Scenario (apiVersion: podwire.dev/v1alpha1)']);
  });

  it('a document without kind', () => {
    expect(problems('apiVersion: v1\nmetadata: { name: x }\n')).toEqual(['bad.yaml:1:1: kind: missing: every document needs a kind (Scenario, Pod, Service, ...)']);
  });

  it('two Scenario documents', () => {
    expect(problems(HEAD + '  hosts: []\n---\n' + HEAD + '  hosts: []\n')).toEqual(['bad.yaml:9:7: kind: a file holds one Scenario document']);
  });

  it('reports every schema problem, one line each, in document order', () => {
    expect(problems(HEAD + '  hosts:\n    - name: a\n      colour: blue\n    - name: B\n')).toEqual([
      'bad.yaml:8:7: spec.hosts[0].colour: unknown field "colour"',
      'bad.yaml:9:13: spec.hosts[1].name: expected a lower-case DNS label (a-z, 0-9, "-", ".")',
    ]);
  });

  it('reports every semantic problem, one line each', () => {
    const text = HEAD + '  hosts:\n    - name: a\n  veths:\n    - ends: [x/eth0, y/eth0]\n';
    expect(problems(text)).toEqual([
      'bad.yaml:9:14: spec.veths[0].ends[0]: unknown host "x" (declare it under spec.hosts)',
      'bad.yaml:9:22: spec.veths[0].ends[1]: unknown host "y" (declare it under spec.hosts)',
    ]);
  });

  it('bad duration and bad rate', () => {
    const text = HEAD + '  hosts: [{ name: a }, { name: b }]\n  links:\n    - { ends: [a/eth0, b/eth0], rate: fast, delay: soon }\n';
    expect(problems(text)).toEqual([
      'bad.yaml:8:39: spec.links[0].rate: expected a rate like 1Gbps, 100Mbit, 10kbps',
      'bad.yaml:8:52: spec.links[0].delay: expected a duration like 10ms, 1.5s, 250us',
    ]);
  });

  it('every error is exactly one line', () => {
    const all = [
      problems(HEAD + '  hosts:\n    - name: a\n     bad: [\n'),
      problems(HEAD + '  hosts:\n    - name: a\n      colour: blue\n'),
      problems('apiVersion: v1\nkind: Pod\n'),
    ].flat();
    for (const l of all) expect(l).not.toContain('\n');
  });

  it('the default scenario file validates', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../scenarios/docker0-bridge.yaml', import.meta.url), 'utf8');
    expect(problems(text)).toEqual(['ok']);
  });
});

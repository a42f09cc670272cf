// `podwire inspect --iptables` (and, in IPVS mode, `--ipset`) output is what a real node holds: the
// kernel's own iptables-restore --test accepts it (after `ipset restore` of the sets IPVS mode uses),
// in a namespace this test creates.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { findProgram, NetnsSet, netnsSkipReason, nsExec } from '../helpers/netns.js';

const RESTORE = findProgram('iptables-restore');
const IPSET = findProgram('ipset');
const NFACCT = findProgram('nfacct');
const skip = netnsSkipReason() ?? (RESTORE === null ? 'needs iptables-restore' : null);
const podwire = (...args: string[]): string => {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};

describe.skipIf(skip !== null)(`inspect output loads into the kernel${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const set = new NetnsSet('pwb');
  afterAll(() => set.destroy());

  it('iptables mode: iptables-restore --test accepts every node\'s dump', () => {
    for (const node of ['node1', 'node2']) {
      const dump = podwire('inspect', 'scenarios/http-clusterip.yaml', '--node', node, '--iptables');
      const ns = set.create(`r-${node}`);
      if (NFACCT) for (const n of new Set([...dump.matchAll(/--nfacct-name (\S+)/g)].map((m) => m[1]!))) nsExec(ns, NFACCT, ['add', n], { allowFail: true });
      const text = NFACCT ? dump : dump.replace(/ -m nfacct --nfacct-name +\S+/g, '');
      expect(() => nsExec(ns, RESTORE!, ['--test'], { input: text })).not.toThrow();
    }
  });

  it.skipIf(IPSET === null)('IPVS mode: ipset restore of --ipset, then iptables-restore --test of --iptables', () => {
    const ns = set.create('r-ipvs');
    nsExec(ns, IPSET!, ['restore'], { input: podwire('inspect', 'scenarios/http-ipvs.yaml', '--node', 'node1', '--ipset') });
    const dump = podwire('inspect', 'scenarios/http-ipvs.yaml', '--node', 'node1', '--iptables');
    expect(() => nsExec(ns, RESTORE!, ['--test'], { input: dump })).not.toThrow();
  });
});

// `podwire inspect --iptables` (and, in IPVS mode, `--ipset`) output is what a real node holds: the
// kernel's own iptables-restore --test accepts it (after `ipset restore` of the sets IPVS mode uses),
// in a namespace this test creates.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../src/netfilter/iptables-save.js';
import { findProgram, IP, NetnsSet, netnsSkipReason, nsExec } from '../helpers/netns.js';

const RESTORE = findProgram('iptables-restore');
const IPSET = findProgram('ipset');
const NFACCT = findProgram('nfacct');
const NFT_RESTORE = findProgram('iptables-nft-restore');
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

// Matches and targets the kernel allows only from some hooks (xt_rpfilter: PREROUTING; TCPMSS
// --clamp-mss-to-pmtu: FORWARD, OUTPUT, POSTROUTING), reached directly or through user chains: podwire's
// parser refuses exactly the dumps iptables-nft-restore refuses, at the line it names ("line N: RULE_APPEND
// failed (Invalid argument)").
describe.skipIf(skip !== null || NFT_RESTORE === null)(`hook-limited rules: refused where the kernel refuses them${skip ? ` (skipped: ${skip})` : NFT_RESTORE === null ? ' (skipped: needs iptables-nft-restore)' : ''}`, () => {
  const set = new NetnsSet('pwh');
  afterAll(() => set.destroy());
  const RAW = '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:x - [0:0]\n:y - [0:0]\n';
  const MANGLE = '*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:x - [0:0]\n';
  const cases = [
    RAW + '-A OUTPUT -j x\n-A x -m rpfilter --invert -j DROP\n',
    RAW + '-A x -m rpfilter -j DROP\n-A OUTPUT -j x\n',
    RAW + '-A PREROUTING -j x\n-A OUTPUT -j y\n-A y -g x\n-A x -m rpfilter -j DROP\n',
    RAW + '-A PREROUTING -j x\n-A x -m mark --mark 0x40000/0x40000 -m rpfilter --validmark --invert -j DROP\n',
    RAW + '-A PREROUTING -g y\n-A y -j x\n-A x -m rpfilter -j DROP\n',
    RAW + '-A x -m rpfilter -j DROP\n',
    RAW + '-A OUTPUT -j x\n-A x -m rpfilter -j DROP\n-F x\n',
    MANGLE + '-A FORWARD -m rpfilter -j DROP\n',
    MANGLE + '-A PREROUTING -m rpfilter --loose -j DROP\n',
    MANGLE + '-A FORWARD -j x\n-A PREROUTING -j x\n-A x -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu\n',
    MANGLE + '-A FORWARD -j x\n-A POSTROUTING -j x\n-A x -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu\n',
    MANGLE + '-A PREROUTING -j x\n-A x -p tcp --syn -j TCPMSS --set-mss 1400\n',
  ].map((t) => `${t}COMMIT\n`);

  it('the same verdict and line for each dump', () => {
    const ns = set.create('hooks');
    for (const dump of cases) {
      // Without --noflush, iptables-nft-restore replaces the table it names: each case starts from nothing.
      const r = spawnSync(IP!, ['netns', 'exec', ns, NFT_RESTORE!], { input: dump, encoding: 'utf8', timeout: 10_000 });
      const kernel = r.status === 0 ? 'accepted' : `line ${/line (\d+): RULE_APPEND failed \(Invalid argument\)/.exec(r.stderr)?.[1] ?? `? (${r.stderr.trim()})`}`;
      let mine = 'accepted';
      try {
        parseIptablesSave(dump, 'd');
      } catch (e) {
        mine = `line ${/^d:(\d+):/.exec((e as Error).message)?.[1] ?? (e as Error).message}`;
      }
      expect(mine, dump).toBe(kernel);
    }
  });
});

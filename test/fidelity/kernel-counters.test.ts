// `podwire inspect --iptables -c` prints a node's rules with their counters after the run, as
// `iptables-save -c` does: the kernel's `iptables-restore --counters` loads the dump into a namespace
// this test creates, and the kernel's `iptables-save -c` then gives every chain and rule the same
// counters, in the same order. (What the counters are after kube-proxy's syncs is
// test/k8s/kube-proxy-counters.test.ts.)
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { findProgram, NetnsSet, netnsSkipReason, nsExec } from '../helpers/netns.js';

const RESTORE = findProgram('iptables-restore');
const SAVE = findProgram('iptables-save');
const skip = netnsSkipReason() ?? (RESTORE === null || SAVE === null ? 'needs iptables-restore and iptables-save' : null);
const podwire = (...args: string[]): string => {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};

/** Per table: each chain's counters, then each rule's counters with its chain, in order. */
function counters(dump: string): string[] {
  const out: string[] = [];
  let table = '';
  for (const line of dump.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    const chain = /^:(\S+) \S+ (\[\d+:\d+\])$/.exec(line);
    if (chain) out.push(`${table} :${chain[1]} ${chain[2]}`);
    const rule = /^(\[\d+:\d+\]) -A (\S+) /.exec(line);
    if (rule) out.push(`${table} ${rule[2]} ${rule[1]}`);
  }
  // iptables-save's table order is the kernel's: compare table by table (a stable sort keeps each table's order).
  return out.sort((a, b) => (a.split(' ')[0]! < b.split(' ')[0]! ? -1 : a.split(' ')[0]! > b.split(' ')[0]! ? 1 : 0));
}

describe.skipIf(skip !== null)(`inspect --iptables -c loads into the kernel with its counters${skip ? ` (skipped: ${skip})` : ''}`, () => {
  // (namespaces `pwq-<pid>-c`: the helper deletes only pw?-<pid>- names)
  const set = new NetnsSet('pwq');
  afterAll(() => set.destroy());

  it('iptables-restore --counters, then iptables-save -c: the same counters', () => {
    const dump = podwire('inspect', 'scenarios/http-clusterip.yaml', '--node', 'node1', '--iptables', '-c');
    const mine = counters(dump);
    // The run counted packets: some rule and some built-in chain policy are not [0:0].
    expect(mine.some((l) => / -?[A-Z][\w-]* \[[1-9]\d*:\d+\]$/.test(l) && !l.includes(' :'))).toBe(true);
    expect(mine.some((l) => l.includes(' :') && !l.endsWith('[0:0]'))).toBe(true);
    const ns = set.create('c');
    // nfacct objects need the nfnetlink_acct module, which the machine may lack: the match goes (not the counters' subject).
    const text = dump.replace(/ -m nfacct --nfacct-name +\S+/g, '');
    nsExec(ns, RESTORE!, ['--counters'], { input: text });
    expect(counters(nsExec(ns, SAVE!, ['-c']))).toEqual(mine);
  });
});

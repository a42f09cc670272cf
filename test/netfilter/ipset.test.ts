// Tests for netfilter/ipset: `ipset restore` text in, `-m set` tests on packet records, `ipset save`
// text out, errors, the -m set match end to end through a Netfilter, and (root with ipset installed)
// the same restore text loaded into the real kernel in a throwaway netns: identical create lines, the
// same elements per set (the kernel prints hash elements in bucket order, podwire in insertion order).
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { IpSetTable, IpsetError, ipsetFlags } from '../../src/netfilter/ipset.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { findProgram, NetnsSet, nsExec } from '../helpers/netns.js';
import { FakeHost, icmp, rules, tcp, udp } from './helpers.js';

const SETS = `create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 initval 0x11223344
add KUBE-CLUSTER-IP 10.96.0.1,tcp:443
add KUBE-CLUSTER-IP 10.96.0.10,udp:53
add KUBE-CLUSTER-IP 10.96.0.10,53
create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
add KUBE-NODE-PORT-TCP 30080
add KUBE-NODE-PORT-TCP 8080
create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536 initval 0x01020304
add KUBE-LOOP-BACK 10.244.1.2,tcp:80,10.244.1.2
create KUBE-LB-SRC hash:ip,port,net family inet hashsize 1000 maxelem 100 bucketsize 5 comment initval 0xdeadbeef
add KUBE-LB-SRC 10.100.0.1,tcp:80,192.168.0.0/16 comment "lb source"
add KUBE-LB-SRC 10.100.0.1,tcp:80,192.168.1.7/32
create PINGS hash:ip,port family inet hashsize 64 initval 0x00000007
add PINGS 10.0.0.1,icmp:8/0
add PINGS 10.0.0.1,gre:0
create NETS hash:net family inet initval 0x000000aa
add NETS 10.0.0.0/8
add NETS 172.16.5.0/24
create IPS hash:ip family inet initval 0x000000bb
add IPS 1.2.3.4
`;

const table = (): IpSetTable => {
  const t = new IpSetTable();
  t.restore(SETS, { file: 'sets' });
  return t;
};
const F = (s: string): number => ipsetFlags(s.split(','));

describe('IpSetTable save', () => {
  it('prints what ipset save prints: create options in save order (hashsize rounded, bucketsize even, initval kept), elements canonical', () => {
    expect(table().save()).toBe(`create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x11223344
add KUBE-CLUSTER-IP 10.96.0.1,tcp:443
add KUBE-CLUSTER-IP 10.96.0.10,udp:53
add KUBE-CLUSTER-IP 10.96.0.10,tcp:53
create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
add KUBE-NODE-PORT-TCP 8080
add KUBE-NODE-PORT-TCP 30080
create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x01020304
add KUBE-LOOP-BACK 10.244.1.2,tcp:80,10.244.1.2
create KUBE-LB-SRC hash:ip,port,net family inet hashsize 1024 maxelem 100 comment bucketsize 6 initval 0xdeadbeef
add KUBE-LB-SRC 10.100.0.1,tcp:80,192.168.0.0/16 comment "lb source"
add KUBE-LB-SRC 10.100.0.1,tcp:80,192.168.1.7
create PINGS hash:ip,port family inet hashsize 64 maxelem 65536 bucketsize 12 initval 0x00000007
add PINGS 10.0.0.1,icmp:echo-request
add PINGS 10.0.0.1,gre:0
create NETS hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x000000aa
add NETS 10.0.0.0/8
add NETS 172.16.5.0/24
create IPS hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x000000bb
add IPS 1.2.3.4
`);
  });

  it('save → restore → save is a fixed point; an initval not given is a stable hash of the name', () => {
    const once = table().save();
    const again = new IpSetTable();
    again.restore(once);
    expect(again.save()).toBe(once);
    const a = new IpSetTable();
    a.restore('create X hash:ip\n');
    expect(a.save()).toMatch(/^create X hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x[0-9a-f]{8}\n$/);
    const b = new IpSetTable();
    b.restore('create X hash:ip\n');
    expect(b.save()).toBe(a.save());
  });

  it('del, flush, destroy, rename and swap', () => {
    const t = table();
    t.restore('del KUBE-CLUSTER-IP 10.96.0.1,tcp:443\nflush KUBE-NODE-PORT-TCP\ndestroy NETS\nrename IPS IPS2\nswap PINGS KUBE-LOOP-BACK\n');
    const s = t.save();
    expect(s).not.toContain('10.96.0.1,tcp:443');
    expect(s).not.toContain('add KUBE-NODE-PORT-TCP');
    expect(s).not.toContain('NETS');
    expect(s).toContain('create IPS2 hash:ip');
    expect(s).toContain('create KUBE-LOOP-BACK hash:ip,port family inet hashsize 64');
    expect(s).toContain('add PINGS 10.244.1.2,tcp:80,10.244.1.2');
    expect(t.test('KUBE-CLUSTER-IP', F('dst,dst'), tcp('1.1.1.1', 1, '10.96.0.1', 443))).toBe(false);
  });
});

describe('IpSetTable test (the kadt functions)', () => {
  const t = table();
  it('hash:ip,port dst,dst: address, protocol and port of the packet; ICMP by type/code; portless protocols by port 0', () => {
    expect(t.test('KUBE-CLUSTER-IP', F('dst,dst'), tcp('10.244.0.2', 40000, '10.96.0.1', 443))).toBe(true);
    expect(t.test('KUBE-CLUSTER-IP', F('dst,dst'), udp('10.244.0.2', 40000, '10.96.0.1', 443))).toBe(false);
    expect(t.test('KUBE-CLUSTER-IP', F('dst,dst'), udp('10.244.0.2', 40000, '10.96.0.10', 53))).toBe(true);
    expect(t.test('KUBE-CLUSTER-IP', F('dst,dst'), tcp('10.244.0.2', 40000, '10.96.0.10', 53))).toBe(true);
    expect(t.test('KUBE-CLUSTER-IP', F('src,dst'), tcp('10.96.0.1', 1, '10.96.0.2', 443))).toBe(true);
    expect(t.test('KUBE-CLUSTER-IP', F('dst,src'), tcp('1.1.1.1', 443, '10.96.0.1', 1))).toBe(true);
    expect(t.test('PINGS', F('dst,dst'), icmp('1.1.1.1', '10.0.0.1', 8, 0))).toBe(true);
    expect(t.test('PINGS', F('dst,dst'), icmp('1.1.1.1', '10.0.0.1', 0, 0))).toBe(false);
    const gre = icmp('1.1.1.1', '10.0.0.1', 8, 0);
    gre.icmp = null;
    gre.ip!.protocol = 47;
    expect(t.test('PINGS', F('dst,dst'), gre)).toBe(true);
  });

  it('fewer direction flags than the set has dimensions never match (ip_set_test)', () => {
    expect(t.test('KUBE-CLUSTER-IP', F('dst'), tcp('10.244.0.2', 40000, '10.96.0.1', 443))).toBe(false);
    expect(t.test('IPS', F('dst,dst'), tcp('9.9.9.9', 1, '1.2.3.4', 2))).toBe(true);
  });

  it('hash:ip,port,ip and hash:ip,port,net (most specific prefix first, any prefix present)', () => {
    expect(t.test('KUBE-LOOP-BACK', F('dst,dst,src'), tcp('10.244.1.2', 5000, '10.244.1.2', 80))).toBe(true);
    expect(t.test('KUBE-LOOP-BACK', F('dst,dst,src'), tcp('10.244.1.3', 5000, '10.244.1.2', 80))).toBe(false);
    expect(t.test('KUBE-LB-SRC', F('dst,dst,src'), tcp('192.168.200.1', 5000, '10.100.0.1', 80))).toBe(true);
    expect(t.test('KUBE-LB-SRC', F('dst,dst,src'), tcp('192.169.0.1', 5000, '10.100.0.1', 80))).toBe(false);
    t.restore('del KUBE-LB-SRC 10.100.0.1,tcp:80,192.168.0.0/16\n');
    expect(t.test('KUBE-LB-SRC', F('dst,dst,src'), tcp('192.168.200.1', 5000, '10.100.0.1', 80))).toBe(false);
    expect(t.test('KUBE-LB-SRC', F('dst,dst,src'), tcp('192.168.1.7', 5000, '10.100.0.1', 80))).toBe(true);
  });

  it('hash:net and hash:ip', () => {
    expect(t.test('NETS', F('src'), tcp('10.200.0.1', 1, '1.1.1.1', 2))).toBe(true);
    expect(t.test('NETS', F('dst'), tcp('10.200.0.1', 1, '172.16.5.9', 2))).toBe(true);
    expect(t.test('NETS', F('dst'), tcp('10.200.0.1', 1, '172.16.6.9', 2))).toBe(false);
    expect(t.test('IPS', F('src'), udp('1.2.3.4', 1, '9.9.9.9', 2))).toBe(true);
  });

  it('bitmap:port: TCP and UDP packets only, protocol not part of the element', () => {
    expect(t.test('KUBE-NODE-PORT-TCP', F('dst'), tcp('1.1.1.1', 1, '10.0.0.1', 30080))).toBe(true);
    expect(t.test('KUBE-NODE-PORT-TCP', F('dst'), udp('1.1.1.1', 1, '10.0.0.1', 30080))).toBe(true);
    expect(t.test('KUBE-NODE-PORT-TCP', F('src'), tcp('1.1.1.1', 8080, '10.0.0.1', 1))).toBe(true);
    expect(t.test('KUBE-NODE-PORT-TCP', F('dst'), icmp('1.1.1.1', '10.0.0.1', 8, 0))).toBe(false);
  });

  it('timeout 0 (kube-router): the set and its permanent elements print timeout 0; nomatch: the most specific prefix decides', () => {
    // kube-router's restore (pkg/utils/ipset.go BuildIPSetRestore): a TMP- set filled, swapped in, flushed, destroyed.
    const k = new IpSetTable();
    k.restore(
      ['create TMP-A hash:net timeout 0 initval 0x8cf87861', 'flush TMP-A', 'add TMP-A 10.0.0.0/8 timeout 0', 'add TMP-A 10.1.0.0/16 timeout 0 nomatch', 'add TMP-A 10.1.2.0/24 timeout 0',
        'create B hash:net timeout 0', 'swap TMP-A B', 'flush TMP-A', 'destroy TMP-A'].join('\n'),
      { exist: true },
    );
    // As ipset v7.17 prints it (B is the swapped-in set: TMP-A's initval; the kernel lists elements in bucket order).
    expect(k.save()).toBe('create B hash:net family inet hashsize 1024 maxelem 65536 timeout 0 bucketsize 12 initval 0x8cf87861\nadd B 10.0.0.0/8 timeout 0\nadd B 10.1.0.0/16 timeout 0 nomatch\nadd B 10.1.2.0/24 timeout 0\n');
    const inB = (a: string): boolean | undefined => k.test('B', F('src'), tcp(a, 1, '9.9.9.9', 2));
    expect([inB('10.1.2.3'), inB('10.1.3.3'), inB('10.2.3.3'), inB('11.0.0.1')]).toEqual([true, false, true, false]);
    // Re-added with -exist without nomatch, the element matches again (the kernel overwrites its flags).
    k.restore('add B 10.1.0.0/16 timeout 0\n', { exist: true });
    expect(inB('10.1.3.3')).toBe(true);
  });

  it('an unknown set is undefined (the rule errors)', () => {
    expect(t.test('NOPE', F('dst'), tcp('1.1.1.1', 1, '10.0.0.1', 2))).toBeUndefined();
  });
});

describe('IpSetTable restore errors', () => {
  const cases: [string, string][] = [
    ['add NOPE 1.2.3.4', 'sets:1:5: the set with the given name does not exist: "NOPE"'],
    ['create IPS hash:ip', 'sets:1:8: set cannot be created: set with the same name already exists: "IPS"'],
    ['add IPS 1.2.3.4', 'sets:1:9: element is already added: "1.2.3.4"'],
    ['del IPS 4.3.2.1', 'sets:1:9: element is missing: "4.3.2.1"'],
    ['add IPS 1.2.3.0/24', 'sets:1:9: invalid IPv4 address "1.2.3.0/24" (ranges and CIDR expansion are not modelled)'],
    ['add KUBE-CLUSTER-IP 10.96.0.1,tcp:443 comment "x"', 'sets:1:39: set KUBE-CLUSTER-IP was created without "comment"'],
    ['add KUBE-CLUSTER-IP 10.96.0.1', 'sets:1:21: element "10.96.0.1" does not fit hash:ip,port'],
    ['create X hash:mac', 'sets:1:10: unknown or unmodelled set type "hash:mac"'],
    ['create X hash:ip timeout 30', 'sets:1:18: unknown or unmodelled create option "timeout 30"'],
    ['create X bitmap:port', 'sets:1:10: bitmap:port needs "range FROM-TO"'],
    ['add IPS 1.2.3.5 timeout 0', 'sets:1:17: timeout cannot be used: set IPS was created without timeout support'],
    ['add IPS 1.2.3.5 nomatch', 'sets:1:17: nomatch needs a set type with a net, not hash:ip'],
    ['create T hash:ip timeout 0\nadd T 1.2.3.5 timeout 5', 'sets:2:15: element timeouts other than 0 (permanent) are not modelled'],
    ['frobnicate X', 'sets:1:1: unknown command "frobnicate"'],
  ];
  it.each(cases)('%s → %s', (line, msg) => {
    const t = table();
    let e: unknown;
    try {
      t.restore(`${line}\n`, { file: 'sets' });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(IpsetError);
    expect((e as Error).message).toBe(msg);
  });

  it('-exist (ipset -exist restore, or on the line) tolerates re-creating, re-adding and deleting what is missing', () => {
    const t = table();
    t.restore('create IPS hash:ip family inet\nadd IPS 1.2.3.4\ndel IPS 4.3.2.1\n', { exist: true });
    t.restore('add IPS 1.2.3.4 -exist\n');
    expect(t.save()).toContain('add IPS 1.2.3.4\n');
  });
});

describe('-m set through a Netfilter', () => {
  it("KUBE-CLUSTER-IP dst,dst marks for masquerade exactly the service address + protocol + port in the namespace's sets", () => {
    const nf = new Netfilter(new FakeHost([]));
    nf.ipsets.restore(SETS);
    nf.load(rules(`*mangle
      :PREROUTING ACCEPT [0:0]
      -A PREROUTING -m set --match-set KUBE-CLUSTER-IP dst,dst -j MARK --set-xmark 0x4000/0x4000
      COMMIT
    `));
    const hit = tcp('10.244.0.2', 40000, '10.96.0.1', 443);
    const miss = tcp('10.244.0.2', 40000, '10.96.0.1', 444);
    expect(nf.hook(NfHook.PREROUTING, hit, 'eth0', null).kind).toBe('accept');
    expect(nf.hook(NfHook.PREROUTING, miss, 'eth0', null).kind).toBe('accept');
    expect([hit.mark, miss.mark]).toEqual([0x4000, 0]);
  });
});

const IPSET = findProgram('ipset');
const IP = findProgram('ip');
const kernelSkip =
  typeof process.getuid !== 'function' || process.getuid() !== 0 ? 'needs root to create a network namespace' : IPSET === null ? 'needs the ipset program' : IP === null ? 'needs iproute2' : null;

describe.skipIf(kernelSkip !== null)(`the real ipset holds the same sets${kernelSkip ? ` (skipped: ${kernelSkip})` : ''}`, () => {
  const set = new NetnsSet('pwn');
  afterAll(() => set.destroy());

  /** Per set: its create line and its sorted add lines. */
  const bySet = (save: string): Map<string, { create: string; adds: string[] }> => {
    const out = new Map<string, { create: string; adds: string[] }>();
    for (const line of save.split('\n').filter((l) => l !== '')) {
      const name = line.split(' ')[1]!;
      if (line.startsWith('create ')) out.set(name, { create: line, adds: [] });
      else out.get(name)!.adds.push(line);
    }
    for (const v of out.values()) v.adds.sort();
    return out;
  };

  it('ipset restore of the same text, then ipset save: identical create lines and elements', () => {
    const ns = set.create('ipset');
    nsExec(ns, IPSET!, ['restore'], { input: SETS });
    const kernel = nsExec(ns, IPSET!, ['save']);
    expect(bySet(table().save())).toEqual(bySet(kernel));
  });

  it("podwire's save output (incl. its initval) restores into the kernel and saves back the same", () => {
    const ns = set.create('ipset2');
    const mine = new IpSetTable();
    mine.restore('create A hash:ip,port family inet\nadd A 10.96.0.1,udp:53\ncreate B bitmap:port range 100-200 comment\nadd B 150 comment "node port"\n');
    nsExec(ns, IPSET!, ['restore'], { input: mine.save() });
    expect(bySet(nsExec(ns, IPSET!, ['save']))).toEqual(bySet(mine.save()));
    expect(spawnSync(IPSET!, ['--version'], { encoding: 'utf8' }).stdout).toMatch(/^ipset v\d/);
  });

  it('timeout 0 and nomatch elements: the same save, and the kernel tests addresses as podwire does', () => {
    const ns = set.create('ipset3');
    const text = 'create N hash:net timeout 0\nadd N 10.0.0.0/8 timeout 0\nadd N 10.1.0.0/16 timeout 0 nomatch\nadd N 10.1.2.0/24 timeout 0\nadd N 0.0.0.0/1 timeout 0\nadd N 10.9.9.9 timeout 0 nomatch\n';
    const mine = new IpSetTable();
    mine.restore(text);
    nsExec(ns, IPSET!, ['restore'], { input: text });
    const noInitval = (t: string): string => t.replace(/ initval 0x[0-9a-f]+/g, '');
    expect(bySet(noInitval(nsExec(ns, IPSET!, ['save'])))).toEqual(bySet(noInitval(mine.save())));
    const kernelSays = (a: string): boolean => spawnSync(IP!, ['netns', 'exec', ns, IPSET!, 'test', 'N', a], { encoding: 'utf8' }).status === 0;
    for (const a of ['10.1.2.3', '10.1.3.3', '10.2.3.3', '10.9.9.9', '10.9.9.8', '11.0.0.1', '200.0.0.1']) {
      expect([a, mine.test('N', F('dst'), tcp('1.1.1.1', 1, a, 2))]).toEqual([a, kernelSays(a)]);
    }
  });
});

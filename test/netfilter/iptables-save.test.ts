// Tests for netfilter/iptables-save: parse, render byte for byte, restore semantics, errors, and the
// real iptables-restore --test accepting what podwire renders (root only, in a throwaway netns).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  IptablesParseError, formatProbability, parseIptablesSave, probabilityToKernel, renderIptablesSave, renderTable, restoreInto, saveString,
} from '../../src/netfilter/iptables-save.js';
import { canonicalize } from '../../src/netfilter/rules.js';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`../fixtures/iptables/${name}`, import.meta.url)), 'utf8');

describe('iptables-save round trip on dumps printed by the real iptables-save v1.8.9', () => {
  for (const name of ['misc.save', 'kube-proxy-node.save']) {
    it(`render(parse(${name})) is byte for byte the file`, () => {
      const text = fixture(name);
      expect(renderIptablesSave(parseIptablesSave(text, name))).toBe(text);
    });
    it(`parse(render(x)) deep-equals x for ${name}`, () => {
      const x = parseIptablesSave(fixture(name), name);
      expect(parseIptablesSave(renderIptablesSave(x))).toEqual(x);
    });
  }
});

describe('canonicalisation matches what the kernel hands back', () => {
  it('restore input written in any option order renders as iptables-save printed it (misc.restore -> misc.save)', () => {
    const saved = parseIptablesSave(fixture('misc.save'));
    // iptables-restore without --counters does not load the [p:b] it is given; the kernel starts at zero.
    const input = canonicalize(parseIptablesSave(fixture('misc.restore'), 'misc.restore'));
    for (const t of input.tables) for (const ch of t.chains) ch.counters = { packets: 0, bytes: 0 };
    for (const t of saved.tables) {
      const mine = input.tables.find((x) => x.name === t.name)!;
      expect(renderTable({ ...mine, header: t.header, footer: t.footer })).toBe(renderTable(t));
    }
  });

  it("kube-proxy's base chains + its sync loaded with --noflush render exactly as the node's iptables-save", () => {
    const node = parseIptablesSave(fixture('kube-proxy-node.save'));
    const base = canonicalize(parseIptablesSave(fixture('kube-proxy-base.restore')));
    const live = restoreInto(base, parseIptablesSave(fixture('kube-proxy-overall.restore'), 'kube-proxy-overall.restore'), true);
    const rendered = live.tables.map((t) => {
      const n = node.tables.find((x) => x.name === t.name)!;
      return renderTable({ ...t, header: n.header, footer: n.footer });
    });
    const order = node.tables.map((t) => t.name);
    const byName = new Map(live.tables.map((t, i) => [t.name, rendered[i]!]));
    expect(order.map((n) => byName.get(n)).join('')).toBe(fixture('kube-proxy-node.save'));
  });

  it('MARK forms become --set-xmark as libxt_MARK saves them', () => {
    const rs = parseIptablesSave(
      ['*mangle', ':PREROUTING ACCEPT [0:0]', '-A PREROUTING -j MARK --or-mark 0x4000', '-A PREROUTING -j MARK --xor-mark 0x4000', '-A PREROUTING -j MARK --and-mark 0xff', '-A PREROUTING -j MARK --set-mark 0x10', 'COMMIT', ''].join('\n'),
    );
    expect(renderIptablesSave(rs).split('\n').filter((l) => l.startsWith('-A'))).toEqual([
      '-A PREROUTING -j MARK --set-xmark 0x4000/0x4000',
      '-A PREROUTING -j MARK --set-xmark 0x4000/0x0',
      '-A PREROUTING -j MARK --set-xmark 0x0/0xffffff00',
      '-A PREROUTING -j MARK --set-xmark 0x10/0xffffffff',
    ]);
  });

  it("statistic probabilities: kube-proxy's %0.10f in, the kernel's u32 printed %.11f out", () => {
    expect(formatProbability(probabilityToKernel(0.5))).toBe('0.50000000000');
    expect(formatProbability(probabilityToKernel(0.3333333333))).toBe('0.33333333349');
    expect(formatProbability(probabilityToKernel(0.1))).toBe('0.10000000009');
    expect(formatProbability(probabilityToKernel(0.25))).toBe('0.25000000000');
    expect(formatProbability(probabilityToKernel(1))).toBe('1.00000000000');
  });

  it('xtables_save_string quoting', () => {
    expect(saveString('ns1/svc1:p80')).toBe('"ns1/svc1:p80"');
    expect(saveString('simple_word-1')).toBe('simple_word-1');
    expect(saveString(`it's "x" \\`)).toBe(`"it\\'s \\"x\\" \\\\"`);
  });

  it('rule counters ([p:b] -A ...) round trip', () => {
    const text = ['*filter', ':INPUT ACCEPT [10:600]', ':FORWARD DROP [1:60]', ':OUTPUT ACCEPT [0:0]', '[3:180] -A INPUT -i lo -j ACCEPT', 'COMMIT', ''].join('\n');
    const rs = parseIptablesSave(text);
    expect(rs.tables[0]!.chains[0]!.rules[0]!.counters).toEqual({ packets: 3, bytes: 180 });
    expect(renderIptablesSave(rs)).toBe(text);
  });
});

describe('parse errors name file, line, column and token', () => {
  const wrap = (rule: string, extra = ''): string => `*filter\n:INPUT ACCEPT [0:0]\n${extra}${rule}\nCOMMIT\n`;
  const err = (text: string): IptablesParseError => {
    try {
      parseIptablesSave(text, 'rules.txt');
    } catch (e) {
      if (e instanceof IptablesParseError) return e;
      throw e;
    }
    throw new Error('no error');
  };
  it('unknown match', () => {
    expect(err(wrap('-A INPUT -p tcp -m foo --bar 1 -j ACCEPT')).message).toBe('rules.txt:3:17: unknown match "-m foo"');
  });
  it('unsupported match (-m socket)', () => {
    expect(err(wrap('-A INPUT -m socket -j ACCEPT')).message).toBe('rules.txt:3:10: unsupported match "-m socket" (not modelled by podwire)');
  });
  it('unknown target / undefined chain', () => {
    expect(err(wrap('-A INPUT -j NOPE')).message).toBe('rules.txt:3:13: unknown target "NOPE" (no such chain in table filter)');
  });
  it('unknown option', () => {
    expect(err(wrap('-A INPUT -p tcp --dport 80 --frobnicate -j ACCEPT')).message).toBe('rules.txt:3:28: unknown option "--frobnicate"');
  });
  it('option of a match that is not loaded (multiport option without -m multiport)', () => {
    expect(err(wrap('-A INPUT -p tcp --dports 80,81 -j ACCEPT')).detail).toBe('unknown option "--dports"');
  });
  it('an interface name of 16 characters or more, as xtables_parse_interface refuses it (15 is accepted)', () => {
    expect(err(wrap('-A INPUT -i eth0eth0eth0eth0eth0 -j ACCEPT')).message).toBe('rules.txt:3:13: interface name "eth0eth0eth0eth0eth0" must be shorter than IFNAMSIZ (15 characters at most)');
    expect(err(wrap('-A INPUT ! -o abcdefghijklmnop -j ACCEPT')).detail).toBe('interface name "abcdefghijklmnop" must be shorter than IFNAMSIZ (15 characters at most)');
    expect(parseIptablesSave(wrap('-A INPUT -i abcdefghijklmno -j ACCEPT'), 'rules.txt')).toBeTruthy();
  });
  it('missing argument', () => {
    expect(err(wrap('-A INPUT -m comment --comment')).message).toBe('rules.txt:3:21: option "--comment" requires an argument');
  });
  it('rule in undeclared chain, unknown table, missing COMMIT', () => {
    expect(err(wrap('-A FOO -j ACCEPT')).message).toBe('rules.txt:3:4: unknown chain "FOO" (declare it with ":FOO - [0:0]")');
    expect(err('*bogus\nCOMMIT\n').message).toBe('rules.txt:1:2: unknown table "bogus"');
    expect(err('*filter\n:INPUT ACCEPT [0:0]\n').detail).toBe('table "filter" has no COMMIT');
  });
  it('NAT targets outside nat, quoted "!" is a value', () => {
    expect(err(wrap('-A INPUT -j DNAT --to-destination 1.2.3.4')).detail).toBe('target "DNAT" is only valid in the nat table');
    const rs = parseIptablesSave(wrap('-A INPUT -m comment --comment "!" -j ACCEPT'));
    expect(rs.tables[0]!.chains[0]!.rules[0]!.matches[0]).toEqual({ kind: 'comment', comment: '!' });
  });
});

function canRunIptables(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const b of ['/usr/sbin/iptables-restore', '/sbin/iptables-restore']) if (existsSync(b)) return null;
  return 'no iptables-restore binary';
}
const skipReason = canRunIptables();

describe.skipIf(skipReason !== null)(`real iptables-restore --test accepts podwire's rendering${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('every fixture, canonicalised and rendered, passes iptables-restore --test in a fresh netns', () => {
    const ns = `pw-nftest-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      for (const name of ['misc.save', 'kube-proxy-node.save', 'misc.restore', 'kube-proxy-overall.restore', 'trace-packet.restore']) {
        const text = renderIptablesSave(canonicalize(parseIptablesSave(fixture(name), name)));
        execFileSync('ip', ['netns', 'exec', ns, 'iptables-restore', '--test'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });
      }
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });
});

// Tests for -j TCPMSS (netfilter/ext/tcpmss.ts): iptables-save text in and out as iptables v1.8.9 prints
// it, the checks iptables and the kernel make, and xt_TCPMSS.c's rewrite of the MSS option.
//
//   client 203.0.113.2 --eth0 (1500)-- [ router: mangle FORWARD -j TCPMSS ] --tun0 (1400)-- server 10.9.0.5
//
import { describe, expect, it } from 'vitest';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { parseIptablesSave, renderIptablesSave } from '../../src/netfilter/iptables-save.js';
import { listRuleset } from '../../src/netfilter/nft/list.js';
import { encodeTcp, decodeTcp } from '../../src/wire/tcp.js';
import type { Packet } from '../../src/packet/packet.js';
import { TcpFlag, type TcpOption } from '../../src/wire/types.js';
import { FakeHost, ip, rules, tcp } from './helpers.js';

// `iptables-save` on this machine after `iptables -t mangle -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN
// -j TCPMSS --clamp-mss-to-pmtu`, `... --set-mss 0x500`, `-A POSTROUTING -o eth0 -p tcp --syn -j TCPMSS
// --set-mss 1400` (header and footer comments left out): --syn is saved as FIN,SYN,RST,ACK SYN, hex as decimal.
const SAVED = `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1280
-A POSTROUTING -o eth0 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --set-mss 1400
COMMIT
`;

const CLIENT = '203.0.113.2';
const SERVER = '10.9.0.5';

/** A router whose tun0 has MTU 1400 (eth0 1500) and one TCPMSS rule in mangle FORWARD. */
function router(target: string, mtus: Record<string, number> = { tun0: 1400 }): Netfilter {
  const h = new FakeHost([ip('192.168.0.1')]);
  h.mtus = mtus;
  const nf = new Netfilter(h);
  nf.load(rules(`*mangle
    :FORWARD ACCEPT [0:0]
    -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS ${target}
    COMMIT
  `));
  return nf;
}

/** A segment client → server with these options. */
function seg(options: TcpOption[], flags: number = TcpFlag.SYN, len = 0): Packet {
  const p = tcp(CLIENT, 40000, SERVER, 80, flags, len);
  p.tcp!.options = options;
  p.ip!.totalLength = 20 + 20 + (options.length ? 4 * Math.ceil(options.reduce((a, o) => a + (o.kind === 'mss' ? 4 : o.kind === 'wscale' ? 3 : o.kind === 'timestamps' ? 10 : o.kind === 'sackPermitted' ? 2 : 1), 0) / 4) : 0) + len;
  return p;
}

const mssOf = (p: Packet): number | undefined => p.tcp!.options.find((o): o is { kind: 'mss'; value: number } => o.kind === 'mss')?.value;

/** The checksum encodeTcp computes from scratch for the segment as it now is. */
function freshChecksum(p: Packet): number {
  const hdr = { ...p.tcp!, checksum: null };
  const buf = new Uint8Array(60 + p.payloadLength);
  const hlen = encodeTcp(hdr, buf, 0, p.ip!.src, p.ip!.dst, 0);
  const n = encodeTcp(hdr, buf, 0, p.ip!.src, p.ip!.dst, hlen + p.payloadLength);
  return decodeTcp(buf.subarray(0, n), 0).hdr.checksum!;
}

describe('iptables-save text', () => {
  it('loads a real dump and prints it back byte for byte', () => {
    const rs = parseIptablesSave(SAVED, 'saved');
    expect(renderIptablesSave(rs)).toBe(SAVED);
    const fwd = rs.tables[0]!.chains.find((c) => c.name === 'FORWARD')!;
    expect(fwd.rules.map((r) => r.target)).toEqual([{ kind: 'TCPMSS', mss: 0xffff }, { kind: 'TCPMSS', mss: 1280 }]);
  });

  it('refuses what iptables and the kernel refuse, with the position', () => {
    const one = (chain: string, body: string) => () => parseIptablesSave(`*mangle\n:${chain} ACCEPT [0:0]\n-A ${chain} ${body}\nCOMMIT\n`, 'r.rules');
    expect(one('FORWARD', '-j TCPMSS --set-mss 1000')).toThrow(/^r\.rules:3:\d+: target "TCPMSS" is only valid for -p tcp/);
    expect(one('FORWARD', '! -p tcp -j TCPMSS --set-mss 1000')).toThrow(/only valid for -p tcp/);
    expect(one('FORWARD', '-p tcp -j TCPMSS')).toThrow(/At least one parameter is required/);
    expect(one('FORWARD', '-p tcp -j TCPMSS --set-mss 70000')).toThrow(/out of range \(0-65515\)/);
    expect(one('PREROUTING', '-p tcp --syn -j TCPMSS --clamp-mss-to-pmtu')).toThrow(/r\.rules:3:4: TCPMSS --clamp-mss-to-pmtu is only supported in FORWARD, OUTPUT and POSTROUTING, not PREROUTING/);
    expect(one('INPUT', '-p tcp --syn -j TCPMSS --clamp-mss-to-pmtu')).toThrow(/not INPUT/);
    // Through a user chain PREROUTING jumps to, iptables-nft-restore accepts it (nft_compat checks TCPMSS's hooks
    // only in base chains; iptables-legacy-restore refuses it): a dump may hold it (test/fidelity/kernel-restore).
    const viaChain = `*mangle\n:PREROUTING ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:clamp - [0:0]\n-A FORWARD -j clamp\n-A PREROUTING -j clamp\n-A clamp -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n`;
    expect(() => parseIptablesSave(viaChain, 'r.rules')).not.toThrow();
    // --set-mss needs no route: valid in PREROUTING (kube-router's DSR rule lives there).
    expect(one('PREROUTING', '-p tcp --syn -j TCPMSS --set-mss 1440')).not.toThrow();
    expect(one('FORWARD', '-p tcp -j TCPMSS --set-mss 65515')).not.toThrow();
  });
});

describe('xt_TCPMSS: the MSS option of a SYN', () => {
  it('clamps to the outgoing route MTU − 40 and counts the rule', () => {
    const nf = router('--clamp-mss-to-pmtu');
    const p = seg([{ kind: 'mss', value: 1460 }, { kind: 'sackPermitted' }, { kind: 'timestamps', tsval: 1, tsecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }]);
    const len = p.ip!.totalLength;
    expect(nf.hook(NfHook.FORWARD, p, 'eth0', 'tun0').kind).toBe('accept');
    expect(mssOf(p)).toBe(1360);
    expect(p.tcp!.options.map((o) => o.kind)).toEqual(['mss', 'sackPermitted', 'timestamps', 'nop', 'wscale']);
    expect(p.ip!.totalLength).toBe(len);
    expect(nf.ruleset().tables[0]!.chains.find((c) => c.name === 'FORWARD')!.rules[0]!.counters).toEqual({ packets: 1, bytes: len });
  });

  it('takes the smaller of the route out and the route back to the source (tcpmss_reverse_mtu)', () => {
    // The SYN-ACK from the server: out eth0 (1500), but the route back to 10.9.0.5 leaves by tun0 (1400).
    const nf = router('--clamp-mss-to-pmtu', { tun0: 1400, [SERVER]: 1400 });
    const p = tcp(SERVER, 80, CLIENT, 40000, TcpFlag.SYN | TcpFlag.ACK);
    p.tcp!.options = [{ kind: 'mss', value: 1460 }];
    nf.hook(NfHook.FORWARD, p, 'tun0', 'eth0');
    expect(mssOf(p)).toBe(1360);
  });

  it('never raises an MSS, also not with --set-mss', () => {
    for (const [target, before, after] of [['--clamp-mss-to-pmtu', 1200, 1200], ['--set-mss 1400', 1300, 1300], ['--set-mss 1400', 1460, 1400], ['--clamp-mss-to-pmtu', 1360, 1360]] as const) {
      const p = seg([{ kind: 'mss', value: before }]);
      router(target).hook(NfHook.FORWARD, p, 'eth0', 'tun0');
      expect(mssOf(p), `${target} on ${before}`).toBe(after);
    }
  });

  it('only SYNs match the usual rule: a data segment keeps its header', () => {
    const p = seg([{ kind: 'timestamps', tsval: 1, tsecr: 2 }], TcpFlag.ACK, 1000);
    router('--set-mss 500').hook(NfHook.FORWARD, p, 'eth0', 'tun0');
    expect(p.tcp!.options).toEqual([{ kind: 'timestamps', tsval: 1, tsecr: 2 }]);
  });

  it('adds an MSS option to a SYN without one: first, at most 536, 4 more bytes', () => {
    const p = seg([{ kind: 'sackPermitted' }, { kind: 'nop' }, { kind: 'nop' }]);
    const len = p.ip!.totalLength;
    router('--clamp-mss-to-pmtu').hook(NfHook.FORWARD, p, 'eth0', 'tun0');
    expect(p.tcp!.options[0]).toEqual({ kind: 'mss', value: 536 });
    expect(p.tcp!.options.length).toBe(4);
    expect(p.ip!.totalLength).toBe(len + 4);
    // Below 536 the clamp value itself.
    const q = seg([]);
    router('--set-mss 400').hook(NfHook.FORWARD, q, 'eth0', 'tun0');
    expect(q.tcp!.options).toEqual([{ kind: 'mss', value: 400 }]);
  });

  it('adds nothing to a SYN carrying data or whose header is already 60 bytes', () => {
    const withData = seg([], TcpFlag.SYN, 100);
    router('--set-mss 1000').hook(NfHook.FORWARD, withData, 'eth0', 'tun0');
    expect(withData.tcp!.options).toEqual([]);
    const full: TcpOption[] = Array.from({ length: 40 }, () => ({ kind: 'nop' }));
    const p = seg(full);
    router('--set-mss 1000').hook(NfHook.FORWARD, p, 'eth0', 'tun0');
    expect(p.tcp!.options.length).toBe(40);
  });

  it('drops the SYN when the path MTU is 40 or less ("unknown or invalid path-MTU")', () => {
    const p = seg([{ kind: 'mss', value: 1460 }]);
    expect(router('--clamp-mss-to-pmtu', { tun0: 40 }).hook(NfHook.FORWARD, p, 'eth0', 'tun0')).toMatchObject({ kind: 'drop', reason: 'tcpmss-invalid-pmtu' });
  });

  it('updates the TCP checksum incrementally: the result is the checksum computed afresh', () => {
    for (const [target, options] of [
      ['--clamp-mss-to-pmtu', [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }]],
      ['--clamp-mss-to-pmtu', [{ kind: 'sackPermitted' }, { kind: 'nop' }, { kind: 'nop' }]],
      ['--set-mss 1000', []],
    ] as [string, TcpOption[]][]) {
      const p = seg(options);
      p.tcp!.checksum = freshChecksum(p);
      router(target).hook(NfHook.FORWARD, p, 'eth0', 'tun0');
      expect(p.tcp!.checksum, `${target} ${JSON.stringify(options)}`).toBe(freshChecksum(p));
    }
  });

  it('does not touch the option list the sender holds', () => {
    const opts: TcpOption[] = [{ kind: 'mss', value: 1460 }];
    const p = seg(opts);
    router('--clamp-mss-to-pmtu').hook(NfHook.FORWARD, p, 'eth0', 'tun0');
    expect(opts).toEqual([{ kind: 'mss', value: 1460 }]);
    expect(mssOf(p)).toBe(1360);
  });
});

describe('nftables: tcp option maxseg size set rt mtu | N', () => {
  /** A router with the statement in a forward base chain at `priority` (default -140: between mangle and filter). */
  function nftRouter(rule: string, mtus: Record<string, number> = { tun0: 1400 }, priority = '-140'): Netfilter {
    const h = new FakeHost([ip('192.168.0.1')]);
    h.mtus = mtus;
    const nf = new Netfilter(h);
    nf.nft.apply(`add table ip mangle\nadd chain ip mangle fwd { type filter hook forward priority ${priority} ; policy accept ; }\nadd rule ip mangle fwd ${rule}\n`, 'mss.nft');
    return nf;
  }

  it('parses what iptables-nft writes for TCPMSS and lists it back as nft list ruleset prints it', () => {
    // `nft list ruleset` on this machine after the iptables rules of SAVED above (counters elided by nft -f input).
    const nf = nftRouter('tcp flags syn / syn,rst counter tcp option maxseg size set rt mtu');
    nf.nft.apply('add rule ip mangle fwd tcp flags syn / fin,syn,rst,ack counter tcp option maxseg size set 1400\n', 'more.nft');
    const listing = listRuleset(nf.nft);
    expect(listing).toContain('\t\ttcp flags syn / syn,rst counter packets 0 bytes 0 tcp option maxseg size set rt mtu\n');
    expect(listing).toContain('\t\ttcp flags syn / fin,syn,rst,ack counter packets 0 bytes 0 tcp option maxseg size set 1400\n');
    expect(() => nftRouter('tcp option maxseg size set 70000')).toThrow(/mss\.nft:3: 70000 does not fit the 16-bit MSS/);
    expect(() => nftRouter('tcp flags syn / syn,bogus accept')).toThrow(/unknown TCP flag "bogus"/);
  });

  it('lowers a SYN\'s MSS to the route MTU − 40, never raises it, and adds none (unlike TCPMSS)', () => {
    const nf = nftRouter('tcp flags syn / syn,rst tcp option maxseg size set rt mtu');
    const p = seg([{ kind: 'mss', value: 1460 }]);
    p.tcp!.checksum = freshChecksum(p);
    expect(nf.hook(NfHook.FORWARD, p, 'eth0', 'tun0').kind).toBe('accept');
    expect(mssOf(p)).toBe(1360);
    expect(p.tcp!.checksum).toBe(freshChecksum(p));
    const low = seg([{ kind: 'mss', value: 1200 }]);
    nf.hook(NfHook.FORWARD, low, 'eth0', 'tun0');
    expect(mssOf(low)).toBe(1200);
    const none = seg([{ kind: 'sackPermitted' }]);
    const len = none.ip!.totalLength;
    nf.hook(NfHook.FORWARD, none, 'eth0', 'tun0');
    expect([none.tcp!.options, none.ip!.totalLength]).toEqual([[{ kind: 'sackPermitted' }], len]);
    // The flags match: an ACK keeps its MSS option (a made-up one, to see the match decide).
    const ack = seg([{ kind: 'mss', value: 1460 }], TcpFlag.ACK);
    nf.hook(NfHook.FORWARD, ack, 'eth0', 'tun0');
    expect(mssOf(ack)).toBe(1460);
  });

  it('runs in base chains at any priority: mangle (-150, where iptables-nft puts TCPMSS), raw (-300) and filter', () => {
    for (const priority of ['mangle', '-150', 'raw', '-300', '-151', 'filter', '10']) {
      const p = seg([{ kind: 'mss', value: 1460 }]);
      nftRouter('tcp option maxseg size set rt mtu', { tun0: 1400 }, priority).hook(NfHook.FORWARD, p, 'eth0', 'tun0');
      expect(mssOf(p), `priority ${priority}`).toBe(1360);
    }
  });

  it('rt mtu: the smaller of the routes out and back; 536 when the MTU is 40 or less (get_tcpmss)', () => {
    const back = seg([{ kind: 'mss', value: 1460 }]);
    nftRouter('tcp option maxseg size set rt mtu', { tun0: 1500, [CLIENT]: 1300 }).hook(NfHook.FORWARD, back, 'eth0', 'tun0');
    expect(mssOf(back)).toBe(1260);
    const tiny = seg([{ kind: 'mss', value: 1460 }]);
    expect(nftRouter('tcp option maxseg size set rt mtu', { tun0: 40 }).hook(NfHook.FORWARD, tiny, 'eth0', 'tun0').kind).toBe('accept');
    expect(mssOf(tiny)).toBe(536);
    const fixed = seg([{ kind: 'mss', value: 1460 }]);
    nftRouter('tcp option maxseg size set 1000').hook(NfHook.FORWARD, fixed, 'eth0', 'tun0');
    expect(mssOf(fixed)).toBe(1000);
  });
});

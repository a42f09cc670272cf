// netfilter/ext/tcpudp — `-m tcp`, `-m udp`, `-m sctp`: source/destination port ranges and TCP flags.
// Layer: netfilter (imports this folder). Mirrors iptables/extensions/libxt_tcp.c, libxt_udp.c,
// libxt_sctp.c (ports only) and net/netfilter/xt_tcpudp.c, xt_sctp.c. Loaded explicitly or implicitly
// by `-p tcp --dport 80`. Not modelled: --tcp-option, sctp --chunk-types.
import type { Neg, PortRange } from '../rules.js';
import { dstPort, inRange, srcPort, type MatchFn } from '../x-tables.js';
import { optNeg, parsePortRange, portStr, type Cursor, type Token } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m tcp / udp / sctp. */
export interface PortsMatch<K extends 'tcp' | 'udp' | 'sctp'> {
  kind: K;
  sport: Neg<PortRange> | null;
  dport: Neg<PortRange> | null;
  tcpFlags: Neg<{ mask: number; comp: number }> | null;
}

const TCP_FLAGS: [string, number][] = [['FIN', 0x01], ['SYN', 0x02], ['RST', 0x04], ['PSH', 0x08], ['ACK', 0x10], ['URG', 0x20]];

function tcpFlagsStr(v: number): string {
  const names = TCP_FLAGS.filter(([, b]) => v & b).map(([n]) => n);
  return names.length ? names.join(',') : 'NONE';
}

function parseFlags(c: Cursor, tk: Token): number {
  let v = 0;
  for (const f of tk.text.split(',')) {
    const u = f.toUpperCase();
    if (u === 'ALL') v |= 0x3f;
    else if (u === 'NONE') continue;
    else {
      const e = TCP_FLAGS.find(([n]) => n === u);
      if (!e) throw c.err(tk, `unknown TCP flag "${f}"`);
      v |= e[1];
    }
  }
  return v;
}

function parsePorts(m: PortsMatch<'tcp' | 'udp' | 'sctp'>, opt: Token, neg: boolean, c: Cursor): boolean {
  const o = opt.text;
  if (o === '--sport' || o === '--source-port') return (m.sport = { neg, value: parsePortRange(c, c.arg(opt)) }), true;
  if (o === '--dport' || o === '--destination-port') return (m.dport = { neg, value: parsePortRange(c, c.arg(opt)) }), true;
  if (m.kind !== 'tcp') return false;
  if (o === '--tcp-flags') {
    const maskT = c.arg(opt);
    const compT = c.arg(opt);
    m.tcpFlags = { neg, value: { mask: parseFlags(c, maskT), comp: parseFlags(c, compT) } };
    return true;
  }
  if (o === '--syn') return (m.tcpFlags = { neg, value: { mask: 0x17, comp: 0x02 } }), true;
  return false;
}

function render(m: PortsMatch<'tcp' | 'udp' | 'sctp'>): string {
  return (
    ` -m ${m.kind}` +
    optNeg(m.sport, '--sport', (p) => portStr(p)) +
    optNeg(m.dport, '--dport', (p) => portStr(p)) +
    optNeg(m.tcpFlags, '--tcp-flags', (f) => `${tcpFlagsStr(f.mask)} ${tcpFlagsStr(f.comp)}`)
  );
}

/** tcp_mt / udp_mt (xt_tcpudp.c) and sctp_mt's port part. */
function compile(m: PortsMatch<'tcp' | 'udp' | 'sctp'>): MatchFn {
  const { sport, dport, tcpFlags } = m;
  const kind = m.kind;
  return (c) => {
    const pkt = c.pkt;
    // Packets have no SCTP header record: an SCTP packet carries its ports in a UDP-shaped record
    // with IP protocol 132 (trace-dump builds them so); -p/-m then tell the two apart.
    if (kind === 'tcp' ? !pkt.tcp : !pkt.udp || c.ip.protocol !== (kind === 'udp' ? 17 : 132)) return false;
    if (sport && inRange(sport.value, srcPort(pkt)!) === sport.neg) return false;
    if (dport && inRange(dport.value, dstPort(pkt)!) === dport.neg) return false;
    if (tcpFlags && ((pkt.tcp!.flags & tcpFlags.value.mask) === tcpFlags.value.comp) === tcpFlags.neg) return false;
    return true;
  };
}

function portsExt<K extends 'tcp' | 'udp' | 'sctp'>(name: K): MatchExt<PortsMatch<K>> {
  return { name, init: () => ({ kind: name, sport: null, dport: null, tcpFlags: null }), parse: parsePorts, render, compile };
}

/** -m tcp. */
export const tcp = portsExt('tcp');
/** -m udp. */
export const udp = portsExt('udp');
/** -m sctp. */
export const sctp = portsExt('sctp');

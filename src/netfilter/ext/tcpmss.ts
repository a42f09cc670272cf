// netfilter/ext/tcpmss — `-j TCPMSS --set-mss N | --clamp-mss-to-pmtu`: rewrites the MSS option of TCP
// SYNs (and SYN-ACKs) passing a router, so both ends agree on segments that fit a smaller link.
// Layer: netfilter (imports this folder). Mirrors iptables/extensions/libxt_TCPMSS.c (options, save
// format: " --set-mss %u" / " --clamp-mss-to-pmtu"; set-mss range 0..65515 for IPv4) and
// net/netfilter/xt_TCPMSS.c (tcpmss_tg4, tcpmss_mangle_packet, tcpmss_reverse_mtu):
//   - clamp: newmss = min(dst_mtu(skb_dst), MTU of the route back to the source) − 40 (IPv4 + TCP
//     headers); an MTU of 40 or less drops the packet ("unknown or invalid path-MTU");
//   - an MSS option is only ever lowered, never raised;
//   - a segment without one gets it, inserted first among the options, with min(newmss, 536)
//     (RFC 1122's default send MSS), unless it carries data or its header is already 60 bytes long;
//     the IP total length grows by 4;
//   - the TCP (and IP) checksum is updated incrementally (inet_proto_csum_replace2/4), so a checksum
//     that was wrong stays wrong by the same amount; a null checksum stays "compute on encode".
// The kernel target requires `-p tcp` (xt_target.proto); iptables-nft (the backend podwire's text
// follows) does not enforce the `--tcp-flags SYN,RST SYN` match legacy iptables asks for, nor does
// podwire. Not modelled: the hook check (clamping refused in PREROUTING / INPUT) for rules in user
// chains — it is checked for the built-in chains only (iptables-save.ts) — and IPv6.
import type { Packet } from '../../packet/packet.js';
import { tcpHeaderLength } from '../../wire/tcp.js';
import { TgCode } from '../x-tables.js';
import { parseNumber } from '../xtables.js';
import type { TargetExt } from './api.js';

/** `--clamp-mss-to-pmtu` as the kernel stores it (XT_TCPMSS_CLAMP_PMTU). */
export const TCPMSS_CLAMP_PMTU = 0xffff;
/** IPv4 header + TCP header without options: what clamping subtracts from the path MTU. */
const MIN_LEN = 40;
/** RFC 1122 §4.2.2.6: the send MSS assumed when a SYN carries none. */
const DEFAULT_MSS = 536;
/** The largest TCP header (data offset 15). */
const MAX_TCP_HEADER = 60;

/** The record of -j TCPMSS: the MSS to set, or TCPMSS_CLAMP_PMTU. */
export interface TcpmssTarget {
  kind: 'TCPMSS';
  /** -1 until an option sets it (final_check: "At least one parameter is required"). */
  mss: number;
}

/** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for a 16-bit word m → m'. */
export function csumReplace16(check: number, from: number, to: number): number {
  let s = (~check & 0xffff) + (~from & 0xffff) + (to & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * Lowers the segment's MSS option to `newmss` (never raises it), with the checksum update; false when
 * it has none. Shared with nftables' `tcp option maxseg size set` (nft_exthdr_tcp_set_eval).
 */
export function lowerMssOption(pkt: Packet, newmss: number): boolean {
  const tcp = pkt.tcp!;
  const opts = tcp.options;
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i]!;
    if (o.kind !== 'mss') continue;
    // "Never increase MSS, even when setting it."
    if (o.value <= newmss) return true;
    const copy = opts.slice(); // the sender may share its option list between segments
    copy[i] = { kind: 'mss', value: newmss };
    tcp.options = copy;
    if (tcp.checksum !== null) tcp.checksum = csumReplace16(tcp.checksum, o.value, newmss);
    return true;
  }
  return false;
}

/**
 * tcpmss_mangle_packet on the packet's records: lowers the MSS option to `newmss`, or inserts one.
 * Returns the bytes added to the segment (0 or 4).
 */
export function tcpmssMangle(pkt: Packet, newmss: number): number {
  const tcp = pkt.tcp!;
  const opts = tcp.options;
  if (lowerMssOption(pkt, newmss)) return 0;
  // No MSS option: add one, unless data follows the header or the header is full.
  if (pkt.payloadLength > 0) return 0;
  const hdrLen = tcpHeaderLength(tcp);
  if (hdrLen >= MAX_TCP_HEADER) return 0;
  const mss = newmss < DEFAULT_MSS ? newmss : DEFAULT_MSS;
  tcp.options = [{ kind: 'mss', value: mss }, ...opts];
  if (tcp.checksum !== null) {
    // The pseudo-header's TCP length, the option's two words (replacing zeros), the data offset word.
    let ck = csumReplace16(tcp.checksum, hdrLen, hdrLen + 4);
    ck = csumReplace16(ck, 0, 0x0204);
    ck = csumReplace16(ck, 0, mss);
    const doffWord = ((hdrLen / 4) << 12) | (tcp.flags & 0x1ff);
    tcp.checksum = csumReplace16(ck, doffWord, doffWord + (1 << 12));
  }
  return 4;
}

/** -j TCPMSS (any table; `-p tcp` required). */
export const TCPMSS: TargetExt<TcpmssTarget> = {
  name: 'TCPMSS',
  table: null,
  proto: 6,
  init: () => ({ kind: 'TCPMSS', mss: -1 }),
  parse(t, opt, c) {
    if (opt.text === '--set-mss') {
      const tk = c.arg(opt);
      const v = parseNumber(c, tk);
      if (v > 0xffff - MIN_LEN + 20) throw c.err(tk, `TCPMSS: bad value for option "--set-mss", or out of range (0-${0xffff - MIN_LEN + 20})`);
      t.mss = v;
      return true;
    }
    if (opt.text === '--clamp-mss-to-pmtu') return (t.mss = TCPMSS_CLAMP_PMTU), true;
    return false;
  },
  check(t, c) {
    if (t.mss < 0) throw c.errAtEnd('TCPMSS target: At least one parameter is required');
  },
  render: (t) => (t.mss === TCPMSS_CLAMP_PMTU ? ' -j TCPMSS --clamp-mss-to-pmtu' : ` -j TCPMSS --set-mss ${t.mss}`),
  compile(t) {
    const setMss = t.mss;
    return (c, env) => {
      const pkt = c.pkt;
      // A fragment carries no TCP header record (par->fragoff != 0).
      if (pkt.tcp === null) return TgCode.CONTINUE;
      let newmss = setMss;
      if (setMss === TCPMSS_CLAMP_PMTU) {
        const out = env.routeMtu(c.outIf, c.ip.dst);
        const back = env.routeMtu('', c.ip.src);
        const min = out < back ? out : back;
        if (min <= MIN_LEN) {
          env.dropReason = 'tcpmss-invalid-pmtu';
          return TgCode.DROP;
        }
        newmss = min - MIN_LEN;
      }
      const added = tcpmssMangle(pkt, newmss);
      if (added > 0) {
        const ip = c.ip;
        const len = ip.totalLength + added;
        if (ip.checksum !== null) ip.checksum = csumReplace16(ip.checksum, ip.totalLength, len);
        ip.totalLength = len;
      }
      return TgCode.CONTINUE;
    };
  },
};

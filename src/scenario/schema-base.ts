// scenario/schema-base — the scalar types of the Scenario document (names, addresses, durations,
// rates, HOST/IFNAME), in a module of their own so that fault modules which schema.ts's FaultSpec
// union imports (faults-net-schema.ts) can use them without an import cycle. Layer: scenario.
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import '../core/zod-messages.js';
import { DURATION, DURATION_EXPECTED, durationProblem, MAX_DURATION_NS, parseDuration } from '../core/time.js';

export { MAX_DURATION_NS };

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const RATE = /^\s*[0-9]+(\.[0-9]+)?\s*[kKmMgGtT]?(bps|bit|bit\/s|b\/s)?\s*$/;

/** Longest name: a DNS subdomain name (RFC 1123), as Kubernetes object names; host names become pcapng interface names. */
export const MAX_NAME = 253;
export const Name = z.string().max(MAX_NAME, { message: `at most ${MAX_NAME} characters (a DNS subdomain name)`, abort: true }).regex(NAME, 'expected a lower-case DNS label (a-z, 0-9, "-", ".")');
/** Longest flow name: OUT/NAME.hgrm, written first as NAME.hgrm.tmp-PID (a pid has at most 7 digits), is one file name of at most 255 bytes. */
export const MAX_FLOW_NAME = 238;
/** A traffic flow's name (also its .hgrm file's name). */
export const FlowName = z.string().max(MAX_FLOW_NAME, { message: `at most ${MAX_FLOW_NAME} characters (the flow's NAME.hgrm.tmp-PID is one file name of at most 255 bytes)`, abort: true }).regex(NAME, 'expected a lower-case DNS label (a-z, 0-9, "-", ".")');
export const IfName = z.string().regex(IFNAME, 'expected an interface name of at most 15 characters');
export const Ipv4Text = z.string().regex(IPV4, 'expected an IPv4 address like 10.0.0.1');
export const CidrText = z.string().regex(CIDR, 'expected an address with prefix like 172.17.0.1/16');
export const MacText = z.string().regex(MAC, 'expected a MAC address like 02:42:ac:11:00:02');
export const Duration = z.union([z.number().nonnegative(), z.string().regex(DURATION, DURATION_EXPECTED)]).superRefine((v, ctx) => {
  if (typeof v === 'string' && !DURATION.test(v)) return; // the regex has said why
  const problem = durationProblem(v);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});
/** A duration that must be positive (an interval between two events). */
export const Interval = Duration.refine((v) => parseDuration(v) !== 0 || /[1-9]/.test(String(v)), 'expected a positive interval (at least 1ns)');
export const Rate = z.union([z.number().positive(), z.string().regex(RATE, 'expected a rate like 1Gbps, 100Mbit, 10kbps')]);
/** `host/ifname` naming one interface of one namespace. */
export const EndText = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}$/, 'expected HOST/IFNAME like c1/eth0');

/**
 * A DNS name as a user writes it, as the clients people run send it: with a non-ASCII character, its
 * IDNA ASCII form (UTS #46: `bücher.example` → `xn--bcher-kva.example`), as curl (libidn2), browsers,
 * Python's and Node's resolvers convert a name before they look it up (a DNS label is octets; CoreDNS
 * and zone files hold the punycode form); an ASCII name unchanged (its case too). Null when the name is
 * not a valid internationalized name.
 */
export function asciiDomain(name: string): string | null {
  if (!/[^\x00-\x7f]/.test(name)) return name;
  const dot = name.endsWith('.') ? '.' : '';
  const a = domainToASCII(dot ? name.slice(0, -1) : name);
  return a === '' ? null : a + dot;
}

/** The refusal of a name asciiDomain cannot convert. */
export function idnaProblem(name: string): string {
  return `"${name}" is not a valid internationalized domain name (IDNA: write it as its xn-- form)`;
}

/** A DNS name field: converted by asciiDomain at load time, refused at its position when it cannot be. */
export const DomainText = z
  .string()
  .min(1)
  .transform((v, ctx) => {
    const a = asciiDomain(v);
    if (a === null) ctx.addIssue({ code: 'custom', message: idnaProblem(v) });
    return a ?? v;
  });

// wire/checksum — the Internet checksum. Layer: wire (imports nothing).
// Mirrors RFC 1071 (computation), RFC 1624 (incremental update) and the TCP/UDP pseudo-header of
// RFC 768 / RFC 9293.
//
// RFC 1071 §1: "Adjacent octets to be checksummed are paired to form 16-bit integers, and the 1's
// complement sum of these 16-bit integers is formed." The sum is accumulated unfolded in a JS number
// (exact up to 2^53, i.e. 2^37 bytes) and folded once at the end.
//
// Incremental use: checksumAdd(sum, buf, start, end) may be chained over several ranges; every range but
// the last must have an even length (a range that starts on an odd byte would be mis-paired).
//
// Not modelled: checksum offload (CHECKSUM_PARTIAL). Captures show the final checksum, as tcpdump on a
// veth does when the sender computed it in software.

/** Adds the 16-bit big-endian words of buf[start, end) to a running unfolded sum (odd tail padded with zero). */
export function checksumAdd(sum: number, buf: Uint8Array, start: number, end: number): number {
  let i = start;
  const even = end - ((end - start) & 1);
  for (; i < even; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  // RFC 1071 §4.1: "Add left-over byte, if any" — as the high byte of a word whose low byte is zero.
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** Folds an unfolded sum to 16 bits with end-around carry (not complemented). */
export function checksumFold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** Final checksum: the one's complement of the folded sum, as written into a header. */
export function checksumFinish(sum: number): number {
  return ~checksumFold(sum) & 0xffff;
}

/** RFC 1071 Internet checksum of buf[start, end), ready to be written into a header. */
export function internetChecksum(buf: Uint8Array, start: number, end: number): number {
  return checksumFinish(checksumAdd(0, buf, start, end));
}

/** Unfolded sum of the IPv4 pseudo-header (src, dst, zero, protocol, L4 length) used by UDP and TCP. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (protocol & 0xff) + (length & 0xffff);
}

/**
 * RFC 1624 incremental update for one 16-bit field changing from `oldValue` to `newValue`.
 * RFC 1624 §3, eqn. 3: "HC' = ~(~HC + ~m + m')" — which, unlike eqn. 2, never yields 0x0000 from a
 * non-zero sum (the -0 problem of RFC 1141).
 */
export function checksumUpdate16(checksum: number, oldValue: number, newValue: number): number {
  const sum = (~checksum & 0xffff) + (~oldValue & 0xffff) + (newValue & 0xffff);
  return ~checksumFold(sum) & 0xffff;
}

/** RFC 1624 incremental update for a 32-bit field (e.g. an IPv4 address rewritten by NAT). */
export function checksumUpdate32(checksum: number, oldValue: number, newValue: number): number {
  const sum =
    (~checksum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    ((newValue >>> 16) & 0xffff) +
    (newValue & 0xffff);
  return ~checksumFold(sum) & 0xffff;
}

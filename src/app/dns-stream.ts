// app/dns-stream — DNS messages on a TCP stream (RFC 1035 §4.2.2, RFC 7766 §8): each message is
// preceded by its length as a two-octet big-endian field. Shared by the stub resolver's send_vc
// (app/dns-resolver.ts) and the server's TCP listener (app/dns-server.ts). Layer: app (imports wire).
import { encodeDnsMessage, type DnsMessage } from '../wire/dns.js';

/** The largest DNS message a two-octet length can frame (miekg/dns MaxMsgSize). */
export const DNS_TCP_MAX = 65535;

/** `msgs` encoded and framed back to back, as one write (glibc's writev of both queries; a server's reply). */
export function frameDns(...msgs: DnsMessage[]): Uint8Array {
  const parts = msgs.map((m) => encodeDnsMessage(m));
  const out = new Uint8Array(parts.reduce((n, p) => n + 2 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out[at] = p.length >>> 8;
    out[at + 1] = p.length & 0xff;
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  return out;
}

/** Reassembles framed messages from a stream's reads, whatever their split into segments. */
export class DnsStreamReader {
  private buf = new Uint8Array(0);

  /** Appends bytes read from the stream. */
  push(data: Uint8Array): void {
    if (this.buf.length === 0) {
      this.buf = data.slice();
      return;
    }
    const b = new Uint8Array(this.buf.length + data.length);
    b.set(this.buf);
    b.set(data, this.buf.length);
    this.buf = b;
  }

  /** The next whole message's bytes (without its length field), or null until one has arrived. */
  next(): Uint8Array | null {
    if (this.buf.length < 2) return null;
    const len = (this.buf[0]! << 8) | this.buf[1]!;
    if (this.buf.length < 2 + len) return null;
    const m = this.buf.slice(2, 2 + len);
    this.buf = this.buf.subarray(2 + len);
    return m;
  }
}

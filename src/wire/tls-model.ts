// wire/tls-model — the encrypted part of a TLS 1.3 connection, modelled: the plaintext handshake
// messages after ServerHello with their real layouts and sizes, and a stand-in record protection that
// keeps the wire sizes of AEAD (RFC 8446 §5.2: TLSInnerPlaintext = content | type | zeros; ciphertext
// = inner + 16-byte tag) without real cryptography. Layer: wire (imports wire).
//
// Sizes, as measured with OpenSSL 3.0 (external-flows-facts §d):
// | message (§4)          | bytes (header included) |
// |-----------------------|-------------------------|
// | EncryptedExtensions   | 4 + 2 + extensions (ALPN http/1.1: 21) |
// | Certificate (§4.4.2)  | 4 + 1 (context) + 3 + Σ(3 + DER + 2) |
// | CertificateVerify     | 4 + 2 (scheme) + 2 + signature (RSA-2048: 256; ECDSA P-256: DER 70..72) |
// | Finished              | 4 + hash length (48 for TLS_AES_256_GCM_SHA384) |
// | NewSessionTicket      | 4 + 4 (lifetime) + 4 (age_add) + 1 + nonce (8) + 2 + ticket (240) + 2 = 265 |
// | alert                 | 2 (level, description) |
//
// Record protection (NOT cryptography): each byte of TLSInnerPlaintext is XORed with a keystream
// (mulberry32) seeded by (key, sequence number); the 16-byte "tag" is an FNV-1a digest of the inner
// plaintext (four 32-bit words), XORed with the next 16 keystream bytes.
// The key is a 32-bit hash of both hello randoms, the direction and the epoch, so either end — or a
// terminating proxy — computes it from what it saw on the wire; a flipped byte fails the tag check.
import { readU16, writeU16, writeU32 } from './bytes.js';
import { WireError } from './error.js';
import {
  TLS_AEAD_TAG_LENGTH, TLS_RECORD_HEADER_LENGTH, TlsContentType, TlsHandshakeType, TlsVersion, encodeHandshakeHeader, encryptedRecordLength,
  writeTlsU24,
} from './tls.js';

/** Bytes of a Certificate message carrying DER certificates of the given sizes (no extensions). */
export function certificateMessageLength(derSizes: readonly number[]): number {
  return 4 + 1 + 3 + derSizes.reduce((n, d) => n + 3 + d + 2, 0);
}

/** Bytes of a CertificateVerify message with a signature of `sigLen` bytes. */
export function certificateVerifyLength(sigLen: number): number {
  return 4 + 2 + 2 + sigLen;
}

/** Bytes of a Finished message for a suite hash of `hashLen` bytes. */
export function finishedLength(hashLen: number): number {
  return 4 + hashLen;
}

/** Bytes of a NewSessionTicket as OpenSSL 3.0 sends it (8-byte nonce, 240-byte ticket, no extensions). */
export function newSessionTicketLength(ticketLen = 240, nonceLen = 8): number {
  return 4 + 4 + 4 + 1 + nonceLen + 2 + ticketLen + 2;
}

/** Something that yields uniform 32-bit words (an Rng stream). */
export interface WordSource {
  uint32(): number;
}

/** `n` bytes from a word source. */
export function randomBytes(src: WordSource, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const w = src.uint32();
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = w >>> (8 * j);
  }
  return out;
}

/** A Certificate message whose DER blobs have the given sizes (a SEQUENCE header, then opaque bytes). */
export function buildCertificate(derSizes: readonly number[], src: WordSource): Uint8Array {
  const len = certificateMessageLength(derSizes);
  const b = new Uint8Array(len);
  encodeHandshakeHeader(TlsHandshakeType.CERTIFICATE, len - 4, b, 0);
  b[4] = 0; // certificate_request_context
  writeTlsU24(b, 5, len - 8);
  let p = 8;
  for (const d of derSizes) {
    if (d < 4) throw new WireError('tls', p, `certificate of ${d} bytes is too small`);
    writeTlsU24(b, p, d);
    b[p + 3] = 0x30; // SEQUENCE, long form with 2 length bytes (certificates are 256..65535 bytes)
    b[p + 4] = 0x82;
    writeU16(b, p + 5, d - 4);
    b.set(randomBytes(src, d - 4), p + 7);
    writeU16(b, p + 3 + d, 0); // extensions
    p += 3 + d + 2;
  }
  return b;
}

/** A CertificateVerify with `scheme` and a signature of `sigLen` pseudo-random bytes. */
export function buildCertificateVerify(scheme: number, sigLen: number, src: WordSource): Uint8Array {
  const b = new Uint8Array(certificateVerifyLength(sigLen));
  encodeHandshakeHeader(TlsHandshakeType.CERTIFICATE_VERIFY, b.length - 4, b, 0);
  writeU16(b, 4, scheme);
  writeU16(b, 6, sigLen);
  b.set(randomBytes(src, sigLen), 8);
  return b;
}

/** A Finished message with `hashLen` bytes of verify_data. */
export function buildFinished(hashLen: number, src: WordSource): Uint8Array {
  const b = new Uint8Array(finishedLength(hashLen));
  encodeHandshakeHeader(TlsHandshakeType.FINISHED, hashLen, b, 0);
  b.set(randomBytes(src, hashLen), 4);
  return b;
}

/** A NewSessionTicket (§4.6.1) as OpenSSL sends it: lifetime 7200 s, nonce = ticket counter. */
export function buildNewSessionTicket(counter: number, src: WordSource): Uint8Array {
  const b = new Uint8Array(newSessionTicketLength());
  encodeHandshakeHeader(TlsHandshakeType.NEW_SESSION_TICKET, b.length - 4, b, 0);
  writeU32(b, 4, 7200);
  writeU32(b, 8, src.uint32());
  b[12] = 8;
  writeU32(b, 17, counter);
  writeU16(b, 21, 240);
  b.set(randomBytes(src, 240), 23);
  writeU16(b, 263, 0);
  return b;
}

/** The handshake message types in a decrypted handshake record, in order (throws on bad framing). */
export function handshakeTypes(plain: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = 0; p < plain.length; ) {
    if (p + 4 > plain.length) throw new WireError('tls', p, 'truncated handshake header');
    const len = (plain[p + 1]! << 16) | readU16(plain, p + 2);
    if (p + 4 + len > plain.length) throw new WireError('tls', p, `handshake length ${len} runs past the record`);
    out.push(plain[p]!);
    p += 4 + len;
  }
  return out;
}

// --- record protection stand-in ---

/** A 32-bit key from both randoms, the direction (0 client→server, 1 server→client) and the epoch. */
export function modelTrafficKey(clientRandom: Uint8Array, serverRandom: Uint8Array, direction: 0 | 1, epoch: 'handshake' | 'application'): number {
  let h = 0x811c9dc5;
  for (const b of clientRandom) h = Math.imul(h ^ b, 0x01000193);
  for (const b of serverRandom) h = Math.imul(h ^ b, 0x01000193);
  h = Math.imul(h ^ (direction + 1), 0x01000193);
  h = Math.imul(h ^ (epoch === 'handshake' ? 0x68 : 0x61), 0x01000193);
  return h >>> 0;
}

/** FNV-1a over buf[off, off+len). */
function digest(buf: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ buf[off + i]!, 0x01000193);
  return h >>> 0;
}

/** Byte i of the 16-byte tag of digest h (four words: h, h·φ, h·φ², h·φ³). */
function tagByte(h: number, i: number): number {
  let w = h;
  for (let k = 0; k < i >> 2; k++) w = Math.imul(w, 0x9e3779b1) >>> 0;
  return (w >>> (8 * (i & 3))) & 0xff;
}

function writeTag(buf: Uint8Array, off: number, h: number): void {
  for (let i = 0; i < TLS_AEAD_TAG_LENGTH; i++) buf[off + i] = tagByte(h, i);
}

/** XORs buf[off, off+len) with the keystream of (key, seq) from keystream position `skip`. */
function keystreamXor(buf: Uint8Array, off: number, len: number, key: number, seq: number, skip: number): void {
  let s = (key ^ Math.imul(seq + 1, 0x9e3779b9)) | 0;
  let w = 0;
  const end = skip + len;
  for (let i = 0; i < end; i++) {
    if ((i & 3) === 0) {
      s = (s + 0x6d2b79f5) | 0;
      let t = Math.imul(s ^ (s >>> 15), 1 | s);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      w = (t ^ (t >>> 14)) >>> 0;
    }
    if (i >= skip) buf[off + i - skip]! ^= w >>> (8 * (i & 3));
  }
}

/**
 * Writes one protected record (header + ciphertext) carrying `plain[start, end)` of inner content
 * `type` at out[off]; returns bytes written (5 + plaintext + 17).
 */
export function sealRecord(type: number, plain: Uint8Array, start: number, end: number, key: number, seq: number, out: Uint8Array, off: number): number {
  const n = end - start;
  const len = encryptedRecordLength(n);
  out[off] = TlsContentType.APPLICATION_DATA;
  writeU16(out, off + 1, TlsVersion.TLS12);
  writeU16(out, off + 3, len);
  const body = off + TLS_RECORD_HEADER_LENGTH;
  out.set(plain.subarray(start, end), body);
  out[body + n] = type;
  writeTag(out, body + n + 1, digest(out, body, n + 1));
  keystreamXor(out, body, len, key, seq, 0);
  return TLS_RECORD_HEADER_LENGTH + len;
}

/** One protected record of `plain` as a new buffer. */
export function sealRecordBytes(type: number, plain: Uint8Array, key: number, seq: number): Uint8Array {
  const out = new Uint8Array(TLS_RECORD_HEADER_LENGTH + encryptedRecordLength(plain.length));
  sealRecord(type, plain, 0, plain.length, key, seq, out, 0);
  return out;
}

/**
 * Opens the ciphertext `buf[off, off+len)` of one record in place: returns the inner content type
 * and the plaintext length, or null when the tag does not match (bad_record_mac).
 */
export function openRecord(buf: Uint8Array, off: number, len: number, key: number, seq: number): { type: number; length: number } | null {
  if (len < 1 + TLS_AEAD_TAG_LENGTH) return null;
  keystreamXor(buf, off, len, key, seq, 0);
  const inner = len - TLS_AEAD_TAG_LENGTH;
  const h = digest(buf, off, inner);
  for (let i = 0; i < TLS_AEAD_TAG_LENGTH; i++) if (buf[off + inner + i] !== tagByte(h, i)) return null;
  // TLSInnerPlaintext: strip zero padding back to the content type byte (§5.4).
  let t = inner - 1;
  while (t >= 0 && buf[off + t] === 0) t--;
  if (t < 0) return null;
  return { type: buf[off + t]!, length: t };
}

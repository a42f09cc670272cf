// wire/tls — TLS 1.3 record layer and the handshake messages a TLS 1.3 handshake shows in the clear.
// Layer: wire (imports core, wire). Mirrors RFC 8446 §5.1 (TLSPlaintext), §5.2 (TLSCiphertext),
// §4.1.2 (ClientHello), §4.1.3 (ServerHello), §4.2 (extensions), RFC 6066 §3 (server_name),
// RFC 7301 §3.1 (ALPN), RFC 7685 (padding).
//
// TLSPlaintext / TLSCiphertext (RFC 8446 §5.1, §5.2):
//
// | offset | size | field |
// |--------|------|-------|
// | 0      | 1    | content type (20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data) |
// | 1      | 2    | legacy_record_version (0x0301 on the first ClientHello as OpenSSL sends it, else 0x0303) |
// | 3      | 2    | length (≤ 2^14 plaintext, ≤ 2^14 + 256 ciphertext) |
// | 5      | ...  | fragment |
//
// Handshake message (§4): type (1) | length (3) | body. ClientHello body (§4.1.2):
//
// | offset | size | field |
// |--------|------|-------|
// | 0      | 2    | legacy_version 0x0303 |
// | 2      | 32   | random |
// | 34     | 1+n  | legacy_session_id (OpenSSL: 32 random bytes, "middlebox compatibility mode", §D.4) |
// | ...    | 2+2k | cipher_suites |
// | ...    | 1+m  | legacy_compression_methods (one: null) |
// | ...    | 2+x  | extensions: type (2) | length (2) | data |
//
// ServerHello has one cipher suite and one compression byte instead of the lists. Records after the
// ServerHello are encrypted: content type 23, version 0x0303, length = plaintext + 1 (inner content
// type) + 16 (AEAD tag) (§5.2). Codecs are lossless: extensions are kept as raw {type, data} in order;
// the helpers below build and read the ones a handshake uses. Encrypted payloads are produced by
// `tls-model.ts` (sizes and the model's keystream), not here.
//
// Not modelled: TLS 1.2 and older handshakes, HelloRetryRequest, pre_shared_key / early_data,
// record fragmentation of a handshake message across records (OpenSSL does not fragment these sizes).
import { readU16, writeU16 } from './bytes.js';
import { requireBytes, WireError } from './error.js';

/** Record content types (RFC 8446 §5.1). */
export const TlsContentType = { CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23 } as const;
/** Handshake message types (RFC 8446 §4). */
export const TlsHandshakeType = {
  CLIENT_HELLO: 1, SERVER_HELLO: 2, NEW_SESSION_TICKET: 4, ENCRYPTED_EXTENSIONS: 8, CERTIFICATE: 11, CERTIFICATE_VERIFY: 15, FINISHED: 20,
} as const;
/** Protocol versions as they appear on the wire. */
export const TlsVersion = { TLS10: 0x0301, TLS11: 0x0302, TLS12: 0x0303, TLS13: 0x0304 } as const;
/** Extension code points (IANA TLS ExtensionType registry). */
export const TlsExtensionType = {
  SERVER_NAME: 0, SUPPORTED_GROUPS: 10, EC_POINT_FORMATS: 11, SIGNATURE_ALGORITHMS: 13, ALPN: 16, PADDING: 21, ENCRYPT_THEN_MAC: 22,
  EXTENDED_MASTER_SECRET: 23, SUPPORTED_VERSIONS: 43, PSK_KEY_EXCHANGE_MODES: 45, POST_HANDSHAKE_AUTH: 49, KEY_SHARE: 51,
} as const;
/** TLS 1.3 cipher suites (RFC 8446 §B.4). */
export const TlsCipherSuite = { AES_128_GCM_SHA256: 0x1301, AES_256_GCM_SHA384: 0x1302, CHACHA20_POLY1305_SHA256: 0x1303 } as const;
/** Named groups. */
export const TlsGroup = { X25519: 0x001d } as const;
/** Alert descriptions used here (RFC 8446 §6). */
export const TlsAlert = { CLOSE_NOTIFY: 0, UNEXPECTED_MESSAGE: 10, BAD_RECORD_MAC: 20, HANDSHAKE_FAILURE: 40, DECODE_ERROR: 50, PROTOCOL_VERSION: 70, NO_APPLICATION_PROTOCOL: 120 } as const;

export const TLS_RECORD_HEADER_LENGTH = 5;
export const TLS_HANDSHAKE_HEADER_LENGTH = 4;
/** Largest plaintext fragment of one record (2^14, §5.1). */
export const TLS_MAX_PLAINTEXT = 16384;
/** Largest ciphertext fragment (2^14 + 256, §5.2). */
export const TLS_MAX_CIPHERTEXT = 16384 + 256;
/** AEAD tag of AES-GCM and ChaCha20-Poly1305. */
export const TLS_AEAD_TAG_LENGTH = 16;

/** One record header. */
export interface TlsRecordHeader {
  type: number;
  version: number;
  length: number;
}

/** One extension, raw. */
export interface TlsExtension {
  type: number;
  data: Uint8Array;
}

/** A ClientHello (RFC 8446 §4.1.2), lossless. */
export interface TlsClientHello {
  legacyVersion: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuites: number[];
  compressionMethods: number[];
  extensions: TlsExtension[];
}

/** A ServerHello (RFC 8446 §4.1.3), lossless. */
export interface TlsServerHello {
  legacyVersion: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuite: number;
  compressionMethod: number;
  extensions: TlsExtension[];
}

// --- record layer ---

/** Decodes a record header; `bytesRead` is 5. Rejects unknown content types (tshark would not see TLS). */
export function decodeTlsRecordHeader(buf: Uint8Array, off: number): { hdr: TlsRecordHeader; bytesRead: number } {
  requireBytes('tls', buf, off, TLS_RECORD_HEADER_LENGTH);
  const type = buf[off]!;
  if (type < 20 || type > 23) throw new WireError('tls', off, `unknown record content type ${type}`);
  const version = readU16(buf, off + 1);
  if (version >> 8 !== 3) throw new WireError('tls', off, `bad record version 0x${version.toString(16)}`);
  const length = readU16(buf, off + 3);
  if (length > TLS_MAX_CIPHERTEXT) throw new WireError('tls', off, `record length ${length} exceeds 2^14 + 256`);
  return { hdr: { type, version, length }, bytesRead: TLS_RECORD_HEADER_LENGTH };
}

/** Writes a record header at buf[off]; returns 5. */
export function encodeTlsRecordHeader(hdr: TlsRecordHeader, buf: Uint8Array, off: number): number {
  requireBytes('tls', buf, off, TLS_RECORD_HEADER_LENGTH);
  buf[off] = hdr.type;
  writeU16(buf, off + 1, hdr.version);
  writeU16(buf, off + 3, hdr.length);
  return TLS_RECORD_HEADER_LENGTH;
}

/** Length of the TLSCiphertext fragment carrying `plaintext` bytes of one content type (§5.2). */
export function encryptedRecordLength(plaintext: number): number {
  return plaintext + 1 + TLS_AEAD_TAG_LENGTH;
}

/** Writes a handshake message header (type, 24-bit length); returns 4. */
export function encodeHandshakeHeader(type: number, length: number, buf: Uint8Array, off: number): number {
  requireBytes('tls', buf, off, TLS_HANDSHAKE_HEADER_LENGTH);
  buf[off] = type;
  writeU24(buf, off + 1, length);
  return TLS_HANDSHAKE_HEADER_LENGTH;
}

/** Reads a handshake message header. */
export function decodeHandshakeHeader(buf: Uint8Array, off: number): { type: number; length: number } {
  requireBytes('tls', buf, off, TLS_HANDSHAKE_HEADER_LENGTH);
  return { type: buf[off]!, length: readU24(buf, off + 1) };
}

// --- hellos ---

function extensionsLength(exts: readonly TlsExtension[]): number {
  let n = 0;
  for (const e of exts) n += 4 + e.data.length;
  return n;
}

/** Bytes of a ClientHello handshake message, header included. */
export function clientHelloLength(h: TlsClientHello): number {
  return 4 + 2 + 32 + 1 + h.sessionId.length + 2 + 2 * h.cipherSuites.length + 1 + h.compressionMethods.length + 2 + extensionsLength(h.extensions);
}

/** Bytes of a ServerHello handshake message, header included. */
export function serverHelloLength(h: TlsServerHello): number {
  return 4 + 2 + 32 + 1 + h.sessionId.length + 2 + 1 + 2 + extensionsLength(h.extensions);
}

function writeExtensions(exts: readonly TlsExtension[], buf: Uint8Array, off: number): number {
  writeU16(buf, off, extensionsLength(exts));
  let p = off + 2;
  for (const e of exts) {
    writeU16(buf, p, e.type);
    writeU16(buf, p + 2, e.data.length);
    buf.set(e.data, p + 4);
    p += 4 + e.data.length;
  }
  return p - off;
}

function readExtensions(buf: Uint8Array, off: number, end: number): { exts: TlsExtension[]; next: number } {
  requireBytes('tls', buf, off, 2);
  const total = readU16(buf, off);
  const stop = off + 2 + total;
  if (stop > end) throw new WireError('tls', off, `extensions length ${total} runs past the message`);
  const exts: TlsExtension[] = [];
  let p = off + 2;
  while (p < stop) {
    if (p + 4 > stop) throw new WireError('tls', p, 'truncated extension header');
    const type = readU16(buf, p);
    const len = readU16(buf, p + 2);
    if (p + 4 + len > stop) throw new WireError('tls', p, `extension ${type} length ${len} runs past the extensions`);
    exts.push({ type, data: buf.slice(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  return { exts, next: stop };
}

function writeHelloStart(type: number, len: number, version: number, random: Uint8Array, sid: Uint8Array, buf: Uint8Array, off: number): number {
  if (random.length !== 32) throw new WireError('tls', off, `random must be 32 bytes, got ${random.length}`);
  if (sid.length > 32) throw new WireError('tls', off, `session id longer than 32 bytes`);
  requireBytes('tls', buf, off, len);
  encodeHandshakeHeader(type, len - 4, buf, off);
  writeU16(buf, off + 4, version);
  buf.set(random, off + 6);
  buf[off + 38] = sid.length;
  buf.set(sid, off + 39);
  return off + 39 + sid.length;
}

/** Writes a ClientHello handshake message at buf[off]; returns bytes written. */
export function encodeClientHello(h: TlsClientHello, buf: Uint8Array, off: number): number {
  const len = clientHelloLength(h);
  let p = writeHelloStart(TlsHandshakeType.CLIENT_HELLO, len, h.legacyVersion, h.random, h.sessionId, buf, off);
  writeU16(buf, p, 2 * h.cipherSuites.length);
  p += 2;
  for (const s of h.cipherSuites) {
    writeU16(buf, p, s);
    p += 2;
  }
  buf[p++] = h.compressionMethods.length;
  for (const c of h.compressionMethods) buf[p++] = c;
  p += writeExtensions(h.extensions, buf, p);
  return p - off;
}

/** Writes a ServerHello handshake message at buf[off]; returns bytes written. */
export function encodeServerHello(h: TlsServerHello, buf: Uint8Array, off: number): number {
  const len = serverHelloLength(h);
  let p = writeHelloStart(TlsHandshakeType.SERVER_HELLO, len, h.legacyVersion, h.random, h.sessionId, buf, off);
  writeU16(buf, p, h.cipherSuite);
  buf[p + 2] = h.compressionMethod;
  p += 3;
  p += writeExtensions(h.extensions, buf, p);
  return p - off;
}

function readHelloStart(buf: Uint8Array, off: number, want: number): { end: number; version: number; random: Uint8Array; sessionId: Uint8Array; p: number } {
  const { type, length } = decodeHandshakeHeader(buf, off);
  if (type !== want) throw new WireError('tls', off, `handshake type ${type}, expected ${want}`);
  const end = off + 4 + length;
  requireBytes('tls', buf, off, 4 + length);
  if (length < 2 + 32 + 1) throw new WireError('tls', off, `hello of ${length} bytes is too short`);
  const sidLen = buf[off + 38]!;
  if (sidLen > 32 || off + 39 + sidLen > end) throw new WireError('tls', off + 38, `bad session id length ${sidLen}`);
  return { end, version: readU16(buf, off + 4), random: buf.slice(off + 6, off + 38), sessionId: buf.slice(off + 39, off + 39 + sidLen), p: off + 39 + sidLen };
}

/** Decodes a ClientHello handshake message (header included). */
export function decodeClientHello(buf: Uint8Array, off: number): { hello: TlsClientHello; bytesRead: number } {
  const s = readHelloStart(buf, off, TlsHandshakeType.CLIENT_HELLO);
  let p = s.p;
  if (p + 2 > s.end) throw new WireError('tls', p, 'truncated cipher suites');
  const csLen = readU16(buf, p);
  if (csLen % 2 !== 0 || p + 2 + csLen > s.end) throw new WireError('tls', p, `bad cipher suites length ${csLen}`);
  const cipherSuites: number[] = [];
  for (let i = 0; i < csLen; i += 2) cipherSuites.push(readU16(buf, p + 2 + i));
  p += 2 + csLen;
  if (p + 1 > s.end) throw new WireError('tls', p, 'truncated compression methods');
  const cmLen = buf[p]!;
  if (p + 1 + cmLen > s.end) throw new WireError('tls', p, `bad compression methods length ${cmLen}`);
  const compressionMethods = Array.from(buf.subarray(p + 1, p + 1 + cmLen));
  p += 1 + cmLen;
  const { exts, next } = readExtensions(buf, p, s.end);
  if (next !== s.end) throw new WireError('tls', next, `${s.end - next} trailing bytes after the extensions`);
  return { hello: { legacyVersion: s.version, random: s.random, sessionId: s.sessionId, cipherSuites, compressionMethods, extensions: exts }, bytesRead: s.end - off };
}

/** Decodes a ServerHello handshake message (header included). */
export function decodeServerHello(buf: Uint8Array, off: number): { hello: TlsServerHello; bytesRead: number } {
  const s = readHelloStart(buf, off, TlsHandshakeType.SERVER_HELLO);
  if (s.p + 3 > s.end) throw new WireError('tls', s.p, 'truncated cipher suite');
  const cipherSuite = readU16(buf, s.p);
  const compressionMethod = buf[s.p + 2]!;
  const { exts, next } = readExtensions(buf, s.p + 3, s.end);
  if (next !== s.end) throw new WireError('tls', next, `${s.end - next} trailing bytes after the extensions`);
  return { hello: { legacyVersion: s.version, random: s.random, sessionId: s.sessionId, cipherSuite, compressionMethod, extensions: exts }, bytesRead: s.end - off };
}

// --- encrypted-extensions (the one plaintext the model builds field by field) ---

/** Bytes of an EncryptedExtensions message (header included). */
export function encryptedExtensionsLength(exts: readonly TlsExtension[]): number {
  return 4 + 2 + extensionsLength(exts);
}

/** Writes EncryptedExtensions (§4.3.1) at buf[off]; returns bytes written. */
export function encodeEncryptedExtensions(exts: readonly TlsExtension[], buf: Uint8Array, off: number): number {
  const len = encryptedExtensionsLength(exts);
  requireBytes('tls', buf, off, len);
  encodeHandshakeHeader(TlsHandshakeType.ENCRYPTED_EXTENSIONS, len - 4, buf, off);
  writeExtensions(exts, buf, off + 4);
  return len;
}

/** Decodes EncryptedExtensions (header included). */
export function decodeEncryptedExtensions(buf: Uint8Array, off: number): { extensions: TlsExtension[]; bytesRead: number } {
  const { type, length } = decodeHandshakeHeader(buf, off);
  if (type !== TlsHandshakeType.ENCRYPTED_EXTENSIONS) throw new WireError('tls', off, `handshake type ${type}, expected 8`);
  requireBytes('tls', buf, off, 4 + length);
  const { exts, next } = readExtensions(buf, off + 4, off + 4 + length);
  if (next !== off + 4 + length) throw new WireError('tls', next, 'trailing bytes after the extensions');
  return { extensions: exts, bytesRead: 4 + length };
}

// --- 24-bit integers ---

function writeU24(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 16;
  buf[off + 1] = v >>> 8;
  buf[off + 2] = v;
}

function readU24(buf: Uint8Array, off: number): number {
  return (buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!;
}

export { readU24 as readTlsU24, writeU24 as writeTlsU24 };

// wire/tls-extensions — builders and readers for the TLS extensions a TLS 1.3 handshake carries, and
// the ClientHello curl 7.88 / OpenSSL 3.0 sends (measured on this machine, external-flows-facts §d).
// Layer: wire (imports wire). RFC 6066 §3 (server_name), RFC 7301 §3.1 (ALPN), RFC 8446 §4.2.1
// (supported_versions), §4.2.8 (key_share), §4.2.9 (psk_key_exchange_modes), RFC 7685 (padding).
//
// OpenSSL's ClientHello, extensions in its order (ssl/statem/extensions.c ext_defs):
//   server_name, ec_point_formats (3), supported_groups (10, x25519 first), ALPN, encrypt_then_mac,
//   extended_master_secret, post_handshake_auth, signature_algorithms (20), supported_versions
//   (0x0304..0x0301), psk_key_exchange_modes (psk_dhe_ke), key_share (x25519, 32 B), padding.
// Padding (ssl/statem/extensions_clnt.c tls_construct_ctos_padding, the "F5 workaround"): when the
// handshake message so far (4-byte header included) is 256..511 bytes, a padding extension brings it
// to 512; its data is 512 − len − 4 bytes, at least 1.
import { readU16, writeU16 } from './bytes.js';
import { WireError } from './error.js';
import { TlsExtensionType, TlsGroup, TlsVersion, clientHelloLength, type TlsClientHello, type TlsExtension } from './tls.js';

/** The 31 cipher suites curl 7.88.1 / OpenSSL 3.0 offers, in order (TLS 1.3 first; SCSV last). */
export const OPENSSL_CIPHER_SUITES: readonly number[] = [
  0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023,
  0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff,
];
/** supported_groups: x25519, secp256r1, x448, secp521r1, secp384r1, ffdhe2048..8192. */
export const OPENSSL_GROUPS: readonly number[] = [0x001d, 0x0017, 0x001e, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104];
/** signature_algorithms, 20 entries. */
export const OPENSSL_SIGNATURE_ALGORITHMS: readonly number[] = [
  0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301,
  0x0302, 0x0402, 0x0502, 0x0602,
];
/** signature scheme rsa_pss_rsae_sha256 / ecdsa_secp256r1_sha256. */
export const TlsSignatureScheme = { RSA_PSS_RSAE_SHA256: 0x0804, ECDSA_SECP256R1_SHA256: 0x0403 } as const;

const ascii = new TextEncoder();

function u16List(values: readonly number[], lenBytes: 1 | 2): Uint8Array {
  const out = new Uint8Array(lenBytes + 2 * values.length);
  if (lenBytes === 1) out[0] = 2 * values.length;
  else writeU16(out, 0, 2 * values.length);
  values.forEach((v, i) => writeU16(out, lenBytes + 2 * i, v));
  return out;
}

/** server_name with one host_name entry (RFC 6066 §3). */
export function sniExtension(host: string): TlsExtension {
  const name = ascii.encode(host);
  const d = new Uint8Array(5 + name.length);
  writeU16(d, 0, 3 + name.length);
  d[2] = 0; // host_name
  writeU16(d, 3, name.length);
  d.set(name, 5);
  return { type: TlsExtensionType.SERVER_NAME, data: d };
}

/** ALPN protocol_name_list (RFC 7301 §3.1). */
export function alpnExtension(protocols: readonly string[]): TlsExtension {
  const names = protocols.map((p) => ascii.encode(p));
  const total = names.reduce((n, b) => n + 1 + b.length, 0);
  const d = new Uint8Array(2 + total);
  writeU16(d, 0, total);
  let p = 2;
  for (const b of names) {
    d[p] = b.length;
    d.set(b, p + 1);
    p += 1 + b.length;
  }
  return { type: TlsExtensionType.ALPN, data: d };
}

/** key_share with one x25519 entry; the client form has a 2-byte list length (§4.2.8). */
export function keyShareExtension(key: Uint8Array, role: 'client' | 'server'): TlsExtension {
  const head = role === 'client' ? 2 : 0;
  const d = new Uint8Array(head + 4 + key.length);
  if (role === 'client') writeU16(d, 0, 4 + key.length);
  writeU16(d, head, TlsGroup.X25519);
  writeU16(d, head + 2, key.length);
  d.set(key, head + 4);
  return { type: TlsExtensionType.KEY_SHARE, data: d };
}

/** supported_versions: the client's list (1-byte length) or the server's selected version (§4.2.1). */
export function supportedVersionsExtension(versions: readonly number[], role: 'client' | 'server'): TlsExtension {
  if (role === 'server') return { type: TlsExtensionType.SUPPORTED_VERSIONS, data: u16List(versions, 1).subarray(1, 3).slice() };
  return { type: TlsExtensionType.SUPPORTED_VERSIONS, data: u16List(versions, 1) };
}

/** The extension of `type`, or undefined. */
export function findExtension(exts: readonly TlsExtension[], type: number): TlsExtension | undefined {
  return exts.find((e) => e.type === type);
}

/** The host_name of a server_name extension, or null when there is none. */
export function readSni(exts: readonly TlsExtension[]): string | null {
  const e = findExtension(exts, TlsExtensionType.SERVER_NAME);
  if (!e) return null;
  const d = e.data;
  if (d.length < 5 || readU16(d, 0) !== d.length - 2) throw new WireError('tls', 0, 'bad server_name list length');
  if (d[2] !== 0) return null;
  const n = readU16(d, 3);
  if (5 + n > d.length) throw new WireError('tls', 3, `server_name length ${n} runs past the extension`);
  return String.fromCharCode(...d.subarray(5, 5 + n));
}

/** The ALPN protocol names of an extension list (empty when absent). */
export function readAlpn(exts: readonly TlsExtension[]): string[] {
  const e = findExtension(exts, TlsExtensionType.ALPN);
  if (!e) return [];
  const d = e.data;
  if (d.length < 2 || readU16(d, 0) !== d.length - 2) throw new WireError('tls', 0, 'bad ALPN list length');
  const out: string[] = [];
  for (let p = 2; p < d.length; ) {
    const n = d[p]!;
    if (n === 0 || p + 1 + n > d.length) throw new WireError('tls', p, `bad ALPN name length ${n}`);
    out.push(String.fromCharCode(...d.subarray(p + 1, p + 1 + n)));
    p += 1 + n;
  }
  return out;
}

/** The version a ServerHello's supported_versions selects (0x0304 for TLS 1.3), or null. */
export function readSelectedVersion(exts: readonly TlsExtension[]): number | null {
  const e = findExtension(exts, TlsExtensionType.SUPPORTED_VERSIONS);
  return e && e.data.length === 2 ? readU16(e.data, 0) : null;
}

/** The x25519 key of a key_share extension (client or server form), or null. */
export function readKeyShare(exts: readonly TlsExtension[], role: 'client' | 'server'): Uint8Array | null {
  const e = findExtension(exts, TlsExtensionType.KEY_SHARE);
  if (!e) return null;
  const head = role === 'client' ? 2 : 0;
  if (e.data.length < head + 4) throw new WireError('tls', 0, 'truncated key_share');
  const n = readU16(e.data, head + 2);
  if (head + 4 + n !== e.data.length) throw new WireError('tls', 0, `key_share key length ${n} does not fill the extension`);
  return e.data.slice(head + 4, head + 4 + n);
}

/** What varies between two OpenSSL ClientHellos. */
export interface OpenSslHelloParams {
  random: Uint8Array;
  sessionId: Uint8Array;
  /** x25519 public key, 32 bytes. */
  keyShare: Uint8Array;
  /** SNI host name; null sends no server_name (curl to an IP address). */
  serverName: string | null;
  /** ALPN offer, e.g. ["http/1.1"] (curl --http1.1) or ["h2", "http/1.1"]; empty sends none. */
  alpn: readonly string[];
}

/** The ClientHello curl 7.88.1 with OpenSSL 3.0 sends, padding included (see the file header). */
export function openSslClientHello(p: OpenSslHelloParams): TlsClientHello {
  const exts: TlsExtension[] = [];
  if (p.serverName !== null) exts.push(sniExtension(p.serverName));
  exts.push({ type: TlsExtensionType.EC_POINT_FORMATS, data: Uint8Array.of(3, 0, 1, 2) });
  exts.push({ type: TlsExtensionType.SUPPORTED_GROUPS, data: u16List(OPENSSL_GROUPS, 2) });
  if (p.alpn.length > 0) exts.push(alpnExtension(p.alpn));
  exts.push({ type: TlsExtensionType.ENCRYPT_THEN_MAC, data: new Uint8Array(0) });
  exts.push({ type: TlsExtensionType.EXTENDED_MASTER_SECRET, data: new Uint8Array(0) });
  exts.push({ type: TlsExtensionType.POST_HANDSHAKE_AUTH, data: new Uint8Array(0) });
  exts.push({ type: TlsExtensionType.SIGNATURE_ALGORITHMS, data: u16List(OPENSSL_SIGNATURE_ALGORITHMS, 2) });
  exts.push(supportedVersionsExtension([TlsVersion.TLS13, TlsVersion.TLS12, TlsVersion.TLS11, TlsVersion.TLS10], 'client'));
  exts.push({ type: TlsExtensionType.PSK_KEY_EXCHANGE_MODES, data: Uint8Array.of(1, 1) });
  exts.push(keyShareExtension(p.keyShare, 'client'));
  const hello: TlsClientHello = {
    legacyVersion: TlsVersion.TLS12, random: p.random, sessionId: p.sessionId, cipherSuites: [...OPENSSL_CIPHER_SUITES], compressionMethods: [0], extensions: exts,
  };
  const len = clientHelloLength(hello);
  if (len > 0xff && len < 0x200) {
    const pad = 0x200 - len > 4 ? 0x200 - len - 4 : 1;
    exts.push({ type: TlsExtensionType.PADDING, data: new Uint8Array(pad) });
  }
  return hello;
}

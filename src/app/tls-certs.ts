// app/tls-certs — certificate chains as the handshake needs them (key type and DER sizes, not keys),
// and certificate selection by SNI as ingress-nginx does it. Layer: app (imports wire).
//
// Sizes measured with OpenSSL 3.0 on this machine (external-flows-facts §d): an RSA-2048 leaf of 899 B
// signed by an RSA-2048 intermediate of 904 B; a P-256 leaf of 501 B with a 506 B intermediate;
// ingress-nginx's self-signed fake certificate (RSA 2048, O=Acme Co, CN "Kubernetes Ingress Controller
// Fake Certificate", SAN ingress.local; internal/net/ssl/ssl.go) of 953 B. Public-CA leaves with SCTs
// are larger; give `derSizes` to model one.
import { TlsSignatureScheme } from '../wire/tls-extensions.js';

/** The key type of a leaf certificate (decides the CertificateVerify signature). */
export type TlsKeyType = 'rsa2048' | 'p256';

/** A certificate chain as sent in the Certificate message: leaf first. */
export interface TlsCertificateChain {
  /** Leaf key: RSA 2048 signs with rsa_pss_rsae_sha256 (256 B), P-256 with ecdsa_secp256r1_sha256 (DER 70..72 B). */
  key: TlsKeyType;
  /** DER size of each certificate sent, leaf first. */
  derSizes: readonly number[];
  /** Subject common name (documentation, inspect output). */
  commonName: string;
}

const LEAF_DER: Record<TlsKeyType, number> = { rsa2048: 899, p256: 501 };
const INTERMEDIATE_DER: Record<TlsKeyType, number> = { rsa2048: 904, p256: 506 };

/** The chain of a `key` leaf with `length` certificates (leaf + length−1 intermediates of the same key type). */
export function certificateChain(key: TlsKeyType, length = 2, commonName = 'podwire'): TlsCertificateChain {
  if (!Number.isInteger(length) || length < 1 || length > 8) throw new Error(`chain length ${length} not in 1..8`);
  const derSizes = [LEAF_DER[key]];
  for (let i = 1; i < length; i++) derSizes.push(INTERMEDIATE_DER[key]);
  return { key, derSizes, commonName };
}

/** ingress-nginx's default "fake" certificate: self-signed RSA 2048, one certificate of 953 B. */
export const FAKE_CERTIFICATE: TlsCertificateChain = Object.freeze({
  key: 'rsa2048',
  derSizes: Object.freeze([953]),
  commonName: 'Kubernetes Ingress Controller Fake Certificate',
});

/**
 * Parses a chain spec as written in a scenario: `rsa2048` or `p256`, optionally `:N` for the number
 * of certificates sent (default 2: leaf + intermediate). Returns null when the text is not one.
 */
export function parseChainSpec(spec: string): TlsCertificateChain | null {
  const m = /^(rsa2048|p256)(?::([1-8]))?$/.exec(spec.trim().toLowerCase());
  if (!m) return null;
  return certificateChain(m[1] as TlsKeyType, m[2] === undefined ? 2 : Number(m[2]));
}

/** The CertificateVerify signature scheme of a key type. */
export function signatureScheme(key: TlsKeyType): number {
  return key === 'rsa2048' ? TlsSignatureScheme.RSA_PSS_RSAE_SHA256 : TlsSignatureScheme.ECDSA_SECP256R1_SHA256;
}

/**
 * Signature bytes: RSA-2048 → 256; ECDSA P-256 → DER SEQUENCE of r and s (2 + 2×(2 + 32)), each
 * integer one byte longer when its top bit is set (probability ½ each) — 70, 71 or 72 bytes.
 */
export function signatureLength(key: TlsKeyType, draw: () => number): number {
  if (key === 'rsa2048') return 256;
  return 70 + (draw() < 0.5 ? 1 : 0) + (draw() < 0.5 ? 1 : 0);
}

/** The host a TLS server name selects: lowercase, trailing dot stripped (ingress-nginx certificate.lua). */
export function normalizeServerName(sni: string): string {
  const s = sni.toLowerCase();
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/**
 * Certificate selection by SNI as ingress-nginx's `ssl_certificate_by_lua` does it
 * (rootfs/etc/nginx/lua/certificate.lua): normalise the name, look up the exact host, then `*.` +
 * the parent (the wildcard covers exactly one label), else the default (fake) certificate. No SNI
 * (a client connecting to an IP address) gets the default.
 */
export function selectCertificateBySni<T>(sni: string | null, lookup: (host: string) => T | undefined, fallback: T): T {
  if (sni === null || sni === '') return fallback;
  const host = normalizeServerName(sni);
  const exact = lookup(host);
  if (exact !== undefined) return exact;
  const dot = host.indexOf('.');
  if (dot > 0) {
    const wild = lookup(`*.${host.slice(dot + 1)}`);
    if (wild !== undefined) return wild;
  }
  return fallback;
}

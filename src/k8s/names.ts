// k8s/names — names the way Kubernetes and the CNI plugins make them. Layer: k8s.
import type { Rng } from '../core/rng.js';

/** A lower-case RFC 1123 subdomain (apimachinery's IsDNS1123Subdomain pattern; its 253-character limit is the caller's). */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The alphabet of k8s.io/apimachinery/pkg/util/rand (no vowels, no confusable digits). */
const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: maps each character of `s` onto the safe alphabet. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += ALNUM[s.charCodeAt(i) % ALNUM.length];
  return out;
}

/** FNV-1a 32-bit hash of a string's UTF-16 code units (as bytes for ASCII). */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** JSON with object keys sorted, so equal objects hash alike. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/**
 * pod-template-hash of a Deployment's template: FNV-32a, then SafeEncodeString of its decimal form,
 * as controller.ComputeHash does. Kubernetes hashes the Go object dump of the template; podwire hashes
 * its canonical JSON, so the shape matches (e.g. "7d9c5b8f6c") but not the exact value.
 */
export function podTemplateHash(template: unknown): string {
  return safeEncode(String(fnv32a(canonicalJson(template))));
}

/** A generateName suffix of 5 safe characters (rand.String(5)). */
export function randomSuffix(rng: Rng, n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[rng.int(ALNUM.length)];
  return s;
}

/**
 * `n` names `<prefix>-<5 random characters>` as the API server's generateName makes them; a name
 * already taken is drawn again (the API server answers AlreadyExists and the controller retries),
 * so thousands of replicas never collide. Without a collision the draws are those of randomSuffix.
 */
export function generateNames(prefix: string, n: number, rng: Rng): string[] {
  const names = new Set<string>();
  while (names.size < n) names.add(`${prefix}-${randomSuffix(rng)}`);
  return [...names];
}

/** The CNI bridge plugin's host-side veth name: "veth" + 8 hex digits (ip.RandomVethName). */
export function randomVethName(rng: Rng): string {
  return `veth${rng.uint32().toString(16).padStart(8, '0')}`;
}

// k8s/network-policy — NetworkPolicy objects (networking.k8s.io/v1) as the API server admits them, the
// label selectors they use (metav1.LabelSelector: matchLabels and matchExpressions ANDed) and the
// namespaces' labels namespaceSelector reads (every namespace carries `kubernetes.io/metadata.name`, the
// NamespaceDefaultLabelName the API server sets). Who enforces them is the CNI's business: plain flannel
// does not (a warning says so), kube-router's policy controller does (kube-router-netpol.ts).
// Layer: k8s (imports core, wire, k8s).
// Not modelled: validation of label keys/values and of namespace names, IPv6 ipBlocks (refused).
import { z } from 'zod';
import type { UserError } from '../core/user-error.js';
import { parseCidr } from '../wire/ipv4-addr.js';
import type { ManifestInput } from './cluster.js';
import { unknownFieldWarnings } from './manifests.js';

const Requirement = z.looseObject({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).default([]) });
const Selector = z.looseObject({ matchLabels: z.record(z.string(), z.string()).default({}), matchExpressions: z.array(Requirement).default([]) });
/** metav1.LabelSelector. */
export type LabelSelector = z.infer<typeof Selector>;

const Cidr = z.string().refine((s) => s.includes('/') && parseCidr(s) !== null, 'expected an IPv4 CIDR like 10.0.0.0/8 (IPv6 is not modelled)');
const Peer = z
  .looseObject({ podSelector: Selector.optional(), namespaceSelector: Selector.optional(), ipBlock: z.looseObject({ cidr: Cidr, except: z.array(Cidr).default([]) }).optional() })
  .refine((p) => p.ipBlock === undefined || (p.podSelector === undefined && p.namespaceSelector === undefined), 'ipBlock cannot be combined with podSelector or namespaceSelector')
  .refine((p) => p.ipBlock !== undefined || p.podSelector !== undefined || p.namespaceSelector !== undefined, 'a peer needs podSelector, namespaceSelector or ipBlock');
const Port = z
  .looseObject({
    protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
    port: z.union([z.number().int().min(1).max(65535), z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a port number or an IANA_SVC_NAME').max(15)]).optional(),
    endPort: z.number().int().min(1).max(65535).optional(),
  })
  .refine((p) => p.endPort === undefined || (typeof p.port === 'number' && p.endPort >= p.port), 'endPort needs a numeric port not above it');
const IngressRule = z.looseObject({ from: z.array(Peer).default([]), ports: z.array(Port).default([]) });
const EgressRule = z.looseObject({ to: z.array(Peer).default([]), ports: z.array(Port).default([]) });
const Spec = z.looseObject({
  podSelector: Selector,
  policyTypes: z.array(z.enum(['Ingress', 'Egress'])).optional(),
  ingress: z.array(IngressRule).optional(),
  egress: z.array(EgressRule).optional(),
});

/** A NetworkPolicyPeer. */
export type PolicyPeer = z.infer<typeof Peer>;
/** A NetworkPolicyPort (protocol defaulted to TCP as the API server does). */
export type PolicyPort = z.infer<typeof Port>;

/** One admitted NetworkPolicy. */
export interface NetworkPolicy {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  /** policyTypes as the API server defaults them: Ingress always, Egress when egress rules are given. */
  policyTypes: { ingress: boolean; egress: boolean };
  /** null when spec.ingress is absent. */
  ingress: { from: PolicyPeer[]; ports: PolicyPort[] }[] | null;
  egress: { to: PolicyPeer[]; ports: PolicyPort[] }[] | null;
}

/** The NetworkPolicy manifests; a malformed one is an error at its field and is left out; an unknown field is a warning. */
export function networkPolicies(manifests: readonly ManifestInput[], errors: UserError[], warnings: UserError[] = []): { policies: NetworkPolicy[]; first: ManifestInput | null } {
  const policies: NetworkPolicy[] = [];
  let first: ManifestInput | null = null;
  for (const m of manifests) {
    if (m.kind !== 'NetworkPolicy') continue;
    first ??= m;
    unknownFieldWarnings('NetworkPolicy', m.value, (p, msg) => warnings.push(m.error(p, msg)));
    const md = (m.value['metadata'] ?? {}) as { name?: unknown; namespace?: unknown };
    const r = Spec.safeParse(m.value['spec'] ?? {});
    if (!r.success) {
      const issue = r.error.issues[0]!;
      errors.push(m.error(['spec', ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')], issue.message));
      continue;
    }
    const s = r.data;
    // pkg/apis/networking/v1 defaults: SetDefaults_NetworkPolicySpec.
    const types = s.policyTypes ?? (s.egress !== undefined && s.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress']);
    policies.push({
      namespace: typeof md.namespace === 'string' ? md.namespace : 'default',
      name: String(md.name ?? ''),
      podSelector: s.podSelector,
      policyTypes: { ingress: types.includes('Ingress'), egress: types.includes('Egress') },
      ingress: s.ingress ?? null,
      egress: s.egress ?? null,
    });
  }
  return { policies, first };
}

/** labels.Selector.Matches for a metav1.LabelSelector (an empty selector selects everything). */
export function labelSelectorMatches(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) if (labels[k] !== v) return false;
  for (const r of sel.matchExpressions) {
    const v = labels[r.key];
    switch (r.operator) {
      case 'In':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'NotIn':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case 'Exists':
        if (v === undefined) return false;
        break;
      case 'DoesNotExist':
        if (v !== undefined) return false;
        break;
      default: {
        const never: never = r.operator;
        throw new Error(`operator ${String(never)}`);
      }
    }
  }
  return true;
}

/**
 * The namespaces and their labels: the Namespace manifests' (with `kubernetes.io/metadata.name`), and
 * every other namespace a pod or policy names, or kubeadm creates, with that label alone.
 */
export function namespaceLabels(manifests: readonly ManifestInput[], names: Iterable<string>): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const m of manifests) {
    if (m.kind !== 'Namespace') continue;
    const md = (m.value['metadata'] ?? {}) as { name?: unknown; labels?: unknown };
    if (typeof md.name !== 'string') continue;
    const labels = md.labels && typeof md.labels === 'object' ? (md.labels as Record<string, string>) : {};
    out.set(md.name, { ...labels, 'kubernetes.io/metadata.name': md.name });
  }
  for (const n of ['default', 'kube-system', ...names]) if (!out.has(n)) out.set(n, { 'kubernetes.io/metadata.name': n });
  return out;
}

/** The one-line warning a cluster whose CNI does not enforce NetworkPolicy gives at the first one. */
export function unenforcedWarning(first: ManifestInput, count: number, cni: string): UserError {
  return first.error(
    ['kind'],
    `NetworkPolicy has no effect: ${cni} does not enforce NetworkPolicy${count > 1 ? ` (${count} objects)` : ''}; set spec.cluster.networkPolicy: kube-router to run kube-router's policy controller beside it`,
  );
}

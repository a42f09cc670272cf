// k8s/ingress — the Ingress API and its controller, started by the control plane: admission of the
// Ingress, IngressClass and TLS Secret manifests into the API store, a warning for every Ingress no
// controller will serve, and the controller itself when the scenario runs one. Layer: k8s.
import type { UserError } from '../../core/user-error.js';
import { objectMeta } from '../api/objects.js';
import type { ApiStore } from '../api/store.js';
import type { ManifestInput } from '../cluster.js';
import { admitIngressApi } from './api.js';
import { NginxIngressController, TLS_CHAIN_ANNOTATION, type IngressClassObject, type IngressController, type IngressObject, type TlsSecretObject } from './controller.js';
import { parseChainSpec } from '../../app/tls-certs.js';

export type { IngressController, RoutingRow, RoutingTableSink } from './controller.js';

/**
 * Stores the Ingress API objects and starts the ingress-nginx controller when `run` (the scenario's
 * spec.cluster.ingressController); returns it, or null.
 */
export function startIngress(api: ApiStore, manifests: readonly ManifestInput[], errors: UserError[], warnings: UserError[], record: (what: string) => void, run: boolean): IngressController | null {
  const admitted = admitIngressApi(manifests, errors, warnings);
  if (admitted.ingresses.length === 0 && !run) return null;
  for (const c of admitted.classes) api.create<IngressClassObject>({ kind: 'IngressClass', metadata: objectMeta('', c.name), spec: c });
  for (const [key, s] of admitted.tlsSecrets) {
    const [ns, name] = key.split('/') as [string, string];
    const chain = s.annotations[TLS_CHAIN_ANNOTATION] ?? 'rsa2048';
    const m = manifests.find((x) => x.kind === 'Secret' && (x.value['metadata'] as { name?: string } | undefined)?.name === name);
    if (parseChainSpec(chain) === null) {
      if (m) errors.push(m.error(['metadata', 'annotations', TLS_CHAIN_ANNOTATION], `"${chain}" is not a chain: rsa2048 or p256, optionally :N certificates (e.g. rsa2048:2)`));
      continue;
    }
    api.create<TlsSecretObject>({ kind: 'Secret', metadata: objectMeta(ns, name), chain });
  }
  const ingManifests = manifests.filter((m) => m.kind === 'Ingress');
  admitted.ingresses.forEach((ing) => {
    api.create<IngressObject>({ kind: 'Ingress', metadata: objectMeta(ing.namespace, ing.name), spec: ing });
    const m = ingManifests.find((x) => (x.value['metadata'] as { name?: string } | undefined)?.name === ing.name);
    const served = run && admitted.classes.some((c) => c.name === ing.className && c.controller === 'k8s.io/ingress-nginx');
    if (served || !m) return;
    const why = !run ? 'no ingress controller runs in this scenario (add spec.cluster.ingressController)' : ing.className === null ? 'it names no class and no IngressClass is the default' : `no controller serves class "${ing.className}"`;
    warnings.push(m.error(['metadata', 'name'], `Ingress ${ing.namespace}/${ing.name} is stored but not served: ${why}`));
  });
  if (!run) return null;
  const c = new NginxIngressController(api, record);
  c.start();
  return c;
}

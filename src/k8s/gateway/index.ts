// k8s/gateway — the Gateway API and NGINX Gateway Fabric, started by the control plane: admission of
// GatewayClass, Gateway, HTTPRoute and ReferenceGrant manifests into the API store, a warning for every
// Gateway or HTTPRoute no controller serves, and the controller when the scenario runs one. Layer: k8s.
import type { UserError } from '../../core/user-error.js';
import { objectMeta } from '../api/objects.js';
import type { ApiStore } from '../api/store.js';
import type { ManifestInput } from '../cluster.js';
import { admitGatewayApi } from './api.js';
import { NGF_CONTROLLER_NAME, NginxGatewayController, type GatewayClassObject, type GatewayController, type GatewayObject, type HttpRouteObject, type ReferenceGrantObject } from './controller.js';

export type { ConditionRow, GatewayController } from './controller.js';
export type { GatewayRow } from './table.js';

const nameOf = (m: ManifestInput): string | undefined => (m.value['metadata'] as { name?: string } | undefined)?.name;

/** Stores the Gateway API objects and starts NGINX Gateway Fabric's controller when `run`; returns it, or null. */
export function startGateway(api: ApiStore, manifests: readonly ManifestInput[], errors: UserError[], warnings: UserError[], record: (what: string) => void, run: boolean): GatewayController | null {
  const a = admitGatewayApi(manifests, errors, warnings);
  if (a.gateways.length === 0 && a.routes.length === 0 && !run) return null;
  for (const c of a.classes) api.create<GatewayClassObject>({ kind: 'GatewayClass', metadata: objectMeta('', c.name), spec: c });
  for (const g of a.grants) api.create<ReferenceGrantObject>({ kind: 'ReferenceGrant', metadata: objectMeta(g.namespace, g.name), spec: g });
  for (const g of a.gateways) {
    api.create<GatewayObject>({ kind: 'Gateway', metadata: objectMeta(g.namespace, g.name), spec: g });
    const served = run && a.classes.some((c) => c.name === g.className && c.controllerName === NGF_CONTROLLER_NAME);
    const m = manifests.find((x) => x.kind === 'Gateway' && nameOf(x) === g.name);
    if (!served && m) warnings.push(m.error(['spec', 'gatewayClassName'], `Gateway ${g.namespace}/${g.name} is stored but not served: ${!run ? 'no gateway controller runs in this scenario (add spec.cluster.gatewayController)' : `no controller serves GatewayClass "${g.className}"`}`));
    g.listeners.forEach((l, i) => {
      const reachable = (l.protocol === 'HTTP' && l.port === 80) || (l.protocol === 'HTTPS' && l.port === 443) || !['HTTP', 'HTTPS'].includes(l.protocol);
      if (served && m && !reachable) warnings.push(m.error(['spec', 'listeners', i, 'port'], `listener ${l.name} (${l.protocol} on ${l.port}) is programmed but gets no traffic: the nginx-gateway pods listen on 80 (HTTP) and 443 (HTTPS), the ports the chart's Service exposes`));
    });
  }
  for (const r of a.routes) {
    api.create<HttpRouteObject>({ kind: 'HTTPRoute', metadata: objectMeta(r.namespace, r.name), spec: r });
    const m = manifests.find((x) => x.kind === 'HTTPRoute' && nameOf(x) === r.name);
    r.parentRefs.forEach((p, i) => {
      if (m && p.kind === 'Gateway' && !a.gateways.some((g) => g.namespace === p.namespace && g.name === p.name)) warnings.push(m.error(['spec', 'parentRefs', i, 'name'], `HTTPRoute ${r.namespace}/${r.name}: no Gateway ${p.namespace}/${p.name}`));
    });
  }
  if (!run) return null;
  const c = new NginxGatewayController(api, a, record);
  c.start();
  return c;
}

// app/l7-headers — the request headers an nginx reverse proxy sends to the pod: the proxy_set_header list
// of ingress-nginx (nginx.tmpl) or of NGINX Gateway Fabric (its http.conf), and the Gateway API's
// HTTPHeaderFilter on the client's own headers. Layer: app (imports wire).
import type { HttpHeader } from '../wire/http.js';
import type { HeaderModifier } from './l7-balancer.js';

/** What the headers are made of: the Host sent, the client's address, the scheme and port it came on. */
export interface ForwardedFrom {
  host: string;
  remote: string;
  scheme: 'http' | 'https';
  port: number;
  requestId: string;
  /** The client's own X-Forwarded-For, if any. */
  xff: string | undefined;
}

/**
 * The proxy's own headers, before the client's. ingress-nginx: Host, X-Request-ID, X-Real-IP,
 * X-Forwarded-For (the client's moves to X-Original-Forwarded-For), X-Forwarded-Host/-Port/-Proto/-Scheme,
 * X-Scheme. NGF: Host, X-Forwarded-For ($proxy_add_x_forwarded_for: appended to the client's), X-Real-IP,
 * X-Forwarded-Proto/-Host/-Port.
 */
export function forwardedHeaders(flavour: 'ingress-nginx' | 'nginx-gateway-fabric', f: ForwardedFrom): HttpHeader[] {
  const bareHost = f.host.replace(/:\d+$/, '');
  if (flavour === 'nginx-gateway-fabric') {
    return [
      ['Host', f.host],
      ['X-Forwarded-For', f.xff !== undefined ? `${f.xff}, ${f.remote}` : f.remote],
      ['X-Real-IP', f.remote],
      ['X-Forwarded-Proto', f.scheme],
      ['X-Forwarded-Host', bareHost],
      ['X-Forwarded-Port', String(f.port)],
    ];
  }
  const headers: HttpHeader[] = [
    ['Host', f.host],
    ['X-Request-ID', f.requestId],
    ['X-Real-IP', f.remote],
    ['X-Forwarded-For', f.remote],
    ['X-Forwarded-Host', bareHost],
    ['X-Forwarded-Port', String(f.port)],
    ['X-Forwarded-Proto', f.scheme],
    ['X-Forwarded-Scheme', f.scheme],
    ['X-Scheme', f.scheme],
  ];
  if (f.xff !== undefined) headers.push(['X-Original-Forwarded-For', f.xff]);
  return headers;
}

/** Gateway API HTTPHeaderFilter on the headers sent to the pod: remove, then set (replace), then add (a comma-joined append). */
export function applyHeaderModifier(headers: HttpHeader[], m: HeaderModifier): HttpHeader[] {
  const drop = new Set([...m.remove, ...m.set.map(([k]) => k)].map((k) => k.toLowerCase()));
  const out: HttpHeader[] = headers.filter((h) => !drop.has(h[0].toLowerCase()));
  for (const [k, v] of m.set) out.push([k, v]);
  for (const [k, v] of m.add) {
    const i = out.findIndex((h) => h[0].toLowerCase() === k.toLowerCase());
    if (i >= 0) out[i] = [out[i]![0], `${out[i]![1]},${v}`];
    else out.push([k, v]);
  }
  return out;
}

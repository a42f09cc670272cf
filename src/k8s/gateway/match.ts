// k8s/gateway/match — the pure part of an HTTPRoute's routing: hostname intersection of a route with a
// listener, the match precedence across all rules of all routes on a host, a request's match, and the
// path and Location the RequestRedirect / URLRewrite filters compute. Layer: k8s (imports nothing).
// Mirrors the Gateway API spec (apis/v1/httproute_types.go HTTPRouteRule "Precedence", HTTPRouteSpec
// Hostnames, HTTPPathModifier, HTTPRequestRedirectFilter) as NGINX Gateway Fabric lays it out: one nginx
// server per hostname (exact names, then the longest matching wildcard, then the listener's catch-all),
// and inside it the matches in precedence order.
//
// Precedence (spec, ties broken left to right): Exact path > PathPrefix by length (RegularExpression is
// implementation-specific: as nginx runs NGF's `location ~` before prefix locations, a regex match is
// tried after Exact and before any prefix) > a method match > more header matches > more query param
// matches > the oldest route > "namespace/name" alphabetically > rule order > match order.
import type { HttpRouteMatchSpec, HttpRouteRuleSpec, HttpRouteSpec, PathModifierSpec } from './api.js';

/**
 * The hostnames a route serves on a listener (spec HTTPRouteSpec.Hostnames): with no listener hostname,
 * the route's (or every host); with one, the route hostnames that intersect it, each narrowed to the
 * more specific of the two. Empty: the route does not attach (NoMatchingListenerHostname).
 */
export function intersectHostnames(listener: string | null, route: readonly string[]): string[] {
  if (listener === null) return route.length === 0 ? ['*'] : [...route];
  if (route.length === 0) return [listener];
  const out: string[] = [];
  for (const h of route) {
    if (h === listener) out.push(h);
    else if (wildcardMatches(listener, h)) out.push(h);
    else if (wildcardMatches(h, listener)) out.push(listener);
  }
  return [...new Set(out)];
}

/** True when `pattern` ("*.example.com") covers `name` (an exact name or a narrower wildcard): any number of labels. */
export function wildcardMatches(pattern: string, name: string): boolean {
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1);
  return name.endsWith(suffix) && name.length > suffix.length && name !== pattern;
}

/** One HTTPRouteMatch of one rule, ready to test a request. */
export interface CompiledMatch {
  route: HttpRouteSpec;
  ruleIndex: number;
  matchIndex: number;
  rule: HttpRouteRuleSpec;
  match: HttpRouteMatchSpec;
  /** The prefix without its trailing "/" ("" for "/"), for PathPrefix. */
  prefix: string;
  pathRe: RegExp | null;
  headerRes: (RegExp | null)[];
  queryRes: (RegExp | null)[];
}

/** Compiles a rule's match (regular expressions once, as nginx compiles its config). */
export function compileMatch(route: HttpRouteSpec, ruleIndex: number, matchIndex: number): CompiledMatch {
  const rule = route.rules[ruleIndex]!;
  const match = rule.matches[matchIndex]!;
  const re = (type: string, v: string): RegExp | null => {
    if (type !== 'RegularExpression') return null;
    try {
      return new RegExp(v);
    } catch {
      return /(?!)/;
    }
  };
  const p = match.path;
  return {
    route,
    ruleIndex,
    matchIndex,
    rule,
    match,
    prefix: p.type === 'PathPrefix' ? p.value.replace(/\/+$/, '') : p.value,
    pathRe: re(p.type, p.value),
    headerRes: match.headers.map((h) => re(h.type, h.value)),
    queryRes: match.queryParams.map((q) => re(q.type, q.value)),
  };
}

const PATH_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

/** The spec's precedence order (negative: `a` is tried first). */
export function comparePrecedence(a: CompiledMatch, b: CompiledMatch): number {
  const pa = a.match.path;
  const pb = b.match.path;
  return (
    PATH_RANK[pa.type] - PATH_RANK[pb.type] ||
    (pa.type !== 'RegularExpression' ? pb.value.length - pa.value.length : 0) ||
    Number(b.match.method !== null) - Number(a.match.method !== null) ||
    b.match.headers.length - a.match.headers.length ||
    b.match.queryParams.length - a.match.queryParams.length ||
    a.route.order - b.route.order ||
    (`${a.route.namespace}/${a.route.name}` < `${b.route.namespace}/${b.route.name}` ? -1 : `${a.route.namespace}/${a.route.name}` > `${b.route.namespace}/${b.route.name}` ? 1 : 0) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

/** What a match reads of a request. */
export interface MatchRequest {
  method: string;
  /** The path without the query. */
  path: string;
  /** The query string without "?" ("" when none). */
  query: string;
  header(name: string): string | undefined;
}

/** The first value of a query parameter (exact, case-sensitive name), or undefined. */
export function queryParam(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (safeDecode(k) === name) return eq < 0 ? '' : safeDecode(part.slice(eq + 1).replace(/\+/g, ' '));
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** PathPrefix matching is by path element: "/foo" matches "/foo", "/foo/" and "/foo/bar", not "/foobar". */
export function prefixMatches(prefix: string, path: string): boolean {
  return prefix === '' || path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47);
}

/** True when every condition of the match holds for the request. */
export function matches(m: CompiledMatch, req: MatchRequest): boolean {
  const p = m.match.path;
  if (p.type === 'Exact' ? req.path !== p.value : p.type === 'PathPrefix' ? !prefixMatches(m.prefix, req.path) : !m.pathRe!.test(req.path)) return false;
  if (m.match.method !== null && m.match.method !== req.method) return false;
  const hs = m.match.headers;
  for (let i = 0; i < hs.length; i++) {
    const v = req.header(hs[i]!.name);
    if (v === undefined) return false;
    const re = m.headerRes[i]!;
    if (re !== null ? !re.test(v) : v !== hs[i]!.value) return false;
  }
  const qs = m.match.queryParams;
  for (let i = 0; i < qs.length; i++) {
    const v = queryParam(req.query, qs[i]!.name);
    if (v === undefined) return false;
    const re = m.queryRes[i]!;
    if (re !== null ? !re.test(v) : v !== qs[i]!.value) return false;
  }
  return true;
}

/**
 * HTTPPathModifier applied to a request path: ReplaceFullPath gives the value; ReplacePrefixMatch swaps
 * the matched prefix (by path element) for the value, one "/" between them ("/foo" → "/" on "/foo/bar"
 * gives "/bar"; on "/foo" gives "/").
 */
export function modifyPath(mod: PathModifierSpec, path: string, matchedPrefix: string): string {
  if (mod.type === 'ReplaceFullPath') return mod.value;
  const rest = path.slice(matchedPrefix.length);
  const head = mod.value.replace(/\/+$/, '');
  if (rest === '' || rest === '/') return head === '' ? '/' : rest === '/' ? `${head}/` : head;
  return `${head}${rest}`;
}

/**
 * The Location of a RequestRedirect (HTTPRequestRedirectFilter): scheme and hostname default to the
 * request's; a port not given is the scheme's well-known port when a scheme is given, else the
 * listener's; the port is left out for http:80 and https:443. The query string is kept.
 */
export function redirectLocation(f: { scheme: 'http' | 'https' | null; hostname: string | null; port: number | null; path: PathModifierSpec | null }, req: { scheme: 'http' | 'https'; host: string; listenerPort: number; path: string; query: string }, matchedPrefix: string): string {
  const scheme = f.scheme ?? req.scheme;
  const port = f.port ?? (f.scheme !== null ? (scheme === 'https' ? 443 : 80) : req.listenerPort);
  const hostPort = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443) ? f.hostname ?? req.host : `${f.hostname ?? req.host}:${port}`;
  const path = f.path === null ? req.path : modifyPath(f.path, req.path, matchedPrefix);
  return `${scheme}://${hostPort}${path}${req.query !== '' ? `?${req.query}` : ''}`;
}

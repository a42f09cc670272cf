// k8s/ingress/match — which Ingress path serves a request (Host, URI), as the Ingress API specifies it
// and as ingress-nginx builds it into nginx `server` and `location` blocks. Pure: no simulator, no I/O.
// Layer: k8s (imports k8s/ingress/api).
//
// The Ingress API (networking/v1 types.go, docs "Path types" and "Hostname wildcards"):
//   host    exact, or "*.foo.com" covering exactly one label; else the host-less rules
//   Exact   string equality, case-sensitive
//   Prefix  element-wise on "/"-split paths, trailing slash ignored, case-sensitive; longest wins,
//           Exact wins a tie
//   none    the Ingress defaultBackend of that host, else the controller's default backend (404)
// How ingress-nginx gets there (internal/ingress/controller/controller.go createServers, location.go
// updateServerLocations, template.go buildLocation / buildServerName / enforceRegexModifier, the
// nginx core's location lookup ngx_http_core_find_location):
//   - one server per host, created by the first Ingress (creation order) naming it; its root
//     location "/" goes to that Ingress's defaultBackend, else to the default backend (404); a rule
//     path "/" replaces it. Rule-less Ingresses give the catch-all server "_" its root.
//   - "*.foo.com" → server_name ~^(?<subdomain>[\w-]+)\.foo\.com$ (one label); servers sorted by name.
//   - Exact "/foo" → `location = /foo`; Prefix "/foo" → `location /foo/` plus `location = /foo`
//     (unless an Exact "/foo" exists); ImplementationSpecific "/foo" → `location /foo` (a string
//     prefix: "/foobar" matches).
//   - use-regex, or a rewrite-target differing from the path, on any location of a server turns every
//     location of that server into `location ~* "^PATH"` (case-insensitive, Exact loses its "$"),
//     sorted by path length, longest first; the first regex that matches wins.
//   - nginx: an exact location wins; else a prefix location ending in "/" whose name is the URI plus
//     "/" answers 301 to the slash form (auto_redirect for proxied locations); else the longest
//     prefix, unless a regex location matches first.
//   - a second Ingress repeating a host + path (same location) does not take it over.
import type { IngressBackend, IngressSpec, PathType } from './api.js';

/** What a location routes to: the Ingress and backend it came from (null backend = the default backend, 404). */
export interface LocationTarget {
  ingress: IngressSpec;
  backend: IngressBackend | null;
  /** The Ingress path ('' for a server's root default), its type, and where it was declared. */
  path: string;
  pathType: PathType | 'default';
}

/** One nginx location. */
export interface Location {
  kind: 'exact' | 'prefix' | 'regex';
  /** The location's string (exact / prefix) or the path the regex was made from. */
  path: string;
  re: RegExp | null;
  /** nginx auto_redirect: a proxied prefix location ending in "/". */
  autoRedirect: boolean;
  /** `rewrite "(?i)PATH" TARGET break;` when the location rewrites. */
  rewrite: { re: RegExp; target: string } | null;
  target: LocationTarget;
}

/** One nginx server block. */
export interface Server {
  /** The host, "*.foo.com", or "_" for the catch-all. */
  name: string;
  /** For "*." servers: the one-label pattern. */
  hostRe: RegExp | null;
  regexMode: boolean;
  /** Locations in nginx's evaluation order (regex ones sorted by length). */
  locations: Location[];
}

/** Every server, as nginx.conf would hold them. */
export interface RoutingIndex {
  exact: Map<string, Server>;
  wildcard: Server[];
  catchAll: Server;
}

/** The outcome of matching one request. */
export type MatchResult = { kind: 'location'; server: Server; location: Location; uri: string } | { kind: 'redirect'; status: 301; path: string };

const ANN = 'nginx.ingress.kubernetes.io/';

/** Normalises a Host header as nginx does before server_name lookup: lower case, no port, no trailing dot. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  const colon = h.lastIndexOf(':');
  if (colon >= 0 && !h.includes(']')) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** True when `host` is covered by the wildcard "*.suffix": exactly one more label, as Ingress specifies. */
export function wildcardCovers(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1);
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, host.length - suffix.length);
  return /^[\w-]+$/.test(label);
}

/** Element-wise prefix match (the Ingress API's Prefix): `/foo` matches `/foo`, `/foo/`, `/foo/bar`, not `/foobar`. */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p === '/') return path.startsWith('/');
  return path === p || path.startsWith(p + '/');
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** An nginx PCRE (as ingress-nginx writes it) as a JS RegExp: named groups `(?<x>` carry over. */
function pcre(source: string, flags: string): RegExp | null {
  try {
    return new RegExp(source, flags);
  } catch {
    return null;
  }
}

function needsRewrite(ing: IngressSpec, path: string): boolean {
  const t = ing.annotations[`${ANN}rewrite-target`];
  return t !== undefined && t !== '' && t !== path;
}

interface PendingServer {
  name: string;
  /** Locations before regex mode and sorting: [kind, path, target, fromPrefix]. */
  entries: { kind: 'exact' | 'prefix'; path: string; target: LocationTarget; useRegex: boolean; rewrite: string | null; autoRedirect: boolean; fromPrefix?: boolean }[];
  root: LocationTarget;
}

function rootTarget(ing: IngressSpec | null, backend: IngressBackend | null): LocationTarget {
  return { ingress: ing ?? DEFAULT_INGRESS, backend, path: '/', pathType: 'default' };
}

/** The stand-in Ingress of the controller's own default backend. */
export const DEFAULT_INGRESS: IngressSpec = { namespace: 'ingress-nginx', name: 'default-backend', annotations: {}, className: null, defaultBackend: null, rules: [], tls: [], order: -1 };

/** Adds one Ingress path to a server as ingress-nginx's location.go does. */
function addPath(s: PendingServer, ing: IngressSpec, path: string, pathType: PathType, backend: IngressBackend): void {
  const target: LocationTarget = { ingress: ing, backend, path, pathType };
  const useRegex = ing.annotations[`${ANN}use-regex`] === 'true';
  const rewrite = needsRewrite(ing, path) ? ing.annotations[`${ANN}rewrite-target`]! : null;
  const has = (kind: 'exact' | 'prefix', p: string): boolean => s.entries.some((e) => e.kind === kind && e.path === p);
  if (path === '/' && pathType !== 'Exact') {
    // The root location exists already (the server's default); the first rule path "/" takes it.
    if (s.root.pathType === 'default') s.root = { ...target, path: '/' };
    if (useRegex || rewrite) s.entries.push({ kind: 'prefix', path: '/', target, useRegex, rewrite, autoRedirect: false });
    return;
  }
  if (pathType === 'Exact') {
    // location.go collects the Exact paths first: a Prefix path's extra exact location yields to one.
    const derived = s.entries.findIndex((e) => e.kind === 'exact' && e.path === path && e.fromPrefix === true);
    if (derived >= 0) s.entries[derived] = { kind: 'exact', path, target, useRegex, rewrite, autoRedirect: false };
    else if (!has('exact', path)) s.entries.push({ kind: 'exact', path, target, useRegex, rewrite, autoRedirect: false });
    return;
  }
  if (pathType === 'ImplementationSpecific' || useRegex || rewrite !== null) {
    if (!has('prefix', path)) s.entries.push({ kind: 'prefix', path, target, useRegex, rewrite, autoRedirect: path.endsWith('/') });
    return;
  }
  // Prefix: "/foo" → "/foo/" and "= /foo" (the exact one only if no Exact "/foo" exists).
  const slashed = path.endsWith('/') ? path : `${path}/`;
  if (!has('prefix', slashed)) s.entries.push({ kind: 'prefix', path: slashed, target, useRegex, rewrite, autoRedirect: true });
  if (!has('exact', path)) s.entries.push({ kind: 'exact', path, target, useRegex, rewrite, autoRedirect: false, fromPrefix: true });
}

function finishServer(p: PendingServer): Server {
  const regexMode = p.entries.some((e) => e.useRegex || e.rewrite !== null);
  const all = [...p.entries];
  if (!all.some((e) => e.kind === 'prefix' && e.path === '/')) all.push({ kind: 'prefix', path: '/', target: p.root, useRegex: false, rewrite: null, autoRedirect: false });
  let locations: Location[];
  if (regexMode) {
    locations = all.map((e) => ({ kind: 'regex' as const, path: e.path, re: pcre(`^${e.path}`, 'i'), autoRedirect: false, rewrite: e.rewrite !== null ? { re: pcre(e.path, 'i') ?? /$^/, target: e.rewrite } : null, target: e.target }));
    locations = locations.filter((l) => l.re !== null);
    // ingress-nginx sorts a server's locations by path length, longest first (stable).
    locations.sort((a, b) => b.path.length - a.path.length);
  } else {
    locations = all.map((e) => ({ kind: e.kind, path: e.path, re: null, autoRedirect: e.autoRedirect && e.path !== '/', rewrite: null, target: e.target }));
  }
  const hostRe = p.name.startsWith('*.') ? new RegExp(`^[\\w-]+${escapeRe(p.name.slice(1))}$`) : null;
  return { name: p.name, hostRe, regexMode, locations };
}

/**
 * Builds the servers of the Ingresses a controller owns, in creation order (ingress-nginx sorts
 * Ingresses by creation timestamp): the first Ingress naming a host creates its server.
 */
export function buildRoutingIndex(ingresses: readonly IngressSpec[]): RoutingIndex {
  const sorted = [...ingresses].sort((a, b) => a.order - b.order);
  const pending = new Map<string, PendingServer>();
  const catchAll: PendingServer = { name: '_', entries: [], root: rootTarget(null, null) };
  // A rule-less Ingress's defaultBackend is the catch-all's root (the first such Ingress).
  const firstCatchAll = sorted.find((i) => i.rules.length === 0 && i.defaultBackend !== null);
  if (firstCatchAll) catchAll.root = rootTarget(firstCatchAll, firstCatchAll.defaultBackend);
  for (const ing of sorted) {
    for (const rule of ing.rules) {
      let s: PendingServer;
      if (rule.host === null) s = catchAll;
      else {
        const host = rule.host.toLowerCase();
        let found = pending.get(host);
        if (!found) pending.set(host, (found = { name: host, entries: [], root: rootTarget(ing.defaultBackend ? ing : null, ing.defaultBackend) }));
        s = found;
      }
      for (const p of rule.paths) addPath(s, ing, p.path, p.pathType, p.backend);
    }
  }
  const exact = new Map<string, Server>();
  const wildcard: Server[] = [];
  for (const name of [...pending.keys()].sort()) {
    const server = finishServer(pending.get(name)!);
    if (name.startsWith('*.')) wildcard.push(server);
    else exact.set(name, server);
  }
  return { exact, wildcard, catchAll: finishServer(catchAll) };
}

/** The server nginx picks for a Host header: exact name, then the one-label wildcards in order, else "_". */
export function selectServer(index: RoutingIndex, hostHeader: string): Server {
  const host = normaliseHost(hostHeader);
  const s = index.exact.get(host);
  if (s) return s;
  for (const w of index.wildcard) if (w.hostRe!.test(host)) return w;
  return index.catchAll;
}

/** The URI's path (no query), as nginx's $uri before normalisation. */
function pathOf(uri: string): string {
  const q = uri.indexOf('?');
  return q >= 0 ? uri.slice(0, q) : uri;
}

/** nginx's location lookup in one server for the request path. */
export function selectLocation(server: Server, uri: string): { location: Location } | { redirect: string } {
  const path = pathOf(uri);
  let longest: Location | null = null;
  for (const l of server.locations) {
    if (l.kind === 'exact' && l.path === path) return { location: l };
  }
  for (const l of server.locations) {
    if (l.kind !== 'prefix') continue;
    if (l.autoRedirect && path + '/' === l.path) return { redirect: l.path };
    if (path.startsWith(l.path) && (longest === null || l.path.length > longest.path.length)) longest = l;
  }
  for (const l of server.locations) if (l.kind === 'regex' && l.re!.test(path)) return { location: l };
  // A server always has a root location ("/" or ~* "^/"), so some location matched.
  return { location: longest ?? server.locations[server.locations.length - 1]! };
}

/** `rewrite "(?i)PATH" TARGET break;`: the whole URI becomes TARGET with $1.. filled; the query string is kept. */
export function applyRewrite(location: Location, uri: string): string {
  if (!location.rewrite) return uri;
  const q = uri.indexOf('?');
  const path = q >= 0 ? uri.slice(0, q) : uri;
  const m = location.rewrite.re.exec(path);
  if (!m) return uri;
  const target = location.rewrite.target.replace(/\$(\d)/g, (_, d: string) => m[Number(d)] ?? '');
  return q >= 0 ? `${target}${target.includes('?') ? '&' : '?'}${uri.slice(q + 1)}` : target;
}

/** Matches a request: the server by Host, the location by path, the upstream URI after any rewrite. */
export function matchRequest(index: RoutingIndex, host: string, uri: string): MatchResult {
  const server = selectServer(index, host);
  const r = selectLocation(server, uri);
  if ('redirect' in r) return { kind: 'redirect', status: 301, path: r.redirect };
  return { kind: 'location', server, location: r.location, uri: applyRewrite(r.location, uri) };
}

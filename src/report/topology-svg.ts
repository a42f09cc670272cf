// report/topology-svg — draws the topology as a static SVG: services on top, cluster nodes with their
// pods in the middle, the network and other hosts below, and the chosen flow's path as arrows. A plain
// layout of boxes; every element carries a class and data-name so the browser test can find it.
// Layer: report (imports its own model and topology).
import { escapeHtml } from './escape.js';
import type { Topology } from './model.js';
import { flowPath, type FlowPath } from './topology.js';

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const NODE_W = 230;
const POD_H = 36;
const GAP = 24;
const SVC_Y = 16;
const SVC_H = 40;
const NODES_Y = 100;

const center = (b: Box): { x: number; y: number } => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 });

interface Layout {
  width: number;
  height: number;
  parts: string[];
  boxes: Map<string, Box>;
}

function drawServices(topo: Topology, l: Layout): void {
  topo.services.forEach((s, i) => {
    const b = { x: GAP + i * (NODE_W + GAP), y: SVC_Y, w: NODE_W, h: SVC_H };
    l.boxes.set(`svc/${s.name}`, b);
    const ip = s.clusterIP ?? (s.type === 'ExternalName' ? 'ExternalName' : 'headless');
    l.parts.push(`<g class="topo-service" data-name="${escapeHtml(s.name)}"><rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="20" fill="#ecfdf5" stroke="#059669"/><text x="${b.x + b.w / 2}" y="${b.y + 17}" text-anchor="middle" class="t-strong">svc/${escapeHtml(s.name)}</text><text x="${b.x + b.w / 2}" y="${b.y + 32}" text-anchor="middle" class="t-small">${escapeHtml(`${ip} ${s.ports.join(' ')}`)}</text></g>`);
    l.width = Math.max(l.width, b.x + b.w + GAP);
  });
}

function drawNodes(topo: Topology, l: Layout): number {
  const nodes = topo.hosts.filter((h) => h.kind === 'node');
  let bottom = nodes.length > 0 ? NODES_Y : SVC_Y;
  nodes.forEach((n, i) => {
    const b = { x: GAP + i * (NODE_W + GAP), y: NODES_Y, w: NODE_W, h: 48 + n.pods.length * (POD_H + 6) };
    l.boxes.set(n.name, b);
    const pods = n.pods.map((p, j) => {
      const pb = { x: b.x + 10, y: b.y + 42 + j * (POD_H + 6), w: NODE_W - 20, h: POD_H };
      l.boxes.set(p.name, pb);
      const fill = p.hostNetwork ? '#f3f4f6' : '#eff6ff';
      return `<g class="topo-pod" data-name="${escapeHtml(p.name)}"><rect x="${pb.x}" y="${pb.y}" width="${pb.w}" height="${pb.h}" rx="6" fill="${fill}" stroke="#93c5fd"/><text x="${pb.x + 8}" y="${pb.y + 15}" class="t-norm">${escapeHtml(p.name)}</text><text x="${pb.x + 8}" y="${pb.y + 29}" class="t-small">${escapeHtml(p.ip)}${p.hostNetwork ? ' (hostNetwork)' : ''}</text></g>`;
    });
    l.parts.push(`<g class="topo-node" data-name="${escapeHtml(n.name)}"><rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="10" fill="#fff" stroke="#6b7280" stroke-width="1.5"/><text x="${b.x + 10}" y="${b.y + 22}" class="t-strong">node ${escapeHtml(n.name)}</text><text x="${b.x + b.w - 10}" y="${b.y + 22}" text-anchor="end" class="t-small">${escapeHtml(n.ip)}</text>${pods.join('')}</g>`);
    l.width = Math.max(l.width, b.x + b.w + GAP);
    bottom = Math.max(bottom, b.y + b.h);
  });
  return bottom;
}

function drawHosts(topo: Topology, l: Layout, top: number): number {
  const others = topo.hosts.filter((h) => h.kind !== 'node');
  if (others.length === 0) return top;
  const y = top + 50;
  if (topo.hosts.some((h) => h.kind === 'node')) {
    l.parts.push(`<g class="topo-network"><line x1="${GAP}" x2="${Math.max(l.width, GAP + others.length * (NODE_W + GAP)) - GAP}" y1="${top + 25}" y2="${top + 25}" stroke="#9ca3af" stroke-width="4" stroke-linecap="round"/><text x="${GAP}" y="${top + 19}" class="t-small">network${topo.cni ? ` (${escapeHtml(topo.cni)})` : ''}</text></g>`);
  }
  others.forEach((h, i) => {
    const b = { x: GAP + i * (NODE_W + GAP), y, w: NODE_W, h: 44 };
    l.boxes.set(h.name, b);
    l.parts.push(`<g class="topo-host" data-name="${escapeHtml(h.name)}"><rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="8" fill="#fffbeb" stroke="#d97706"/><text x="${b.x + 10}" y="${b.y + 19}" class="t-strong">${escapeHtml(h.kind === 'external' ? `host ${h.name}` : h.name)}</text><text x="${b.x + 10}" y="${b.y + 35}" class="t-small">${escapeHtml(h.ip)}</text></g>`);
    l.width = Math.max(l.width, b.x + b.w + GAP);
  });
  return y + 44;
}

function arrow(a: Box, b: Box, cls: string, shift = 0): string {
  const p = { x: center(a).x + shift * a.w, y: center(a).y };
  const q = { x: center(b).x + shift * b.w, y: center(b).y };
  // Stop at the target box's edge along the line so the arrowhead stays visible.
  const dx = q.x - p.x;
  const dy = q.y - p.y;
  const t = Math.min(dx === 0 ? Infinity : b.w / 2 / Math.abs(dx), dy === 0 ? Infinity : b.h / 2 / Math.abs(dy), 1);
  const end = { x: q.x - dx * t, y: q.y - dy * t };
  const s = Math.min(dx === 0 ? Infinity : a.w / 2 / Math.abs(dx), dy === 0 ? Infinity : a.h / 2 / Math.abs(dy), 1);
  const start = { x: p.x + dx * s, y: p.y + dy * s };
  return `<line class="${cls}" x1="${start.x.toFixed(1)}" y1="${start.y.toFixed(1)}" x2="${end.x.toFixed(1)}" y2="${end.y.toFixed(1)}" stroke="#ea580c" stroke-width="2.5" marker-end="url(#arrow)"/>`;
}

function drawPath(path: FlowPath, l: Layout): number {
  const arrows: string[] = [];
  const from = path.from.map((n) => l.boxes.get(n)).filter((b): b is Box => b !== undefined);
  const to = path.to.map((n) => l.boxes.get(n)).filter((b): b is Box => b !== undefined);
  const via = path.via !== null ? l.boxes.get(`svc/${path.via}`) : undefined;
  for (const b of [...from, ...to]) arrows.push(`<rect class="topo-hl" x="${b.x - 3}" y="${b.y - 3}" width="${b.w + 6}" height="${b.h + 6}" rx="8" fill="none" stroke="#ea580c" stroke-width="2.5"/>`);
  for (const f of from) {
    if (via) arrows.push(arrow(f, via, 'topo-path', -0.3));
    else for (const t of to) arrows.push(arrow(f, t, 'topo-path'));
  }
  if (via) for (const t of to) arrows.push(arrow(via, t, 'topo-path'));
  l.parts.push(...arrows);
  return arrows.filter((a) => a.startsWith('<line')).length;
}

/** The topology SVG with the path of `flow` (when it exists) drawn over it. */
export function topologySvg(topo: Topology, flow: string | null): string {
  const l: Layout = { width: 480, height: 0, parts: [], boxes: new Map() };
  drawServices(topo, l);
  const bottom = drawHosts(topo, l, drawNodes(topo, l));
  const path = flow !== null ? flowPath(topo, flow) : null;
  if (path) drawPath(path, l);
  l.height = bottom + GAP;
  const defs = '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#ea580c"/></marker></defs>';
  return `<svg class="topology" xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}" role="img" aria-label="topology">${defs}${l.parts.join('')}</svg>`;
}

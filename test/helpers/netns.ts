// test/helpers/netns — real Linux network namespaces for the kernel-differential (fidelity) tests:
// run commands in a namespace, create and destroy namespaces, start and stop tcpdump, and read the
// captures back (classic pcap from tcpdump, pcapng from podwire). Layer: test helpers (imports only
// node:*). Everything here is bounded: every child gets a timeout, every wait a deadline, and every
// process started is tracked by pid so `killAll()` can end exactly those processes (never by name).
//
// Names: every namespace this helper creates is `pwk-<pid>-<short>`; `reapStaleNetns()` removes
// `pwk-<N>-*` namespaces whose process N is gone (a crashed earlier run), and nothing else.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** Absolute path of a program found in the usual system directories, or null. */
export function findProgram(name: string): string | null {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']) {
    const p = `${dir}/${name}`;
    if (existsSync(p)) return p;
  }
  return null;
}

export const IP = findProgram('ip');
export const TCPDUMP = findProgram('tcpdump');
export const PING = findProgram('ping');
export const ETHTOOL = findProgram('ethtool');
/** The system python3 (not a pyenv shim: those add hundreds of ms of start-up). */
export const PYTHON = findProgram('python3');

/** One-line reason to skip kernel tests here, or null when they can run. */
export function netnsSkipReason(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'kernel fidelity tests need root (CAP_NET_ADMIN) to create network namespaces';
  if (IP === null) return 'kernel fidelity tests need iproute2 (`ip`), which is not installed';
  if (TCPDUMP === null) return 'kernel fidelity tests need tcpdump, which is not installed';
  if (PING === null) return 'kernel fidelity tests need ping (iputils-ping), which is not installed';
  if (PYTHON === null) return 'kernel fidelity tests need python3 (UDP echo client/server), which is not installed';
  const r = spawnSync(IP, ['netns', 'list'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return `\`ip netns\` does not work here: ${(r.stderr || String(r.error)).trim()}`;
  return null;
}

/** Runs a program to completion (bounded); throws with its stderr when it fails. Returns stdout. */
export function run(prog: string, args: string[], opts: { timeoutMs?: number; allowFail?: boolean; input?: string } = {}): string {
  const r = spawnSync(prog, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 10_000, killSignal: 'SIGKILL', input: opts.input });
  if (!opts.allowFail && (r.status !== 0 || r.error)) {
    throw new Error(`${prog} ${args.join(' ')} failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}): ${(r.stderr ?? '').trim()}`);
  }
  return r.stdout ?? '';
}

/** `ip ARGS` (in the root namespace; use `-n NS` to address one). */
export function ip(...args: string[]): string {
  return run(IP!, args);
}

/** Runs a program inside namespace `ns` (`ip netns exec NS PROG ARGS`). */
export function nsExec(ns: string, prog: string, args: string[], opts: { timeoutMs?: number; allowFail?: boolean; input?: string } = {}): string {
  return run(IP!, ['netns', 'exec', ns, prog, ...args], opts);
}

/**
 * A CNI-like bridge in `node`: cni0 with `gateway` (e.g. 10.244.0.1/24), and for each [namespace, address, host
 * veth name] a veth whose host end is a cni0 port and whose other end is the namespace's eth0 with the address in
 * the gateway's prefix and a default route via the gateway.
 */
export function cniBridge(node: string, gateway: string, pods: readonly (readonly [string, string, string])[]): void {
  const [gw, prefix] = gateway.split('/') as [string, string];
  ip('-n', node, 'link', 'add', 'cni0', 'type', 'bridge');
  ip('-n', node, 'addr', 'add', gateway, 'dev', 'cni0');
  ip('-n', node, 'link', 'set', 'cni0', 'up');
  for (const [ns, addr, host] of pods) {
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('link', 'set', host, 'netns', node);
    ip('-n', node, 'link', 'set', host, 'master', 'cni0', 'up');
    ip('-n', ns, 'addr', 'add', `${addr}/${prefix}`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'route', 'add', 'default', 'via', gw);
  }
}

/** Sets sysctls inside `ns` (`sysctl -w k=v ...`, one process). */
export function nsSysctl(ns: string, settings: Record<string, string | number>): void {
  const sysctl = findProgram('sysctl');
  const pairs = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  if (sysctl) nsExec(ns, sysctl, ['-q', '-w', ...pairs]);
  else for (const [k, v] of Object.entries(settings)) nsExec(ns, '/bin/sh', ['-c', `echo ${v} > /proc/sys/${k.replaceAll('.', '/')}`]);
}

/** Reads one sysctl inside `ns` ('' when it does not exist there). */
export function nsSysctlRead(ns: string, key: string): string {
  return nsExec(ns, '/bin/cat', [`/proc/sys/${key.replaceAll('.', '/')}`], { allowFail: true }).trim();
}

/** The namespace name prefix of this process for a test family (`pwk` cluster, `pwn` NAT). */
export function netnsPrefix(tag = 'pwk'): string {
  return `${tag}-${process.pid}-`;
}

/** Names of the existing named network namespaces. */
export function listNetns(): string[] {
  return run(IP!, ['netns', 'list'], { allowFail: true })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/** Deletes a namespace if it exists (its devices go with it; veth peers elsewhere too). */
export function deleteNetns(name: string): void {
  if (!/^pw[a-z]-\d+-/.test(name)) throw new Error(`refusing to delete namespace ${name}: not created by these tests`);
  run(IP!, ['netns', 'del', name], { allowFail: true });
}

/** Removes `<tag>-<N>-*` namespaces left by a test process N that no longer exists. */
export function reapStaleNetns(tag = 'pwk'): void {
  for (const n of listNetns()) {
    const m = new RegExp(`^${tag}-(\\d+)-`).exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) deleteNetns(n);
  }
}

/** A set of namespaces created by this process, destroyed together. */
export class NetnsSet {
  readonly names: string[] = [];

  constructor(private readonly tag = 'pwk') {}

  /** Creates `<tag>-<pid>-<short>`, with IPv6 off (no ND/MLD/DAD noise) and lo up. Returns its name. */
  create(short: string): string {
    const name = netnsPrefix(this.tag) + short;
    if (name.length > 60) throw new Error(`namespace name too long: ${name}`);
    if (listNetns().includes(name)) deleteNetns(name);
    ip('netns', 'add', name);
    this.names.push(name);
    // Before any device exists or comes up: devices created or moved in later take `default`.
    nsSysctl(name, { 'net.ipv6.conf.all.disable_ipv6': 1, 'net.ipv6.conf.default.disable_ipv6': 1 });
    ip('-n', name, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** Deletes every namespace of the set (tolerates ones already gone). */
  destroy(): void {
    for (const n of this.names.splice(0)) deleteNetns(n);
  }
}

// --- child processes ---------------------------------------------------------------------------

const children = new Set<ChildProcess>();

/** A started child with its collected output. */
export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) or rejects after `timeoutMs`. */
  exited(timeoutMs: number): Promise<number | null>;
}

/** Starts `prog args` inside `ns` in the background, tracked for killAll(). */
export function nsSpawn(ns: string, prog: string, args: string[]): Child {
  const proc = spawn(IP!, ['netns', 'exec', ns, prog, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  let code: number | null | undefined;
  const done = new Promise<number | null>((resolve) => {
    proc.on('exit', (c) => {
      code = c;
      children.delete(proc);
      resolve(c);
    });
    proc.on('error', (e) => {
      err += String(e);
      children.delete(proc);
      resolve(-1);
    });
  });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited: (timeoutMs) =>
      code !== undefined
        ? Promise.resolve(code)
        : new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`${prog} ${args.join(' ')} in ${ns} still running after ${timeoutMs} ms`)), timeoutMs);
            void done.then((c) => {
              clearTimeout(t);
              resolve(c);
            });
          }),
  };
}

/** Waits until `pred()` holds, polling every 10 ms; throws `what` after `timeoutMs`. */
export async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Stops a child: SIGINT (tcpdump flushes and exits), then SIGKILL after `graceMs`. Never throws. */
export async function stopChild(c: Child, graceMs = 2000): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill('SIGINT');
  try {
    await c.exited(graceMs);
  } catch {
    c.proc.kill('SIGKILL');
    await c.exited(graceMs).catch(() => undefined);
  }
}

/** Kills every child this helper started that is still running (by pid). */
export async function killAll(): Promise<void> {
  const live = [...children];
  for (const p of live) p.kill('SIGKILL');
  const end = Date.now() + 3000;
  while (children.size > 0 && Date.now() < end) await sleep(10);
}

// --- tcpdump -----------------------------------------------------------------------------------

/** A running tcpdump writing one interface to a pcap file. */
export interface Tcpdump {
  ns: string;
  iface: string;
  file: string;
  child: Child;
}

/**
 * Starts `tcpdump -i IFACE -w FILE` in `ns` and waits (bounded) until it is listening. Promiscuous
 * (tcpdump's default): on a bridge device that is what makes forwarded frames visible (br_handle_frame_finish
 * passes every frame up when the bridge is IFF_PROMISC). `-U --immediate-mode`: every packet reaches the
 * file when it is captured, so SIGINT loses nothing. `-Z root`: keep the right to write FILE.
 */
export async function startTcpdump(ns: string, iface: string, file: string, timeoutMs = 5000): Promise<Tcpdump> {
  const child = nsSpawn(ns, TCPDUMP!, ['-n', '-i', iface, '-U', '--immediate-mode', '-Z', 'root', '-s', '0', '-w', file]);
  await waitFor(() => child.stderr().includes('listening on') || child.proc.exitCode !== null, timeoutMs, `tcpdump on ${ns}/${iface}`);
  if (child.proc.exitCode !== null) throw new Error(`tcpdump on ${ns}/${iface} exited: ${child.stderr()}`);
  return { ns, iface, file, child };
}

// --- capture files -----------------------------------------------------------------------------

/** One captured frame: its bytes, time in microseconds (epoch for pcap, capture-relative for pcapng), interface. */
export interface CapturedFrame {
  iface: string;
  tUs: number;
  bytes: Uint8Array;
}

/** Reads a classic pcap file (µs or ns timestamps, either byte order). */
export function readPcap(path: string, iface: string): CapturedFrame[] {
  const b = readFileSync(path);
  if (b.length < 24) return [];
  const magicLe = b.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) [le, nano] = [true, magicLe === 0xa1b23c4d];
  else if (b.readUInt32BE(0) === 0xa1b2c3d4 || b.readUInt32BE(0) === 0xa1b23c4d) [le, nano] = [false, b.readUInt32BE(0) === 0xa1b23c4d];
  else throw new Error(`${path}: not a pcap file`);
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`${path}: link type ${linkType}, expected Ethernet (1)`);
  const out: CapturedFrame[] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const incl = u32(o + 8);
    if (o + 16 + incl > b.length) break; // a record cut short by SIGKILL
    out.push({ iface, tUs: sec * 1e6 + (nano ? frac / 1000 : frac), bytes: new Uint8Array(b.subarray(o + 16, o + 16 + incl)) });
    o += 16 + incl;
  }
  return out;
}

/** Reads a pcapng file (SHB, IDB with if_name/if_tsresol, EPB; little-endian as podwire writes). */
export function readPcapng(path: string): CapturedFrame[] {
  const b = readFileSync(path);
  const ifaces: { name: string; unitsPerUs: number }[] = [];
  const out: CapturedFrame[] = [];
  let o = 0;
  while (o + 12 <= b.length) {
    const type = b.readUInt32LE(o);
    const len = b.readUInt32LE(o + 4);
    if (len < 12 || o + len > b.length) throw new Error(`${path}: bad block at ${o}`);
    if (type === 0x0a0d0d0a) {
      if (b.readUInt32LE(o + 8) !== 0x1a2b3c4d) throw new Error(`${path}: big-endian pcapng not supported`);
    } else if (type === 1) {
      let name = `if${ifaces.length}`;
      let tsresol = 6;
      let p = o + 16;
      while (p + 4 <= o + len - 4) {
        const code = b.readUInt16LE(p);
        const vlen = b.readUInt16LE(p + 2);
        if (code === 0) break;
        if (code === 2) name = b.toString('utf8', p + 4, p + 4 + vlen);
        if (code === 9) tsresol = b[p + 4]!;
        p += 4 + ((vlen + 3) & ~3);
      }
      if (tsresol & 0x80) throw new Error(`${path}: binary if_tsresol not supported`);
      ifaces.push({ name, unitsPerUs: 10 ** tsresol / 1e6 });
    } else if (type === 6) {
      const ifc = ifaces[b.readUInt32LE(o + 8)];
      if (!ifc) throw new Error(`${path}: EPB for an undeclared interface`);
      const ts = b.readUInt32LE(o + 12) * 2 ** 32 + b.readUInt32LE(o + 16);
      const cap = b.readUInt32LE(o + 20);
      out.push({ iface: ifc.name, tUs: ts / ifc.unitsPerUs, bytes: new Uint8Array(b.subarray(o + 28, o + 28 + cap)) });
    }
    o += len;
  }
  return out;
}

// test/fidelity/netns-pwa — the namespace set of the kernel-behaviour fidelity tests (no-socket RST,
// hairpin, IPVS view, netem, neighbour confirmation): test/helpers/netns.ts's NetnsSet with this
// family's own prefix `pwa-<pid>-`, and a delete that refuses any other name (the shared
// deleteNetns accepts only pwk/pwb/pwn). Layer: test helpers (imports node:* and ../helpers/netns).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { IP, ip, killAll, NetnsSet, listNetns, run } from '../helpers/netns.js';

const OURS = /^pwa-\d+-/;

/** `ip netns del NAME` for a namespace of this family only. */
function deletePwa(name: string): void {
  if (!OURS.test(name)) throw new Error(`refusing to delete namespace ${name}: not a pwa- namespace of these tests`);
  run(IP!, ['netns', 'del', name], { allowFail: true });
}

/** Namespaces `pwa-<pid>-<short>`, destroyed together. */
export class PwaNetns extends NetnsSet {
  constructor() {
    super('pwa');
    // reapStaleNetns goes through the shared deleteNetns, which knows only pwk/pwb/pwn: reap here.
    for (const n of listNetns()) {
      const m = /^pwa-(\d+)-/.exec(n);
      if (!m || Number(m[1]) === process.pid) continue;
      try {
        process.kill(Number(m[1]), 0);
      } catch {
        deletePwa(n);
      }
    }
  }

  override create(short: string): string {
    const name = `pwa-${process.pid}-${short}`;
    if (listNetns().includes(name)) deletePwa(name);
    return super.create(short);
  }

  override destroy(): void {
    for (const n of this.names.splice(0)) deletePwa(n);
  }
}

/**
 * The namespaces and a scratch directory of one describe block; afterAll stops every process the test
 * started, deletes the namespaces and removes the directory.
 */
export function pwaFixture(): { set: PwaNetns; dir: string } {
  const set = new PwaNetns();
  const dir = mkdtempSync(join(tmpdir(), 'pwa-'));
  afterAll(async () => {
    await killAll();
    set.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  return { set, dir };
}

/**
 * Two new namespaces joined by a veth whose ends are both `eth0`, up and addressed (`cidrs`): the two-host
 * lab of the kernel tests. The root-side name of the pair carries the first short name and the pid, so
 * files running at once do not collide. Returns the namespaces' names.
 */
export function vethPair(set: PwaNetns, short: [string, string], cidrs: [string, string]): [string, string] {
  const a = set.create(short[0]);
  const b = set.create(short[1]);
  const va = `pw${short[0]}${process.pid % 100000}`.slice(0, 15);
  ip('link', 'add', va, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
  ip('link', 'set', va, 'netns', a, 'name', 'eth0');
  ip('-n', a, 'addr', 'add', cidrs[0], 'dev', 'eth0');
  ip('-n', b, 'addr', 'add', cidrs[1], 'dev', 'eth0');
  ip('-n', a, 'link', 'set', 'eth0', 'up');
  ip('-n', b, 'link', 'set', 'eth0', 'up');
  return [a, b];
}

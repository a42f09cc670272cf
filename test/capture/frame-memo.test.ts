// capture/frame-memo: a frame captured leaving a device and arriving at its wire peer is serialized once.
// The file must be byte-identical to serializing every capture, and the verify mode must catch a frame
// rewritten on the wire (what a packet mutator that forgot the memo would do).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UdpEchoServer } from '../../src/app/udp-probe.js';
import { FrameMemo, LINK_NONE, LINK_SAVE, setCaptureVerify } from '../../src/capture/frame-memo.js';
import { PcapngWriter, PcapWriter, type CaptureWriter } from '../../src/capture/pcapng.js';
import { Simulator } from '../../src/core/simulator.js';
import { BridgeDevice } from '../../src/link/bridge.js';
import { Channel } from '../../src/link/channel.js';
import type { NetDevice } from '../../src/link/device.js';
import { NicDevice } from '../../src/link/nic.js';
import { VethDevice } from '../../src/link/veth.js';
import { Namespace } from '../../src/net/namespace.js';
import { Packet } from '../../src/packet/packet.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { ScenarioRun, wirePeer } from '../../src/scenario/run.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { udpFrame } from '../helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-memo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => setCaptureVerify(false));
const ip = (t: string): number => parseIpv4(t)!;

/**
 * a —(Channel)— r —(veth pair)— b, 300 UDP echoes with 64-byte payloads (every 3rd with real bytes),
 * all four devices captured. `memo`: pass wire peers as scenario/run.ts does; `rewrite`: a tap that
 * changes the TTL of frames leaving r after the capture saw them (a mutation on the wire).
 */
function run(
  file: string,
  memo: boolean,
  rewrite = false,
  pcap = false,
  opts: { chunkSize?: number; slots?: number; slotSize?: number; outSize?: number; startAt?: number; primeChunks?: number } = {},
  snaplen?: number,
  points = false,
): { bytes: Buffer; hits: number; devs: NetDevice[] } {
  const sim = new Simulator(1);
  const a = new Namespace(sim, 'a');
  const r = new Namespace(sim, 'r');
  const b = new Namespace(sim, 'b');
  r.ipForwardEnabled = true;
  const ea = new NicDevice(sim, 'eth0', 0x020000000001);
  const ra = new NicDevice(sim, 'eth0', 0x020000000002);
  const [rb, eb] = VethDevice.pair(sim, 'veth-b', 0x020000000003, 'eth0', 0x020000000004);
  a.addDevice(ea);
  r.addDevice(ra);
  r.addDevice(rb);
  b.addDevice(eb);
  new Channel(sim, ea, ra, { rateBps: 1e9, delayNs: 50_000, queueLimit: 1000 });
  a.addAddress(ea, ip('10.1.1.1'), 24);
  r.addAddress(ra, ip('10.1.1.2'), 24);
  r.addAddress(rb, ip('10.1.2.1'), 24);
  b.addAddress(eb, ip('10.1.2.2'), 24);
  a.addRoute({ dst: ip('10.1.2.0'), prefix: 24, gateway: ip('10.1.1.2'), dev: ea });
  b.addRoute({ dst: ip('10.1.1.0'), prefix: 24, gateway: ip('10.1.2.1'), dev: eb });
  new UdpEchoServer(new UdpLayer(b), 9);
  const client = new UdpLayer(a).socket().connect(ip('10.1.2.2'), 9);
  const body = new Uint8Array(64).map((_, i) => i * 7 + 1);
  let sent = 0;
  const send = (): void => {
    client.send(sent % 3 === 0 ? body : 64);
    if (++sent < 300) sim.schedule(10_000, send);
  };
  sim.scheduleAt(1e6, send);
  const path = join(dir, file);
  if (pcap) mkdirSync(path);
  const w: CaptureWriter & { memoHits: number } = pcap ? new PcapWriter(path) : new PcapngWriter(path, opts);
  const devs: NetDevice[] = [ea, ra, rb, eb];
  const ids = new Map(devs.map((d) => [d, w.addInterface(`${d.qualifiedName}-${devs.indexOf(d)}`, snaplen !== undefined ? { snaplen } : {})]));
  for (const d of devs) {
    const id = ids.get(d)!;
    const peer = ids.get(wirePeer(d)!)!;
    // `points`: the writer's capture point on the device (as scenario/run.ts hangs them), else a tap subscriber.
    if (points) d.capture = w.point(id, sim, memo ? peer : LINK_NONE);
    else d.tap.connect((_d, pkt, dirn) => w.writePacketRecord(id, sim.now, pkt, !memo ? LINK_NONE : dirn === 'out' ? LINK_SAVE : peer));
  }
  if (rewrite)
    rb.tap.connect((_d, pkt, dirn) => {
      if (dirn === 'out' && pkt.ip !== null) pkt.ip.ttl = 1;
    });
  sim.run({ until: 2e9 });
  w.close();
  const bytes = w instanceof PcapWriter ? Buffer.concat(w.paths.map((f) => readFileSync(f))) : readFileSync(path);
  return { bytes, hits: w.memoHits, devs };
}

describe('frame memo (capture/frame-memo)', () => {
  it('wirePeer is the other end of a veth pair or a Channel, and null for a bridge', () => {
    const sim = new Simulator(1);
    const { devs } = run('peers.pcapng', false);
    expect(wirePeer(devs[0]!)).toBe(devs[1]);
    expect(wirePeer(devs[1]!)).toBe(devs[0]);
    expect(wirePeer(devs[2]!)).toBe(devs[3]);
    expect(wirePeer(devs[3]!)).toBe(devs[2]);
    expect(wirePeer(new BridgeDevice(sim, 'br0', 0x020000000009))).toBeNull();
    expect(wirePeer(new NicDevice(sim, 'eth9', 0x02000000000a))).toBeNull();
  });

  it('writes the same file with and without the memo, copying each arrival (pcapng and pcap)', () => {
    setCaptureVerify(true);
    // Full chunks from the start (no small first ones, whose ends would leave a few arrivals uncopied).
    const on = run('on.pcapng', true, false, false, { primeChunks: 0 });
    const off = run('off.pcapng', false);
    // 300 requests + 300 replies, each arriving at 2 captured peers, plus the ARP exchanges.
    expect(on.hits).toBeGreaterThanOrEqual(1200);
    expect(off.hits).toBe(0);
    expect(on.bytes.equals(off.bytes)).toBe(true);
    const pOn = run('on-pcap', true, false, true);
    const pOff = run('off-pcap', false, false, true);
    expect(pOn.hits).toBeGreaterThanOrEqual(1200);
    expect(pOn.bytes.equals(pOff.bytes)).toBe(true);
  });

  it('verify mode throws when a frame is rewritten between its departure and arrival captures', () => {
    // Without verify the memo would copy the departure's bytes (TTL as sent) where a fresh
    // serialization shows TTL 1: the two files differ, which is what verify exists to catch.
    const stale = run('stale.pcapng', true, true);
    const fresh = run('fresh.pcapng', false, true);
    expect(stale.bytes.equals(fresh.bytes)).toBe(false);
    setCaptureVerify(true);
    expect(() => run('verify.pcapng', true, true)).toThrow(/capture verify: packet \d+ arriving on .*eth0-3 differs/);
  });

  it('capture points on the devices write what writePacketRecord from tap subscribers writes (writer thread, small ring, synchronous, pcap), verify on', () => {
    setCaptureVerify(true);
    const ref = run('ref.pcapng', true, false, false, { primeChunks: 0 });
    const pts = run('points.pcapng', true, false, false, { primeChunks: 0 }, undefined, true);
    expect(pts.hits).toBe(ref.hits);
    expect(pts.hits).toBeGreaterThanOrEqual(1200);
    expect(pts.bytes.equals(ref.bytes)).toBe(true);
    // Chunks of 4 KiB with the thread started at once: some departures are handed over before their
    // arrival (written again, not copied), and the expander's 2 KiB output is written out between the two.
    const ring = { slots: 2, slotSize: 4096, outSize: 2048, startAt: 0 };
    const small = run('points-small.pcapng', true, false, false, ring, 60, true);
    const smallRef = run('points-small-ref.pcapng', false, false, false, { chunkSize: 4096 }, 60);
    expect(small.hits).toBeGreaterThan(0);
    expect(small.hits).toBeLessThan(pts.hits);
    expect(small.bytes.equals(smallRef.bytes)).toBe(true);
    const sync = run('points-sync.pcapng', true, false, false, { chunkSize: 4096 }, undefined, true);
    expect(sync.bytes.equals(ref.bytes)).toBe(true);
    const pcapPts = run('points-pcap', true, false, true, {}, undefined, true);
    const pcapRef = run('ref-pcap', false, false, true);
    expect(pcapPts.hits).toBeGreaterThanOrEqual(1200);
    expect(pcapPts.bytes.equals(pcapRef.bytes)).toBe(true);
  });

  it('verify mode throws through capture points too when a frame is rewritten on the wire', () => {
    const stale = run('stale-points.pcapng', true, true, false, {}, undefined, true);
    const fresh = run('fresh-points.pcapng', false, true, false, {}, undefined, true);
    expect(stale.bytes.equals(fresh.bytes)).toBe(false);
    setCaptureVerify(true);
    expect(() => run('verify-points.pcapng', true, true, false, {}, undefined, true)).toThrow(/capture verify: packet \d+ arriving on .*eth0-3 differs/);
  });

  it('PcapWriter ring: an entry overwritten (1 MiB of later departures) is serialized again; an entry is used once', () => {
    const memo = new FrameMemo();
    const pkt = udpFrame(53, new Uint8Array(100).fill(5));
    const bytes = serializeFrame(pkt);
    memo.save(pkt, 0, bytes, 0, bytes.length);
    const p = memo.ringOffset(memo.take(pkt, 0, bytes.length));
    expect(p).toBeGreaterThanOrEqual(0);
    expect(Buffer.from(memo.bytes.subarray(p, p + bytes.length)).equals(Buffer.from(bytes))).toBe(true);
    expect(memo.take(pkt, 0, bytes.length)).toBe(-1); // consumed
    memo.save(pkt, 0, bytes, 0, bytes.length);
    expect(memo.take(pkt, 1, bytes.length)).toBe(-1); // saved for another interface's peer
    memo.save(pkt, 0, bytes, 0, bytes.length);
    expect(memo.take(pkt, 0, bytes.length + 1)).toBe(-1); // the frame's length changed
    memo.save(pkt, 0, bytes, 0, bytes.length);
    const filler = new Packet();
    const big = new Uint8Array(4000);
    for (let i = 0; i < 300; i++) memo.save(filler, 1, big, 0, big.length); // 1.2 MB after it
    expect(memo.ringOffset(memo.take(pkt, 0, bytes.length))).toBe(-1);
    const other = new FrameMemo();
    memo.save(pkt, 0, bytes, 0, bytes.length);
    expect(other.take(pkt, 0, bytes.length)).toBe(-1); // another writer's entry
  });

  it('PcapngWriter: a departure whose chunk was written out before the arrival is serialized again (4 KiB chunks, snaplen cut)', () => {
    setCaptureVerify(true);
    const on = run('small-on.pcapng', true, false, false, { chunkSize: 4096 }, 60);
    const off = run('small-off.pcapng', false, false, false, { chunkSize: 4096 }, 60);
    expect(on.hits).toBeGreaterThan(0);
    expect(on.hits).toBeLessThan(1200);
    expect(on.bytes.equals(off.bytes)).toBe(true);
  });

  it('a scenario run copies the arrivals at captured wire peers (pod-to-pod: veth pairs and node NICs), verify on', () => {
    setCaptureVerify(true);
    const loaded = loadScenarioFile(join(import.meta.dirname, '../../scenarios/pod-to-pod.yaml'));
    const out = join(dir, 'scenario');
    const run = new ScenarioRun(buildWorld(loaded, 1), { outDir: out, format: 'pcapng', snaplen: loaded.scenario.spec.capture.snaplen });
    const stop = run.step()!;
    run.finish(stop, run.partial(stop));
    const w = (run as unknown as { writer: PcapngWriter }).writer;
    expect(w.packetCount).toBeGreaterThan(100);
    // 406 frames, 138 of them arrivals whose departure on the wire peer was captured (seed 1).
    expect(w.memoHits).toBeGreaterThan(w.packetCount / 5);
  });
});

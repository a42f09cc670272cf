// bench/micro — micro-benchmarks with the `benchmark` package: the scheduler (events/s through
// Simulator.run, with and without lazily cancelled events) and the codecs (ops/s of encode and decode
// of an IPv4 header, and of serializing and parsing a whole UDP frame).
// Usage: node dist/bench/micro.js   (after npm run build). Measures only; nothing is asserted.
import Benchmark from 'benchmark';
import { Simulator } from '../src/core/simulator.js';
import { ipTotalLength, udpLength } from '../src/packet/length.js';
import { Packet } from '../src/packet/packet.js';
import { parseFrame } from '../src/packet/parse.js';
import { serializeFrame } from '../src/packet/serialize.js';
import { decodeIpv4, encodeIpv4 } from '../src/wire/ipv4.js';
import { EtherType, IP_DF, IpProto, type Ipv4Header } from '../src/wire/types.js';

const EVENTS = 100_000;
const noop = (): void => {};

/** Schedules EVENTS events at pseudo-random times (a fixed LCG) and runs them. */
function schedulerRun(cancelEvery: number): void {
  const sim = new Simulator(1);
  let x = 12345;
  for (let i = 0; i < EVENTS; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const ev = sim.schedule(x % 1_000_000, noop);
    if (cancelEvery > 0 && i % cancelEvery === 0) ev.cancel();
  }
  sim.run();
}

/** A self-rescheduling chain: the shape of the datapath (one event schedules the next). */
function schedulerChain(): void {
  const sim = new Simulator(1);
  let n = 0;
  const tick = (): void => {
    if (++n < EVENTS) sim.schedule(10, tick);
  };
  // 64 concurrent chains, like 64 flows.
  for (let i = 0; i < 64; i++) sim.schedule(i, tick);
  sim.run();
}

function udpPacket(): Packet {
  const p = new Packet();
  p.eth = { dst: 0x020000000002, src: 0x020000000001, etherType: EtherType.IPv4 };
  p.ip = { tos: 0, totalLength: 0, id: 0x1234, flags: IP_DF, fragOffset: 0, ttl: 64, protocol: IpProto.UDP, checksum: null, src: 0x0a010101, dst: 0x0a010202, options: null };
  p.udp = { srcPort: 40000, dstPort: 9, length: 0, checksum: null };
  p.payloadLength = 64;
  p.udp.length = udpLength(p);
  p.ip.totalLength = ipTotalLength(p);
  return p;
}

const pkt = udpPacket();
const frameBuf = new Uint8Array(2048);
const frame = serializeFrame(pkt).slice();
const ipHdr: Ipv4Header = { ...pkt.ip! };
const hdrBuf = new Uint8Array(64);
encodeIpv4(ipHdr, hdrBuf, 0);
let sink = 0;

const suite = new Benchmark.Suite('podwire micro');
suite
  .add(`scheduler: ${EVENTS / 1000}k random-time events`, () => schedulerRun(0))
  .add(`scheduler: ${EVENTS / 1000}k events, 1 in 4 cancelled`, () => schedulerRun(4))
  .add(`scheduler: ${EVENTS / 1000}k events in 64 self-rescheduling chains`, schedulerChain)
  .add('codec: encodeIpv4 (20-byte header, checksum)', () => {
    ipHdr.checksum = null;
    sink += encodeIpv4(ipHdr, hdrBuf, 0);
  })
  .add('codec: decodeIpv4', () => {
    sink += decodeIpv4(hdrBuf, 0).bytesRead;
  })
  .add('codec: serializeFrame (106-byte UDP frame, both checksums)', () => {
    sink += serializeFrame(pkt, frameBuf).length;
  })
  .add('codec: parseFrame (106-byte UDP frame)', () => {
    sink += parseFrame(frame).payloadLength;
  })
  .on('cycle', (e: Benchmark.Event) => {
    const b = e.target as unknown as Benchmark;
    const hz = b.hz ?? 0;
    const name = b.name ?? '';
    const rme = b.stats?.rme ?? 0;
    if (name.startsWith('scheduler')) {
      process.stdout.write(`${name}: ${(hz * EVENTS / 1e6).toFixed(2)} M events/s (±${rme.toFixed(1)}%, ${b.stats?.sample.length ?? 0} samples)\n`);
    } else {
      process.stdout.write(`${name}: ${(hz / 1e6).toFixed(2)} M ops/s (±${rme.toFixed(1)}%, ${b.stats?.sample.length ?? 0} samples)\n`);
    }
  })
  .on('complete', () => {
    if (sink === -1) process.stdout.write('unreachable\n');
  })
  .run({ async: false });

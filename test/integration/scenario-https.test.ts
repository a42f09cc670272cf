// scenarios/https.yaml: HTTPS (TLS 1.3 modelled) from a pod through a ClusterIP Service on 443 and
// from a laptop through a NodePort (30443) to pods serving TLS on 8443. What tshark 4.0 makes of the
// capture, one interface at a time: zero malformed frames and zero TLS expert warnings; every TCP
// payload byte on a TLS port belongs to a record it recognised; the record lengths of each
// connection are the OpenSSL handshake's (external-flows-facts §d); SNI is the name the client used.
//
//   client (node1) --TLS--> 10.96.0.60:443 ==DNAT==> web-* :8443
//   laptop 10.100.11.100 --TLS--> 10.100.11.12:30443 ==DNAT+MASQ==> web-* :8443
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { hasTshark, NO_TSHARK, TSHARK, TSHARK_ARGS, tsharkFields } from '../helpers/tshark.js';
import { runScenarioFrames, type FramedRun } from './run-scenario.js';

const HAS_TSHARK = hasTshark();
const inTshark = HAS_TSHARK ? 'in tshark' : `in tshark — skipped: ${NO_TSHARK}`;
/** 443 is TLS in tshark's port table; the NodePort and the pods' port need a decode-as. */
const DECODE = ['-d', 'tcp.port==30443,tls', '-d', 'tcp.port==8443,tls'];
const TLS_PORTS = new Set(['443', '8443', '30443']);

/** Wireshark expert severity PI_WARN. */
const EXPERT_WARNING = 0x00600000;
const execFileP = promisify(execFile);

interface Row {
  no: string;
  malformed: string;
  severity: string;
  tls: string;
  analysis: string;
  flags: string;
  sport: string;
  dport: string;
  len: string;
  records: string;
  info: string;
}
const FIELDS = ['frame.number', '_ws.malformed', '_ws.expert.severity', 'tls', 'tcp.analysis.flags', 'tcp.flags', 'tcp.srcport', 'tcp.dstport', 'tcp.len', 'tls.record.length', '_ws.col.Info'];

/** Every frame of every interface file, with the fields the checks read. */
async function perInterface(files: Map<string, string>): Promise<Map<string, Row[]>> {
  const out = new Map<string, Row[]>();
  const todo = [...files];
  const lane = async () => {
    for (let job = todo.shift(); job; job = todo.shift()) {
      const [name, file] = job;
      const args = ['-r', file, ...TSHARK_ARGS, ...DECODE, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
      for (const f of FIELDS) args.push('-e', f);
      const { stdout } = await execFileP(TSHARK, args, { maxBuffer: 256 * 1024 * 1024 });
      const rows = stdout.split('\n').filter((l) => l !== '').map((l) => {
        const c = l.split('\t');
        return { no: c[0] ?? '', malformed: c[1] ?? '', severity: c[2] ?? '', tls: c[3] ?? '', analysis: c[4] ?? '', flags: c[5] ?? '', sport: c[6] ?? '', dport: c[7] ?? '', len: c[8] ?? '', records: c[9] ?? '', info: c[10] ?? '' };
      });
      out.set(name, rows);
    }
  };
  await Promise.all([lane(), lane()]);
  return out;
}

interface FlowDoc {
  name: string;
  requests: number;
  successes: number;
  errors: number;
}

describe('https.yaml: TLS 1.3 through a ClusterIP Service and a NodePort', () => {
  let r: FramedRun;
  let split: Map<string, string>;
  let flows: FlowDoc[];
  beforeAll(() => {
    r = runScenarioFrames('https');
    split = splitPcapngPerInterface(readFileSync(r.capturePath), r.dir);
    flows = (JSON.parse(r.statsJson) as { flows: FlowDoc[] }).flows;
  });
  afterAll(() => rmSync(r.dir, { recursive: true, force: true }));

  /** One tshark pass per interface (two at a time), shared by the tests below. */
  let passes: Promise<Map<string, Row[]>> | null = null;
  const tsharkPasses = () => (passes ??= perInterface(split));

  const clientIf = () => `${r.world.cluster!.pods.find((p) => p.name.startsWith('client-'))!.name}/eth0`;

  it('every request is answered over TLS', () => {
    expect(flows.map((f) => `${f.name} ${f.successes}/${f.requests} errors=${f.errors}`)).toEqual(['laptop-to-nodeport 5/5 errors=0', 'pod-to-service 6/6 errors=0']);
  });

  it.skipIf(!HAS_TSHARK)(`zero malformed frames and zero TLS expert warnings on every interface (${inTshark})`, async () => {
    const all = await tsharkPasses();
    const bad: string[] = [];
    for (const [name, rows] of all) {
      for (const x of rows) {
        const severe = x.severity.split(',').some((v) => v !== '' && Number(v) >= EXPERT_WARNING);
        if (x.malformed !== '' || (severe && x.tls !== '')) bad.push(`${name} frame ${x.no}: ${x.info}`);
        // TCP analysis too, except the bridged-DNAT SYN Linux also shows twice on cni0 (see scenarios-workloads).
        if (x.analysis !== '' && x.flags !== '0x0002') bad.push(`${name} frame ${x.no}: ${x.info}`);
      }
    }
    expect(bad).toEqual([]);
    expect(all.size).toBeGreaterThan(10);
  }, 300_000);

  it.skipIf(!HAS_TSHARK)(`every TCP payload byte on a TLS port is inside a record tshark recognised, on every interface (${inTshark})`, async () => {
    let checked = 0;
    for (const [name, rows] of await tsharkPasses()) {
      let payload = 0;
      let records = 0;
      for (const x of rows) {
        if (x.len === '' || x.len === '0' || (!TLS_PORTS.has(x.sport) && !TLS_PORTS.has(x.dport))) continue;
        expect(x.info, `${name}: ${x.info}`).not.toMatch(/Unknown|Continuation|Ignored|Fragment|reassembled/i);
        payload += Number(x.len);
        for (const n of x.records.split(',').filter((v) => v !== '')) records += 5 + Number(n);
      }
      expect(records, name).toBe(payload);
      if (payload > 0) checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  }, 300_000);

  it.skipIf(!HAS_TSHARK)(`the client's eth0 (port 443): each connection is the OpenSSL handshake, SNI "web", then one request (${inTshark})`, () => {
    const rows = tsharkFields(split.get(clientIf())!, ['tcp.stream', 'tcp.dstport', 'tls.record.length', 'tls.handshake.extensions_server_name', 'tls.handshake.type'], ['-Y', 'tls']);
    const streams = new Map<string, { up: number[]; down: number[]; sni: string[] }>();
    for (const [stream, dport, recs, sni] of rows) {
      let s = streams.get(stream!);
      if (!s) streams.set(stream!, (s = { up: [], down: [], sni: [] }));
      const lens = recs!.split(',').map(Number);
      (dport === '443' ? s.up : s.down).push(...lens);
      if (sni) s.sni.push(sni);
    }
    expect(streams.size).toBe(6);
    for (const s of streams.values()) {
      expect(s.sni).toEqual(['web']);
      // ClientHello 512; CCS; Finished 48 + 17; GET; close_notify 2 + 17.
      expect(s.up.length).toBe(5);
      expect(s.up.slice(0, 3)).toEqual([512, 1, 69]);
      expect(s.up[4]).toBe(19);
      // ServerHello 122, CCS, EncryptedExtensions 21 + 17, Certificate 899 + 904 chain, CertificateVerify
      // RSA-PSS, Finished, two tickets, the response (512-byte body + headers + 17), close_notify.
      expect(s.down.slice(0, 8)).toEqual([122, 1, 38, 1838, 281, 69, 282, 282]);
      expect(s.down[8]).toBeGreaterThan(512 + 17);
      expect(s.down.slice(9)).toEqual([19]);
    }
  });

  it.skipIf(!HAS_TSHARK)(`the laptop's eth0 (NodePort, decoded as TLS): one handshake with SNI shop.example.com carries all five requests (${inTshark})`, () => {
    const rows = tsharkFields(split.get('laptop/eth0')!, ['tcp.dstport', 'tls.record.length', 'tls.handshake.extensions_server_name', 'tls.record.version'], [...DECODE, '-Y', 'tls']);
    const up = rows.filter((x) => x[0] === '30443');
    expect(up.flatMap((x) => (x[2] ? [x[2]] : []))).toEqual(['shop.example.com']);
    expect(up[0]![3]).toBe('0x0301');
    const lens = up.flatMap((x) => x[1]!.split(',').map(Number));
    expect(lens.slice(0, 3)).toEqual([512, 1, 69]);
    expect(lens.length).toBe(3 + 5 + 1);
    expect(lens.at(-1)).toBe(19);
  });
});

// test/helpers/tshark — run tshark over capture files written by podwire and report what it thinks.
// Checksum validation is switched on for ip/udp/tcp (preference names checked against
// `tshark -G defaultprefs` on TShark 4.0: ip.check_checksum, udp.check_checksum, tcp.check_checksum;
// ICMP checksums are always verified, there is no preference). UDP port 8472 (Linux/flannel VXLAN)
// is decoded as VXLAN; 4789 is VXLAN by default.
//
// Method: one `-T fields` pass per file reading, per frame, every *.checksum.status (0 = bad,
// 1 = good, 2 = unverified; several comma-separated values when a protocol occurs twice, as in a
// VXLAN frame or an ICMP error's quote), `_ws.malformed`, and expert info (severity, group, message).
// A frame is malformed when `_ws.malformed` is present or it has an expert item in the Malformed
// group; it has a bad checksum when any checksum status is 0 or it has an expert item in the
// Checksum group. test/capture/tshark.test.ts corrupts a checksum on purpose to prove this catches it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Path to the tshark binary. */
export const TSHARK = existsSync('/usr/bin/tshark') ? '/usr/bin/tshark' : 'tshark';

/** Preferences and decode-as rules every check uses. */
export const TSHARK_ARGS = [
  '-n',
  '-o', 'ip.check_checksum:TRUE',
  '-o', 'udp.check_checksum:TRUE',
  '-o', 'tcp.check_checksum:TRUE',
  '-d', 'udp.port==8472,vxlan',
] as const;

/** Wireshark expert groups (epan/proto.h PI_*). */
export const ExpertGroup = { CHECKSUM: 0x01000000, MALFORMED: 0x07000000 } as const;
/** Wireshark expert severity PI_ERROR. */
export const EXPERT_ERROR = 0x00800000;

let cached: boolean | null = null;

/** True when tshark can be run here. */
export function hasTshark(): boolean {
  if (cached === null) {
    const r = spawnSync(TSHARK, ['-v'], { encoding: 'utf8' });
    cached = r.status === 0;
  }
  return cached;
}

function run(args: string[]): string {
  const r = spawnSync(TSHARK, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Per-frame field values from `tshark -T fields`: one row per frame, one string per field (repeats joined by ','). */
export function tsharkFields(pcapPath: string, fields: string[], extraArgs: string[] = []): string[][] {
  const args = ['-r', pcapPath, ...TSHARK_ARGS, ...extraArgs, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  const out = run(args);
  const rows: string[][] = [];
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const cols = line.split('\t');
    while (cols.length < fields.length) cols.push('');
    rows.push(cols);
  }
  return rows;
}

/** Like tsharkFields, but each frame as an object keyed by field name. */
export function tsharkRecords(pcapPath: string, fields: string[], extraArgs: string[] = []): Record<string, string>[] {
  return tsharkFields(pcapPath, fields, extraArgs).map((row) => Object.fromEntries(fields.map((f, i) => [f, row[i] ?? ''])));
}

/** What tshark found wrong in a file. */
export interface TsharkReport {
  frames: number;
  /** Frames tshark marks malformed. */
  malformed: number;
  /** Frames with at least one bad checksum. */
  badChecksums: number;
  malformedFrames: number[];
  badChecksumFrames: number[];
  /** Every expert item of severity error, as "frame N: message". */
  errors: string[];
}

const CHECK_FIELDS = [
  'frame.number',
  'ip.checksum.status',
  'udp.checksum.status',
  'tcp.checksum.status',
  'icmp.checksum.status',
  '_ws.malformed',
  '_ws.expert.severity',
  '_ws.expert.group',
  '_ws.expert.message',
];

/** Runs tshark over a capture with checksum validation on; returns counts of malformed frames and bad checksums. */
export function tsharkCheck(pcapPath: string, extraArgs: string[] = []): TsharkReport {
  // Expert messages may contain ','; use a separator that does not occur in them.
  const args = ['-r', pcapPath, ...TSHARK_ARGS, ...extraArgs, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=\u001f'];
  for (const f of CHECK_FIELDS) args.push('-e', f);
  const out = run(args);
  const report: TsharkReport = { frames: 0, malformed: 0, badChecksums: 0, malformedFrames: [], badChecksumFrames: [], errors: [] };
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const c = line.split('\t');
    const frame = Number(c[0]);
    report.frames++;
    let bad = false;
    for (let i = 1; i <= 4; i++) if ((c[i] ?? '').split('\u001f').includes('0')) bad = true;
    let malformed = (c[5] ?? '') !== '';
    const sev = (c[6] ?? '').split('\u001f');
    const grp = (c[7] ?? '').split('\u001f');
    const msg = (c[8] ?? '').split('\u001f');
    for (let i = 0; i < grp.length; i++) {
      const g = Number(grp[i]);
      if (g === ExpertGroup.MALFORMED) malformed = true;
      if (g === ExpertGroup.CHECKSUM && Number(sev[i]) >= EXPERT_ERROR) bad = true;
      if (Number(sev[i]) >= EXPERT_ERROR) report.errors.push(`frame ${frame}: ${msg[i] ?? ''}`);
    }
    if (malformed) {
      report.malformed++;
      report.malformedFrames.push(frame);
    }
    if (bad) {
      report.badChecksums++;
      report.badChecksumFrames.push(frame);
    }
  }
  return report;
}

/** Reason string for it.skipIf when tshark is missing. */
export const NO_TSHARK = 'tshark not installed (apt-get install tshark)';

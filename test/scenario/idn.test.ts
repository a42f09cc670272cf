// Non-ASCII DNS names (session 49's audit): they went on the wire as one octet per UTF-16 unit
// (ü as 0xfc, 中 as 0x2d "-"). A name the user writes — a dns lookup, an http URL's host, a tcp
// NAME:PORT, a zone's record names and CNAME targets, an external host's dnsRecords — is now converted
// at load time to its IDNA xn-- form, as curl (libidn2), browsers, Python and Node do before resolving
// (CoreDNS and zone files hold that form); a name IDNA refuses is an error at its field. A name that
// reaches the wire otherwise goes as UTF-8, as glibc sends a name passed without AI_IDN.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError, ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { nameToLabels } from '../../src/wire/dns.js';

const ROOT = join(import.meta.dirname, '../..');

/** scenarios/external-users.yaml with a zone record bücher (a CNAME), an http flow to http://Bücher.mydomain.com and a lookup of bücher. */
function idnScenario(lookup = 'bücher.mydomain.com'): string {
  return readFileSync(join(ROOT, 'scenarios/external-users.yaml'), 'utf8')
    .replace('          - { name: www, type: CNAME, value: app, ttl: 60 }', '          - { name: www, type: CNAME, value: app, ttl: 60 }\n          - { name: bücher, type: CNAME, value: app, ttl: 60 }')
    .replace(/  traffic:\n(    - .*\n)+/, `  traffic:\n    - { name: idn-http, type: http, from: host/user1, to: "http://Bücher.mydomain.com:32001/", count: 1, start: 2s }\n    - { name: idn-dns, type: dns, from: host/user2, lookup: "${lookup}", count: 1, start: 3s }\n`);
}

describe('IDNA at load time', () => {
  it('a lookup, a URL host and zone records with non-ASCII characters are looked up and served as their xn-- form', () => {
    const loaded = loadScenarioText(idnScenario(), 'idn.yaml');
    const spec = loaded.scenario.spec;
    expect(spec.traffic[1]).toMatchObject({ type: 'dns', lookup: 'xn--bcher-kva.mydomain.com' });
    expect(spec.dns!.zones[0]!.records.map((r) => r.name)).toEqual(['app', 'www', 'xn--bcher-kva']);
    const w = buildWorld(loaded, 3);
    w.sim.run({ until: 5e9 });
    expect(w.flows.map((f) => `${f.name} ${f.counts.sent}/${f.counts.received} err ${f.counts.errors}`)).toEqual(['idn-http 1/1 err 0', 'idn-dns 1/1 err 0']);
  });

  it('an ASCII name is left as written (its case too): outputs of existing scenarios do not change', () => {
    expect(loadScenarioText(idnScenario('App.MyDomain.com'), 'idn.yaml').scenario.spec.traffic[1]).toMatchObject({ lookup: 'App.MyDomain.com' });
  });

  it('a name IDNA refuses is one error at its field', () => {
    let lines: string[] = [];
    try {
      buildWorld(loadScenarioText(idnScenario('ab\u202e.example'), 'idn.yaml'), 3);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      lines = e.errors.map(formatUserError);
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^idn\.yaml:\d+:\d+: spec\.traffic\[1\]\.lookup: "ab\\u202e\.example" is not a valid internationalized domain name \(IDNA: write it as its xn-- form\)$/);
  });
});

describe('wire: a non-ASCII name that reaches a query', () => {
  it('goes as UTF-8 octets, not one truncated octet per UTF-16 unit', () => {
    expect(nameToLabels('bü.x').map((l) => [...l])).toEqual([[0x62, 0xc3, 0xbc], [0x78]]);
    expect(nameToLabels('中.x').map((l) => [...l])).toEqual([[0xe4, 0xb8, 0xad], [0x78]]);
    expect(nameToLabels('😀').map((l) => [...l])).toEqual([[0xf0, 0x9f, 0x98, 0x80]]);
    expect(nameToLabels('a\\.b.c').map((l) => l.length)).toEqual([3, 1]);
  });
});

// Wrong types and missing parts in a user's file (session 49's audit): each is one line naming
// file:line:col, the field and what was expected — not zod's "Invalid input: expected object, received
// undefined", and not "missing" for a kind that is there but is not a string.
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, MAX_FILE_BYTES } from '../../src/scenario/load.js';
import { formatUserError, ScenarioError } from '../../src/scenario/errors.js';
import { problems } from './problems.js';


const HEAD = 'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: t }\nspec:\n  cluster:\n    nodes: [{ name: node1 }]\n';

describe('kind and apiVersion', () => {
  it('a kind that is not a string says so, with its type; a missing or empty one says missing', () => {
    expect(problems(`${HEAD}---\napiVersion: v1\nkind: [a]\nmetadata: { name: x }\n`)).toEqual(['bad.yaml:9:7: kind: expected a string (Scenario, Pod, Service, ...), got a list']);
    expect(problems(`${HEAD}---\napiVersion: v1\nkind: { a: 1 }\n`)).toEqual(['bad.yaml:9:7: kind: expected a string (Scenario, Pod, Service, ...), got a mapping']);
    expect(problems(`${HEAD}---\napiVersion: v1\nkind: 7\n`)).toEqual(['bad.yaml:9:7: kind: expected a string (Scenario, Pod, Service, ...), got a number']);
    expect(problems(`${HEAD}---\napiVersion: v1\nkind: ""\n`)).toEqual(['bad.yaml:9:7: kind: missing: every document needs a kind (Scenario, Pod, Service, ...)']);
    expect(problems(`${HEAD}---\napiVersion: v1\nmetadata: { name: x }\n`)).toEqual(['bad.yaml:8:1: kind: missing: every document needs a kind (Scenario, Pod, Service, ...)']);
  });

  it('an apiVersion that is not a string says so (it was read as its text: [v1] became "v1")', () => {
    expect(problems(`${HEAD}---\napiVersion: [v1]\nkind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: c, image: x }] }\n`)).toEqual(['bad.yaml:8:13: apiVersion: expected a string (v1, apps/v1, ...), got a list']);
  });
});

describe('a manifest missing metadata or spec, or with a part of the wrong type', () => {
  it('names the field and what it needs, at the object', () => {
    expect(problems(`${HEAD}---\napiVersion: v1\nkind: Service\nspec: { selector: { app: a }, ports: [{ port: 80 }] }\n`)).toEqual(['bad.yaml:8:1: metadata: missing: expected a mapping']);
    expect(problems(`${HEAD}---\napiVersion: v1\nkind: Pod\nmetadata: { name: p }\n`)).toEqual(['bad.yaml:8:1: spec: missing: expected a mapping']);
    expect(problems(`${HEAD}---\napiVersion: v1\nkind: Pod\nmetadata: { labels: { a: b } }\nspec: { containers: [{ name: c, image: x }] }\n`)).toEqual(['bad.yaml:10:11: metadata.name: missing: expected a string']);
    expect(problems(`${HEAD}---\napiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: { containers: { name: c } }\n`)).toEqual(['bad.yaml:11:21: spec.containers: expected a list, got a mapping']);
    expect(problems(`${HEAD}---\napiVersion: v1\nkind: Pod\nmetadata: [p]\nspec: { containers: [{ name: c, image: x }] }\n`)).toEqual(['bad.yaml:10:11: metadata: expected a mapping, got a list']);
  });

  it('a value out of range or not among the allowed ones quotes it', () => {
    expect(problems(`${HEAD}---\napiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: c, image: x, ports: [{ containerPort: 0 }] }] }\n`)).toEqual(['bad.yaml:11:68: spec.containers[0].ports[0].containerPort: at least 1, got 0']);
    expect(problems(`${HEAD}  traffic: [{ type: pingg, from: node1, to: node1 }]\n`)[0]).toMatch(/^bad\.yaml:7:21: spec\.traffic\[0\]\.type: expected one of "ping", .*got "pingg"$/);
  });

  // "expected a number, got a number" (1e400 is Infinity) and a bare "Invalid input" (a union refusing a list).
  it('an infinite number and a value no alternative of a union takes say what was expected', () => {
    const HOSTLESS = 'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: t }\nspec:\n';
    expect(problems(`${HOSTLESS}  seed: 1e400\n`)).toEqual(['bad.yaml:5:9: spec.seed: expected a finite number, got infinity (a number past the largest double)']);
    expect(problems(`${HOSTLESS}  duration: [1]\n`)).toEqual(['bad.yaml:5:13: spec.duration: expected a number or a string, got a list']);
    expect(problems(`${HOSTLESS}  duration: .inf\n`)).toEqual(['bad.yaml:5:13: spec.duration: expected a finite number or a string, got infinity (a number past the largest double)']);
    expect(problems(`${HOSTLESS}  hosts: [{ name: h1, interfaces: [{ name: eth0, address: 10.0.0.1/24, mtu: 99999999999 }] }]\n`)).toEqual(['bad.yaml:5:77: spec.hosts[0].interfaces[0].mtu: at most 65535, got 99999999999']);
  });

  it('a count past the largest safe integer names the bound, as the other numbers do (was "Too big: expected int to be <=…")', () => {
    const HOSTLESS = 'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: t }\nspec:\n';
    expect(problems(`${HOSTLESS}  hosts: [{ name: h1 }]\n  traffic: [{ type: ping, from: h1, to: 10.0.0.1, count: 99999999999999999999 }]\n`)).toEqual(['bad.yaml:6:58: spec.traffic[0].count: at most 9007199254740991, got 100000000000000000000']);
  });
});

describe('the file itself', () => {
  const fileProblems = (f: string): string[] => {
    try {
      loadScenarioFile(f);
      return ['ok'];
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      return e.errors.map(formatUserError);
    }
  };
  it('a directory says so (was "EISDIR: illegal operation on a directory, read")', () => {
    expect(fileProblems(tmpdir())).toEqual([`${tmpdir()}:1:1: is a directory, not a scenario file`]);
  });
  // readFileSync('/dev/zero') grew until Node failed (ERR_FS_FILE_TOO_LARGE past 2 GiB, or out of memory first).
  it('a file without end (/dev/zero) stops at the size limit with one line', () => {
    expect(fileProblems('/dev/zero')).toEqual([`/dev/zero:1:1: cannot read: larger than ${MAX_FILE_BYTES / 1024 ** 2} MiB, the most podwire reads of a scenario file`]);
  });
});

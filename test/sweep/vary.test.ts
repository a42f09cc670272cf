// sweep/vary and sweep/plan: paths address the Scenario or a manifest, values keep strings strings,
// the variants are the product of the flags, named variants come from a file with positioned errors,
// and each variant's text validates through the scenario loader.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.js';
import { expandVariants, loadVariantsFile, parseSeeds, planVariants } from '../../src/sweep/plan.js';
import { applyAssignments, parseVaryFlag, parseVaryPath, SweepInputError } from '../../src/sweep/vary.js';

const FILE = join(import.meta.dirname, '../../experiments/random-vs-rr.yaml');
const TEXT = readFileSync(FILE, 'utf8');

function docs(text: string): Record<string, any>[] {
  return parseAllDocuments(text).map((d: any) => d.toJS());
}
const apply = (flag: string, i = 0): string => {
  const f = parseVaryFlag(flag);
  return applyAssignments(TEXT, [{ path: f.path, raw: f.values[i]! }]);
};

describe('paths', () => {
  it('parses dotted keys, indexes, names, bracketed keys and a Kind/name: prefix', () => {
    expect(parseVaryPath('spec.traffic[0].rate').segments).toEqual(['spec', 'traffic', 0, 'rate']);
    expect(parseVaryPath('spec.traffic[name=client-to-web].rate').segments).toEqual(['spec', 'traffic', { name: 'client-to-web' }, 'rate']);
    const p = parseVaryPath('Deployment/web:spec.template.metadata.annotations["podwire.dev/service-time"]');
    expect(p.target).toEqual({ kind: 'Deployment', name: 'web' });
    expect(p.segments).toEqual(['spec', 'template', 'metadata', 'annotations', 'podwire.dev/service-time']);
    expect(() => parseVaryPath('spec..x')).toThrow(SweepInputError);
    expect(() => parseVaryPath('spec[0')).toThrow(/without/);
  });
  it('splits values on commas, keeps escaped ones, refuses a flag without =', () => {
    expect(parseVaryFlag('Deployment/web:spec.template.metadata.annotations[podwire.dev/service-time]=uniform:1ms\\,3ms,constant:2ms').values).toEqual(['uniform:1ms,3ms', 'constant:2ms']);
    expect(parseVaryFlag('spec.traffic[name=a].rate=1,2').path.text).toBe('spec.traffic[name=a].rate');
    expect(() => parseVaryFlag('spec.cluster.kubeProxy.mode')).toThrow(/PATH=V1,V2/);
    expect(() => parseVaryFlag('spec.x=a,a')).toThrow(/repeated/);
  });
});

describe('applying a variant', () => {
  it('sets a Scenario field, creating missing maps', () => {
    expect(docs(apply('spec.cluster.kubeProxy.mode=ipvs'))[0]!.spec.cluster.kubeProxy).toEqual({ mode: 'ipvs', scheduler: 'rr' });
    expect(docs(apply('spec.cluster.dns.replicas=2'))[0]!.spec.cluster.dns).toEqual({ replicas: 2 });
  });
  it('sets a manifest field by Kind/name, a number as a number, a string annotation as a string', () => {
    const d = docs(apply('Deployment/web:spec.replicas=5'));
    expect(d.find((x) => x.metadata?.name === 'web' && x.kind === 'Deployment')!.spec.replicas).toBe(5);
    const a = docs(apply('Deployment/web:spec.template.metadata.annotations[podwire.dev/workers]=4'));
    expect(a.find((x) => x.kind === 'Deployment' && x.metadata.name === 'web')!.spec.template.metadata.annotations['podwire.dev/workers']).toBe('4');
    expect(docs(apply('spec.traffic[name=client-to-web].rate=120'))[0]!.spec.traffic[0].rate).toBe(120);
  });
  it('leaves the other documents as they were and the text untouched without assignments', () => {
    const before = docs(TEXT);
    const after = docs(apply('Service/web:spec.clusterIP=10.96.0.60'));
    expect(after.length).toBe(before.length);
    expect(after[0]).toEqual(before[0]);
    expect(after[3]!.spec.clusterIP).toBe('10.96.0.60');
    expect(applyAssignments(TEXT, [])).toBe(TEXT);
  });
  it('names a missing document or element', () => {
    expect(() => apply('Deployment/nope:spec.replicas=2')).toThrow('the file has no Deployment named "nope"');
    expect(() => apply('spec.traffic[name=zzz].rate=2')).toThrow('no element named "zzz"');
  });
});

describe('plans', () => {
  it('the variants are the product of the flags, labelled by the last key', () => {
    const v = expandVariants([], [parseVaryFlag('spec.cluster.kubeProxy.mode=iptables,ipvs'), parseVaryFlag('spec.cluster.kubeProxy.scheduler=rr,lc')]);
    expect(v.map((x) => x.name)).toEqual(['mode=iptables,scheduler=rr', 'mode=iptables,scheduler=lc', 'mode=ipvs,scheduler=rr', 'mode=ipvs,scheduler=lc']);
  });
  it('a variant that does not validate is refused at its field with the variant named', () => {
    try {
      planVariants(FILE, TEXT, [], [parseVaryFlag('spec.cluster.kubeProxy.mode=iptables,bogus')]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      const err = (e as ScenarioError).errors[0]!;
      expect(err.field).toBe('spec.cluster.kubeProxy.mode');
      expect(err.line).toBeGreaterThan(1);
      expect(err.message).toMatch(/\(variant mode=bogus\)$/);
    }
  });
  it('named variants from a file, and errors in it at file:line:col', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podwire-variants-'));
    const f = join(dir, 'v.yaml');
    writeFileSync(f, 'variants:\n  - name: random\n    set: { spec.cluster.kubeProxy.mode: iptables }\n  - name: ipvs-lc\n    set:\n      spec.cluster.kubeProxy.mode: ipvs\n      spec.cluster.kubeProxy.scheduler: lc\n');
    const named = loadVariantsFile(f);
    const vs = planVariants(FILE, TEXT, named, [parseVaryFlag('Deployment/web:spec.replicas=2,3')]);
    expect(vs.map((v) => v.name)).toEqual(['random,replicas=2', 'random,replicas=3', 'ipvs-lc,replicas=2', 'ipvs-lc,replicas=3']);
    expect(docs(vs[2]!.text)[0]!.spec.cluster.kubeProxy).toEqual({ mode: 'ipvs', scheduler: 'lc' });
    writeFileSync(f, 'variants:\n  - name: a\n    set: { spec.x: 1 }\n  - name: a\n    set: {}\n');
    expect(() => loadVariantsFile(f)).toThrow(ScenarioError);
    try {
      loadVariantsFile(f);
    } catch (e) {
      expect((e as ScenarioError).errors[0]).toMatchObject({ line: 4, col: 11, field: 'variants[1].name' });
    }
  });
  describe('a variant that does not validate, at its place in the user\'s files', () => {
    const lineOf = (text: string, needle: string): number => text.slice(0, text.indexOf(needle)).split('\n').length;
    const problem = (named: string, flags: string[] = []): unknown => {
      const f = join(mkdtempSync(join(tmpdir(), 'podwire-variants-')), 'v.yaml');
      writeFileSync(f, named);
      try {
        planVariants(FILE, TEXT, loadVariantsFile(f), flags.map(parseVaryFlag));
      } catch (e) {
        if (!(e instanceof ScenarioError)) throw e;
        return e.errors.map((err) => ({ ...err, file: err.file === f ? 'v.yaml' : err.file === FILE ? 'scenario' : err.file }));
      }
      return [];
    };
    it('a value a variants file set: at that value there', () => {
      expect(problem('variants:\n  - name: a\n    set:\n      spec.traffic[0].rate: -3\n')).toEqual([{ file: 'v.yaml', line: 4, col: 29, field: 'spec.traffic[0].rate', message: 'above 0, got -3 (variant a)' }]);
    });
    it('a map a variants file set: at the part of it at fault, flow or block', () => {
      expect(problem('variants:\n  - name: a\n    set: { spec.cluster.kubeProxy: { mode: ipvs, scheduler: zz } }\n')).toEqual([expect.objectContaining({ file: 'v.yaml', line: 3, col: 61, field: 'spec.cluster.kubeProxy.scheduler' })]);
      expect(problem('variants:\n  - name: a\n    set:\n      spec.cluster.kubeProxy:\n        mode: ipvs\n        scheduler: zz\n')).toEqual([expect.objectContaining({ file: 'v.yaml', line: 6, col: 20, field: 'spec.cluster.kubeProxy.scheduler' })]);
    });
    it('a PATH the scenario does not have: at the PATH, exit 1 (not a flag error)', () => {
      expect(problem('variants:\n  - name: a\n    set:\n      Deployment/nope:spec.replicas: 3\n')).toEqual([{ file: 'v.yaml', line: 4, col: 7, field: 'variants[0].set', message: 'path "Deployment/nope:spec.replicas": the file has no Deployment named "nope" (variant a)' }]);
    });
    it("a flag's value: at the field in the scenario file, even where the variant's text has other lines", () => {
      // The block map set here prints as three lines where the file has one: the variant's lines below it move.
      const errs = problem('variants:\n  - name: a\n    set:\n      spec.cluster.kubeProxy: { mode: ipvs, scheduler: rr }\n', ['spec.traffic[0].rate=-1']);
      const rate = lineOf(TEXT, '      rate: 60');
      expect(errs).toEqual([{ file: 'scenario', line: rate, col: TEXT.split('\n')[rate - 1]!.indexOf('60') + 1, field: 'spec.traffic[0].rate', message: 'above 0, got -1 (variant a,rate=-1)' }]);
    });
    it('a flag under a map a variants file set reaches into it', () => {
      expect(problem('variants:\n  - name: a\n    set: { spec.cluster.kubeProxy: { mode: ipvs } }\n', ['spec.cluster.kubeProxy.scheduler=lc'])).toEqual([]);
    });
  });
  it('parses seeds', () => {
    expect(parseSeeds('1..3')).toEqual([1, 2, 3]);
    expect(parseSeeds('7')).toEqual([7]);
    expect(parseSeeds('1,4,9')).toEqual([1, 4, 9]);
    expect(() => parseSeeds('3..1')).toThrow(/bad range/);
    expect(() => parseSeeds('1..3,2')).toThrow(/repeated/);
    expect(() => parseSeeds('x')).toThrow(/--seeds/);
  });
});

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicFile, tempPathFor, writeFileAtomic } from '../../src/capture/atomic.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('atomic', () => {
  it('writeFileAtomic writes the whole file and leaves no temp file', () => {
    const p = join(dir, 'sub', 'a.txt');
    writeFileAtomic(p, 'hello');
    expect(readFileSync(p, 'utf8')).toBe('hello');
    writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(p)]).toEqual([1, 2, 3]);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['a.txt']);
  });
  it('the target is absent until commit, and abort leaves it absent', () => {
    const p = join(dir, 'b.bin');
    const f = new AtomicFile(p);
    f.write(new Uint8Array(10));
    expect(existsSync(p)).toBe(false);
    expect(existsSync(tempPathFor(p))).toBe(true);
    expect(tempPathFor(p)).toBe(`${p}.tmp-${process.pid}`);
    f.abort();
    expect(existsSync(p)).toBe(false);
    expect(existsSync(tempPathFor(p))).toBe(false);
  });
  it('abort keeps an older complete file', () => {
    const p = join(dir, 'c.bin');
    writeFileAtomic(p, 'old');
    const f = new AtomicFile(p);
    f.write(new Uint8Array([9]));
    f.abort();
    expect(readFileSync(p, 'utf8')).toBe('old');
  });
});

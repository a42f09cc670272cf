// capture/atomic — whole-or-absent file writes. Layer: capture (imports core, wire, packet; here only
// node:fs / node:path). A file is written to `FILE.tmp-<pid>` and renamed over FILE when complete, so a
// reader (or a crash) never sees a half-written capture or report. rename(2) is atomic within a
// filesystem; the temporary file sits next to the target for that reason.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * mkdir -p: creates `dir` and missing parents. Written out rather than `mkdirSync(…, { recursive })`,
 * which never returns on some paths (Node 20 loops on ENOENT under /proc); errors keep their errno
 * code and path so the CLI can name the cause.
 */
export function ensureDir(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      if (statSync(d).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR', path: d });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) throw e;
      missing.push(d);
    }
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]!);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** An errno error from a write on a descriptor carries no path: give it the target's, for messages. */
function withPath(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === 'string' && err.path === undefined) err.path = path;
  return e;
}

/** Temporary path used while FILE is being written. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Writes `data` to `path`'s temp file and finishes it (fsync, close); publish() renames it into place. */
export function writeFileFinished(path: string, data: Uint8Array | string): AtomicFile {
  const f = new AtomicFile(path);
  try {
    f.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    f.finish();
  } catch (e) {
    f.abort();
    throw e;
  }
  return f;
}

/** Writes `data` to `path` atomically (temp file, fsync, rename); creates the parent directory. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const f = new AtomicFile(path);
  try {
    f.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    f.commit();
  } catch (e) {
    f.abort();
    throw e;
  }
}

/** A file written incrementally to its temp path and renamed into place on commit(). */
export class AtomicFile {
  readonly path: string;
  readonly tempPath: string;
  private fd: number;
  private done = false;
  /** Bytes written so far. */
  bytesWritten = 0;

  constructor(path: string) {
    this.path = path;
    this.tempPath = tempPathFor(path);
    ensureDir(dirname(path));
    this.fd = openSync(this.tempPath, 'w');
  }

  /** Appends bytes to the temp file (synchronously, all of them). */
  write(data: Uint8Array): void {
    if (this.done) throw new Error(`${this.path}: write after commit/abort`);
    let off = 0;
    try {
      while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    } catch (e) {
      throw withPath(e, this.path);
    }
    this.bytesWritten += data.length;
  }

  private closed = false;

  /** Flushes to disk and renames the temp file over the target. */
  commit(): void {
    this.finish();
    this.publish();
  }

  /**
   * First half of commit: fsync and close the temp file, so everything that can fail for lack of space
   * has failed; publish() then only renames. Several files finished first and published together appear
   * together (a rename needs no space).
   */
  finish(): void {
    if (this.closed) return;
    if (this.done) throw new Error(`${this.path}: finish after abort`);
    this.closed = true;
    try {
      fsyncSync(this.fd);
    } catch (e) {
      throw withPath(e, this.path);
    } finally {
      closeSync(this.fd);
    }
  }

  /** Second half of commit: renames the finished temp file over the target. */
  publish(): void {
    if (this.done) return;
    this.finish();
    this.done = true;
    renameSync(this.tempPath, this.path);
  }

  /** Closes and removes the temp file; the target is left untouched. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    try {
      if (!this.closed) closeSync(this.fd);
    } finally {
      this.closed = true;
      rmSync(this.tempPath, { force: true });
    }
  }
}

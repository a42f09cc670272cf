// capture/atomic — whole-or-absent file writes. Layer: capture (imports core, wire, packet; here only
// node:fs / node:path). A file is written to `FILE.tmp-<pid>` and renamed over FILE when complete, so a
// reader (or a crash) never sees a half-written capture or report. rename(2) is atomic within a
// filesystem; the temporary file sits next to the target for that reason.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Temporary path used while FILE is being written. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}`;
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
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(this.tempPath, 'w');
  }

  /** Appends bytes to the temp file (synchronously, all of them). */
  write(data: Uint8Array): void {
    if (this.done) throw new Error(`${this.path}: write after commit/abort`);
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    this.bytesWritten += data.length;
  }

  /** Flushes to disk and renames the temp file over the target. */
  commit(): void {
    if (this.done) return;
    this.done = true;
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tempPath, this.path);
  }

  /** Closes and removes the temp file; the target is left untouched. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    try {
      closeSync(this.fd);
    } finally {
      rmSync(this.tempPath, { force: true });
    }
  }
}

import { dirname } from 'node:path';
import type { FileIO } from './io.ts';

/**
 * FileIO wrappers for fault tests (also usable by broker-level fault runs).
 *
 * `faultyIO` fails data writes on demand (ENOSPC, EIO), optionally after a
 * partial write, as a full disk does.
 *
 * `PowerLossIO` models what survives a power cut: for each file, only the
 * bytes present at its last fsync; a create or rename is durable only after
 * its directory was fsynced (otherwise it is undone). `dropUnsynced()` applies
 * that to the real files, after which a fresh engine opens them as a machine
 * would after reboot. Unlinks are treated as durable at once (optimistic).
 */
/** Return an errno code to fail this write, or null to let it through. */
export type WriteFault = (
  path: string,
  length: number,
  position: number,
) => { code: string; partial?: number } | null;

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: injected fault`), { code });
}

export function faultyIO(
  base: FileIO,
  fault: { write?: WriteFault; fsync?: (path: string) => string | null },
): FileIO {
  const paths = new Map<number, string>();
  return {
    ...base,
    open(p, flags) {
      const fd = base.open(p, flags);
      paths.set(fd, p);
      return fd;
    },
    close(fd) {
      paths.delete(fd);
      base.close(fd);
    },
    write(fd, buf, position) {
      const f = fault.write?.(paths.get(fd) ?? '?', buf.length, position) ?? null;
      if (f) {
        if (f.partial && f.partial > 0)
          base.write(fd, buf.subarray(0, Math.min(f.partial, buf.length)), position);
        throw errno(f.code);
      }
      base.write(fd, buf, position);
    },
    async fsync(fd) {
      const code = fault.fsync?.(paths.get(fd) ?? '?') ?? null;
      if (code) throw errno(code);
      return base.fsync(fd);
    },
  };
}

interface Tracked {
  synced: number;
}

export class PowerLossIO implements FileIO {
  private readonly base: FileIO;
  private readonly fdPaths = new Map<number, string>();
  private readonly files = new Map<string, Tracked>();
  /** Directory operations not yet made durable by an fsync of the directory. */
  private readonly journal = new Map<
    string,
    ({ op: 'create'; path: string } | { op: 'rename'; from: string; to: string })[]
  >();
  fsyncCount = 0;

  constructor(base: FileIO) {
    this.base = base;
  }

  private track(p: string): Tracked {
    let t = this.files.get(p);
    if (!t) {
      t = { synced: Math.max(0, this.base.statSize(p)) };
      this.files.set(p, t);
    }
    return t;
  }

  private log(
    dir: string,
    e: { op: 'create'; path: string } | { op: 'rename'; from: string; to: string },
  ): void {
    let j = this.journal.get(dir);
    if (!j) {
      j = [];
      this.journal.set(dir, j);
    }
    j.push(e);
  }

  open(p: string, flags: string): number {
    const existed = this.base.exists(p);
    const fd = this.base.open(p, flags);
    this.fdPaths.set(fd, p);
    if (!existed) {
      this.files.set(p, { synced: 0 });
      this.log(dirname(p), { op: 'create', path: p });
    } else {
      const t = this.track(p);
      if (flags.startsWith('w')) t.synced = 0;
    }
    return fd;
  }
  close(fd: number): void {
    this.fdPaths.delete(fd);
    this.base.close(fd);
  }
  write(fd: number, buf: Buffer, position: number): void {
    this.base.write(fd, buf, position);
  }
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    return this.base.read(fd, buf, offset, length, position);
  }
  async fsync(fd: number): Promise<void> {
    const p = this.fdPaths.get(fd);
    const size = this.base.fileSize(fd);
    await this.base.fsync(fd);
    this.fsyncCount++;
    if (p !== undefined) this.track(p).synced = size;
  }
  async fsyncDir(p: string): Promise<void> {
    const pending = this.journal.get(p)?.length ?? 0;
    await this.base.fsyncDir(p);
    const j = this.journal.get(p);
    if (j) j.splice(0, pending);
  }
  ftruncate(fd: number, length: number): void {
    this.base.ftruncate(fd, length);
    const p = this.fdPaths.get(fd);
    if (p !== undefined) {
      const t = this.track(p);
      t.synced = Math.min(t.synced, length);
    }
  }
  fileSize(fd: number): number {
    return this.base.fileSize(fd);
  }
  rename(from: string, to: string): void {
    const t = this.track(from);
    this.base.rename(from, to);
    this.files.delete(from);
    this.files.set(to, t);
    this.log(dirname(to), { op: 'rename', from, to });
  }
  unlink(p: string): void {
    this.base.unlink(p);
    this.files.delete(p);
  }
  mkdir(p: string): void {
    this.base.mkdir(p);
  }
  readdir(p: string): string[] {
    return this.base.readdir(p);
  }
  statSize(p: string): number {
    return this.base.statSize(p);
  }
  exists(p: string): boolean {
    return this.base.exists(p);
  }
  rmrf(p: string): void {
    this.base.rmrf(p);
  }
  readFile(p: string): Buffer | null {
    return this.base.readFile(p);
  }
  setMtime(p: string, ms: number): void {
    this.base.setMtime(p, ms);
  }
  mtime(p: string): number {
    return this.base.mtime(p);
  }

  /** Pulls the plug: undoes non-durable directory operations and truncates files to their fsynced length. */
  dropUnsynced(): { truncatedBytes: number; undone: number } {
    let undone = 0;
    for (const [, ops] of this.journal) {
      for (let i = ops.length - 1; i >= 0; i--) {
        const op = ops[i]!;
        if (op.op === 'create') {
          if (this.base.exists(op.path)) this.base.unlink(op.path);
          this.files.delete(op.path);
        } else if (this.base.exists(op.to)) {
          this.base.rename(op.to, op.from);
          const t = this.files.get(op.to);
          this.files.delete(op.to);
          if (t) this.files.set(op.from, t);
        }
        undone++;
      }
    }
    this.journal.clear();
    let truncatedBytes = 0;
    for (const [p, t] of this.files) {
      const size = this.base.statSize(p);
      if (size > t.synced) {
        const fd = this.base.open(p, 'r+');
        try {
          this.base.ftruncate(fd, t.synced);
        } finally {
          this.base.close(fd);
        }
        truncatedBytes += size - t.synced;
      }
    }
    return { truncatedBytes, undone };
  }
}

import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { FileIO } from './io.ts';

/**
 * Kafka's checkpoint text format: a version line, a count line, then one
 * entry per line (fields separated by single spaces). Written atomically:
 * write `<file>.tmp`, fsync it, rename over the file, fsync the directory.
 */
export class CorruptCheckpointError extends Error {
  readonly path: string;
  constructor(path: string, why: string) {
    super(`checkpoint ${path} is corrupt: ${why}`);
    this.path = path;
  }
}

export function formatCheckpoint(version: number, entries: string[][]): string {
  const lines = [String(version), String(entries.length), ...entries.map((e) => e.join(' '))];
  return `${lines.join('\n')}\n`;
}

const INT = /^-?\d+$/;

/** Parses checkpoint text into entries of `fields` fields each; throws CorruptCheckpointError. */
export function parseCheckpoint(path: string, text: string, version: number, fields: number): string[][] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) throw new CorruptCheckpointError(path, 'missing version or count line');
  if (lines[0] !== String(version)) throw new CorruptCheckpointError(path, `unexpected version ${lines[0]}`);
  if (!INT.test(lines[1]!)) throw new CorruptCheckpointError(path, 'bad count line');
  const count = Number(lines[1]);
  if (count !== lines.length - 2) {
    throw new CorruptCheckpointError(path, `count ${count} but ${lines.length - 2} entries`);
  }
  const out: string[][] = [];
  for (let i = 2; i < lines.length; i++) {
    const parts = lines[i]!.split(' ');
    if (parts.length !== fields) throw new CorruptCheckpointError(path, `bad entry on line ${i + 1}`);
    // every field but a leading topic name must be an integer
    for (let f = fields === 3 ? 1 : 0; f < fields; f++) {
      if (!INT.test(parts[f]!)) throw new CorruptCheckpointError(path, `bad number on line ${i + 1}`);
    }
    out.push(parts);
  }
  return out;
}

/** Reads a checkpoint; null if the file does not exist; throws CorruptCheckpointError. */
export function readCheckpoint(io: FileIO, path: string, version: number, fields: number): string[][] | null {
  const buf = io.readFile(path);
  if (buf === null) return null;
  return parseCheckpoint(path, buf.toString('utf8'), version, fields);
}

/** Writes `content` to `path` atomically and durably. */
export async function writeFileAtomic(io: FileIO, path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = io.open(tmp, 'w');
  try {
    io.write(fd, Buffer.from(content, 'utf8'), 0);
    await io.fsync(fd);
  } finally {
    io.close(fd);
  }
  io.rename(tmp, path);
  await io.fsyncDir(dirname(path));
}

/**
 * Serialises writes of one checkpoint file: at most one write in flight and
 * at most one queued (the latest content wins), so bursts coalesce.
 */
export class CheckpointWriter {
  private readonly io: FileIO;
  private readonly path: string;
  private inFlight: Promise<void> | null = null;
  private pending: string | null = null;
  private pendingWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(io: FileIO, path: string) {
    this.io = io;
    this.path = path;
  }

  /** Schedules a write of `content`; resolves once that content (or newer) is durable. */
  write(content: string): Promise<void> {
    this.pending = content;
    const p = new Promise<void>((resolve, reject) => this.pendingWaiters.push({ resolve, reject }));
    if (!this.inFlight) this.kick();
    return p;
  }

  /** Resolves when nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => {});
  }

  private kick(): void {
    if (this.pending === null) return;
    const content = this.pending;
    const waiters = this.pendingWaiters;
    this.pending = null;
    this.pendingWaiters = [];
    this.inFlight = writeFileAtomic(this.io, this.path, content).then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (e) => {
        for (const w of waiters) w.reject(e);
      },
    );
    void this.inFlight.finally(() => {
      this.inFlight = null;
      this.kick();
    });
  }
}

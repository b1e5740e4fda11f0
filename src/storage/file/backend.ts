import { join } from 'node:path';
import { CheckpointWriter, formatCheckpoint } from '../checkpoint.ts';
import type { LogConfig } from '../config.ts';
import type { StorageError } from '../errors.ts';
import type { FileIO } from '../io.ts';
import type { EpochEntry } from '../leader-epoch.ts';
import type { Segment, SegmentBackend } from '../segment.ts';
import type { FdCache } from './fd-cache.ts';
import { FileSegment, type SegmentEnv } from './segment.ts';

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';

/** What a partition's backend needs from the engine (its log dir). */
export interface DirHandle {
  readonly path: string;
  ioFailed(what: string, cause: unknown): StorageError;
  checkOnline(): void;
  logStartChanged(): void;
  scheduleDelete(paths: string[], delayMs: number): void;
}

/** The file engine's SegmentBackend for one partition directory. */
export class FileBackend implements SegmentBackend {
  readonly location: string;
  readonly partitionDir: string;
  private readonly io: FileIO;
  private readonly env: SegmentEnv;
  private readonly dir: DirHandle;
  private readonly epochWriter: CheckpointWriter;
  private epochFailure: unknown = null;
  /** The epoch checkpoint file exists (written this session or found on disk). */
  epochFileWritten = false;

  constructor(io: FileIO, fds: FdCache, dir: DirHandle, partitionDir: string, config: () => LogConfig) {
    this.io = io;
    this.dir = dir;
    this.partitionDir = partitionDir;
    this.location = partitionDir;
    this.env = { io, fds, config };
    this.epochWriter = new CheckpointWriter(io, join(partitionDir, LEADER_EPOCH_CHECKPOINT));
  }

  get segmentEnv(): SegmentEnv {
    return this.env;
  }

  createSegment(baseOffset: number, now: number): Segment {
    return FileSegment.create(this.env, this.partitionDir, baseOffset, now);
  }

  createCleanedSegment(baseOffset: number, lastModified: number): Segment {
    return FileSegment.create(this.env, this.partitionDir, baseOffset, lastModified, '.cleaned');
  }

  /**
   * Swap protocol (crash-safe, completed by recovery if interrupted):
   * `.cleaned` -> `.swap`; replaced segments -> `.deleted`; `.swap` -> live.
   */
  installCleaned(cleaned: Segment, replaced: readonly Segment[]): Segment {
    const c = cleaned as FileSegment;
    try {
      c.renameTo('.swap');
      const doomed: string[] = [];
      for (const r of replaced) doomed.push(...(r as FileSegment).markDeleted());
      c.renameTo('');
      c.setMtime(c.lastModified);
      this.dir.scheduleDelete(doomed, this.env.config().fileDeleteDelayMs);
      this.syncDir().catch(() => {});
      return c;
    } catch (e) {
      throw this.ioFailed('compaction swap', e);
    }
  }

  discardCleaned(cleaned: Segment): void {
    (cleaned as FileSegment).removeFiles();
  }

  deleteSegments(segments: readonly Segment[], delayMs: number): void {
    const paths: string[] = [];
    try {
      for (const s of segments) paths.push(...(s as FileSegment).markDeleted());
    } catch (e) {
      throw this.ioFailed('segment delete', e);
    }
    this.dir.scheduleDelete(paths, delayMs);
  }

  /** The partition directory itself was created and its parent not yet fsynced. */
  parentDirty = false;

  async syncDir(): Promise<void> {
    const parent = this.parentDirty;
    this.parentDirty = false;
    try {
      await this.io.fsyncDir(this.partitionDir);
      if (parent) await this.io.fsyncDir(this.dir.path);
    } catch (e) {
      this.parentDirty ||= parent;
      throw e;
    }
  }

  persistEpochs(entries: readonly EpochEntry[]): void {
    this.epochFileWritten = true;
    const text = formatCheckpoint(
      0,
      entries.map((e) => [String(e.epoch), String(e.startOffset)]),
    );
    this.epochWriter.write(text).catch((e) => {
      this.epochFailure = e;
      this.dir.ioFailed('leader-epoch checkpoint', e);
    });
  }

  /** Waits for checkpoint writes in flight. */
  async idle(): Promise<void> {
    await this.epochWriter.idle();
  }

  async epochsDurable(entries: readonly EpochEntry[]): Promise<void> {
    if (!this.epochFileWritten) this.persistEpochs(entries);
    await this.epochWriter.idle();
    if (this.epochFailure) throw this.epochFailure;
  }

  logStartChanged(): void {
    this.dir.logStartChanged();
  }

  ioFailed(what: string, cause: unknown): StorageError {
    return this.dir.ioFailed(what, cause);
  }

  checkOnline(): void {
    this.dir.checkOnline();
  }
}

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CheckpointWriter, CorruptCheckpointError, formatCheckpoint, readCheckpoint } from '../checkpoint.ts';
import { type LogConfig, resolveLogConfig } from '../config.ts';
import type { Clock, LogDirStatus, LogEngine, PartitionLog, TopicPartition } from '../engine.ts';
import { ioError, StorageError } from '../errors.ts';
import { type FileIO, nodeFileIO } from '../io.ts';
import { Log } from '../log.ts';
import { type DirHandle, FileBackend } from './backend.ts';
import { FdCache } from './fd-cache.ts';
import { type LoadOutput, loadPartition } from './load.ts';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_CHECKPOINT = 'log-start-offset-checkpoint';
export const REPLICATION_CHECKPOINT = 'replication-offset-checkpoint';
export const CLEANER_CHECKPOINT = 'cleaner-offset-checkpoint';
const CHECKPOINTS = [
  RECOVERY_POINT_CHECKPOINT,
  LOG_START_CHECKPOINT,
  REPLICATION_CHECKPOINT,
  CLEANER_CHECKPOINT,
];
const PARTITION_DIR_RE = /^(.+)-(\d+)$/;

export interface FileEngineOptions {
  /** log.dirs */
  dirs: string[];
  defaultConfig?: Partial<LogConfig>;
  clock?: Clock;
  /** File operations (tests inject faults here). */
  io?: FileIO;
  /** Cap on open segment fds across all partitions (default 1000). */
  maxOpenFiles?: number;
  /** Run the background scheduler (flush.ms, checkpoints, retention, cleaner). Default true. */
  background?: boolean;
  /** Checkpoint interval (recovery point, log start, high watermark). Default 5000 ms. */
  checkpointIntervalMs?: number;
  /** log.retention.check.interval.ms, default 300000. */
  retentionCheckIntervalMs?: number;
  /** log.cleaner.backoff.ms, default 15000. */
  cleanerBackoffMs?: number;
  /** Key-map bound for compaction, in entries (default 1,000,000). */
  cleanerMaxKeys?: number;
  warn?: (msg: string) => void;
}

interface DirState extends DirHandle {
  online: boolean;
  error?: Error;
  /** The dir had a clean-shutdown marker when the engine started. */
  clean: boolean;
  /** Values from the checkpoint files, for partitions not open now. */
  saved: Record<string, Map<string, number>>;
  writers: Record<string, CheckpointWriter>;
  partitions: Set<string>;
}

interface OpenLog {
  log: Log;
  dir: DirState;
  key: string;
}

/** Result of the last open (tests and the recovery benchmark read it). */
export interface OpenInfo {
  recovered: boolean;
  scannedBytes: number;
  truncatedAt?: { segment: number; problem: string };
}

export class FileLogEngine implements LogEngine {
  readonly kind = 'file' as const;
  private readonly io: FileIO;
  private readonly clock: Clock;
  private readonly defaults: Partial<LogConfig>;
  readonly fds: FdCache;
  private readonly dirStates: DirState[] = [];
  private readonly logs = new Map<string, OpenLog>();
  private readonly backends = new Set<FileBackend>();
  private readonly opening = new Map<string, Promise<PartitionLog>>();
  private readonly offlineListeners: ((dir: string, error: Error) => void)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly pendingDeletes = new Map<NodeJS.Timeout, string[]>();
  private readonly warn: (msg: string) => void;
  private readonly cleanerMaxKeys: number;
  private closed = false;
  private cleanerBusy = false;
  lastOpenInfo = new Map<string, OpenInfo>();

  private constructor(opts: FileEngineOptions) {
    this.io = opts.io ?? nodeFileIO;
    this.clock = opts.clock ?? Date.now;
    this.defaults = opts.defaultConfig ?? {};
    this.fds = new FdCache(this.io, opts.maxOpenFiles ?? 1000);
    this.warn = opts.warn ?? (() => {});
    this.cleanerMaxKeys = opts.cleanerMaxKeys ?? 1_000_000;
  }

  /** Opens the log dirs: reads checkpoints, consumes the clean-shutdown markers. */
  static async open(opts: FileEngineOptions): Promise<FileLogEngine> {
    if (opts.dirs.length === 0) throw new StorageError('INVALID_ARGUMENT', 'log.dirs is empty');
    const e = new FileLogEngine(opts);
    for (const d of opts.dirs) await e.openDir(d);
    if (opts.background !== false) e.startScheduler(opts);
    return e;
  }

  private async openDir(path: string): Promise<void> {
    const io = this.io;
    const state: DirState = {
      path,
      online: true,
      clean: false,
      saved: {},
      writers: {},
      partitions: new Set(),
      ioFailed: (what, cause) => this.dirFailed(state, what, cause),
      checkOnline: () => {
        if (!state.online) {
          throw new StorageError(
            'KAFKA_STORAGE_ERROR',
            `log dir ${path} is offline (${state.error?.message ?? 'I/O error'}); fix the disk and restart`,
          );
        }
      },
      logStartChanged: () => this.scheduleCheckpoint(state),
      scheduleDelete: (paths, delayMs) => this.scheduleDelete(paths, delayMs),
    };
    this.dirStates.push(state);
    try {
      io.mkdir(path);
      const marker = join(path, CLEAN_SHUTDOWN_FILE);
      state.clean = io.exists(marker);
      for (const name of CHECKPOINTS) {
        state.writers[name] = new CheckpointWriter(io, join(path, name));
        const m = new Map<string, number>();
        try {
          const rows = readCheckpoint(io, join(path, name), 0, 3);
          for (const r of rows ?? []) m.set(`${r[0]}-${r[1]}`, Number(r[2]));
        } catch (err) {
          if (!(err instanceof CorruptCheckpointError)) throw err;
          this.warn(`${err.message}; ignoring it`);
          if (name === RECOVERY_POINT_CHECKPOINT) state.clean = false; // full recovery (recovery point 0)
        }
        state.saved[name] = m;
      }
      for (const n of io.readdir(path)) {
        if (n.endsWith('-delete')) io.rmrf(join(path, n));
        else if (PARTITION_DIR_RE.test(n)) state.partitions.add(n);
      }
      if (io.exists(marker)) {
        // from now on a crash must be detected: the marker goes before any write
        io.unlink(marker);
        await io.fsyncDir(path);
      }
    } catch (err) {
      this.dirFailed(state, 'opening the log dir', err);
    }
  }

  private dirFailed(state: DirState, what: string, cause: unknown): StorageError {
    const err = cause instanceof StorageError ? cause : ioError(what, state.path, cause);
    if (state.online) {
      state.online = false;
      state.error = err;
      this.warn(err.message);
      for (const l of this.offlineListeners) {
        try {
          l(state.path, err);
        } catch {
          // listeners must not break the storage path
        }
      }
    }
    return err;
  }

  onDirOffline(listener: (dir: string, error: Error) => void): void {
    this.offlineListeners.push(listener);
  }

  dirs(): LogDirStatus[] {
    return this.dirStates.map((d) => ({
      dir: d.path,
      online: d.online,
      ...(d.error ? { error: d.error.message } : {}),
      partitions: d.partitions.size,
    }));
  }

  list(): TopicPartition[] {
    const out: TopicPartition[] = [];
    for (const d of this.dirStates) {
      for (const name of d.partitions) {
        const m = PARTITION_DIR_RE.exec(name)!;
        out.push({ topic: m[1]!, partition: Number(m[2]) });
      }
    }
    return out;
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(`${topic}-${partition}`)?.log;
  }

  /** The internal log (tests, benchmarks). */
  getInternalLog(topic: string, partition: number): Log | undefined {
    return this.logs.get(`${topic}-${partition}`)?.log;
  }

  async openLog(topic: string, partition: number, config?: Partial<LogConfig>): Promise<PartitionLog> {
    if (this.closed) throw new StorageError('CLOSED', 'the storage engine is closed');
    if (
      !topic ||
      topic.includes('/') ||
      topic === '.' ||
      topic === '..' ||
      !Number.isInteger(partition) ||
      partition < 0
    ) {
      throw new StorageError('INVALID_ARGUMENT', `invalid topic partition ${topic}-${partition}`);
    }
    const key = `${topic}-${partition}`;
    const open = this.logs.get(key);
    if (open) {
      if (config) open.log.updateConfig(config);
      return open.log;
    }
    const pending = this.opening.get(key);
    if (pending) return pending;
    const p = this.doOpen(topic, partition, key, config).finally(() => this.opening.delete(key));
    this.opening.set(key, p);
    return p;
  }

  private async doOpen(
    topic: string,
    partition: number,
    key: string,
    config?: Partial<LogConfig>,
  ): Promise<PartitionLog> {
    let dir = this.dirStates.find((d) => d.partitions.has(key));
    const isNew = dir === undefined;
    if (!dir) {
      const candidates = this.dirStates.filter((d) => d.online);
      if (candidates.length === 0) {
        throw new StorageError('KAFKA_STORAGE_ERROR', 'no log dir is online; fix the disks and restart');
      }
      dir = candidates.reduce((a, b) => (b.partitions.size < a.partitions.size ? b : a));
    }
    dir.checkOnline();
    const pdir = join(dir.path, key);
    const cfg = resolveLogConfig({ ...this.defaults, ...(config ?? {}) });
    let log: Log | null = null;
    const backend = new FileBackend(this.io, this.fds, dir, pdir, () => log?.config ?? cfg);
    let out: LoadOutput;
    try {
      if (isNew) {
        this.io.mkdir(pdir);
        dir.partitions.add(key);
        backend.parentDirty = true; // made durable by the log's first flush
      }
      out = loadPartition({
        io: this.io,
        env: backend.segmentEnv,
        partitionDir: pdir,
        now: this.clock(),
        clean: dir.clean || isNew,
        recoveryPoint: dir.saved[RECOVERY_POINT_CHECKPOINT]!.get(key),
        logStartOffset: dir.saved[LOG_START_CHECKPOINT]!.get(key),
        highWatermark: dir.saved[REPLICATION_CHECKPOINT]!.get(key),
        cleanerCheckpoint: dir.saved[CLEANER_CHECKPOINT]!.get(key),
        warn: this.warn,
      });
    } catch (e) {
      throw this.dirFailed(dir, `loading ${key}`, e);
    }
    this.backends.add(backend);
    log = new Log(topic, partition, cfg, backend, this.clock, out.state);
    log.cleanerMaxKeys = this.cleanerMaxKeys;
    this.lastOpenInfo.set(key, {
      recovered: out.recovered,
      scannedBytes: out.scannedBytes,
      ...(out.truncatedAt ? { truncatedAt: out.truncatedAt } : {}),
    });
    backend.epochFileWritten = out.epochFileFound;
    if (out.recovered) backend.persistEpochs(log.epochEntries());
    this.logs.set(key, { log, dir, key });
    if (out.recovered) {
      // make the recovered state durable before trusting it as the recovery point
      await log.flushTo(log.logEndOffset, true);
      this.scheduleCheckpoint(dir);
    }
    return log;
  }

  async closeLog(topic: string, partition: number): Promise<void> {
    const key = `${topic}-${partition}`;
    const o = this.logs.get(key);
    if (!o) return;
    try {
      await o.log.close();
    } finally {
      this.saveValues(o);
      this.logs.delete(key);
    }
  }

  private saveValues(o: OpenLog): void {
    const s = o.dir.saved;
    s[RECOVERY_POINT_CHECKPOINT]!.set(o.key, o.log.recoveryPoint);
    s[LOG_START_CHECKPOINT]!.set(o.key, o.log.logStartOffset);
    s[REPLICATION_CHECKPOINT]!.set(o.key, o.log.highWatermark);
    s[CLEANER_CHECKPOINT]!.set(o.key, o.log.cleanerCheckpoint);
  }

  async deleteLog(topic: string, partition: number): Promise<void> {
    const key = `${topic}-${partition}`;
    const o = this.logs.get(key);
    if (o) {
      o.log.abandon();
      this.logs.delete(key);
    }
    for (const d of this.dirStates) {
      if (!d.partitions.has(key)) continue;
      d.partitions.delete(key);
      for (const name of CHECKPOINTS) d.saved[name]!.delete(key);
      const from = join(d.path, key);
      const to = join(d.path, `${key}.${randomUUID().replace(/-/g, '')}-delete`);
      try {
        this.io.rename(from, to);
        await this.io.fsyncDir(d.path);
        this.io.rmrf(to);
      } catch (e) {
        throw this.dirFailed(d, `deleting ${key}`, e);
      }
      await this.writeCheckpoints(d);
    }
  }

  private checkpointScheduled = new Set<DirState>();
  private scheduleCheckpoint(d: DirState): void {
    if (this.checkpointScheduled.has(d) || this.closed) return;
    this.checkpointScheduled.add(d);
    setImmediate(() => {
      this.checkpointScheduled.delete(d);
      this.writeCheckpoints(d).catch(() => {});
    });
  }

  /** Writes the dir-level checkpoints from the open logs plus saved values. */
  private async writeCheckpoints(d: DirState): Promise<void> {
    if (!d.online) return;
    for (const o of this.logs.values()) if (o.dir === d) this.saveValues(o);
    const writes: Promise<void>[] = [];
    for (const name of CHECKPOINTS) {
      const rows: string[][] = [];
      for (const [key, v] of d.saved[name]!) {
        if (!d.partitions.has(key)) continue;
        const m = PARTITION_DIR_RE.exec(key)!;
        rows.push([m[1]!, m[2]!, String(v)]);
      }
      writes.push(d.writers[name]!.write(formatCheckpoint(0, rows)));
    }
    try {
      await Promise.all(writes);
    } catch (e) {
      throw this.dirFailed(d, 'writing checkpoints', e);
    }
  }

  async checkpoint(): Promise<void> {
    await Promise.all(this.dirStates.map((d) => this.writeCheckpoints(d).catch(() => {})));
  }

  private scheduleDelete(paths: string[], delayMs: number): void {
    if (paths.length === 0) return;
    const doDelete = () => {
      for (const p of paths) {
        try {
          this.io.unlink(p);
        } catch {
          // removed at the next start (*.deleted)
        }
      }
    };
    if (delayMs <= 0 || this.closed) {
      doDelete();
      return;
    }
    const t = setTimeout(() => {
      this.pendingDeletes.delete(t);
      doDelete();
    }, delayMs);
    t.unref();
    this.pendingDeletes.set(t, paths);
  }

  private startScheduler(opts: FileEngineOptions): void {
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const t = setInterval(() => {
        if (this.closed) return;
        Promise.resolve()
          .then(fn)
          .catch(() => {});
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(1000, () => {
      const now = this.clock();
      for (const o of this.logs.values()) o.log.maybeTimedFlush(now);
    });
    every(opts.checkpointIntervalMs ?? 5000, () => this.checkpoint());
    every(opts.retentionCheckIntervalMs ?? 300_000, async () => {
      await this.runRetention();
    });
    every(opts.cleanerBackoffMs ?? 15_000, () => this.runCleaner());
  }

  /** Retention on every open log. */
  async runRetention(now = this.clock()): Promise<number> {
    let n = 0;
    for (const o of [...this.logs.values()]) {
      if (!o.dir.online) continue;
      try {
        n += await o.log.runRetention(now);
      } catch {
        // an I/O failure took the dir offline
      }
    }
    return n;
  }

  /** One cleaner pass: the dirtiest compacted log above its min.cleanable.dirty.ratio. */
  async runCleaner(now = this.clock()): Promise<void> {
    if (this.cleanerBusy) return;
    this.cleanerBusy = true;
    try {
      const candidates = [...this.logs.values()]
        .filter((o) => o.dir.online && o.log.config.cleanupCompact)
        .map((o) => ({ o, ratio: o.log.dirtyRatio() }))
        .filter((c) => c.ratio > 0 && c.ratio >= c.o.log.config.minCleanableDirtyRatio)
        .sort((a, b) => b.ratio - a.ratio);
      for (const c of candidates) {
        if (this.closed) break;
        try {
          await c.o.log.compact(now);
        } catch (e) {
          this.warn(`compaction of ${c.o.key} failed: ${(e as Error).message}`);
        }
      }
    } finally {
      this.cleanerBusy = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    const failedDirs = new Set<DirState>();
    // close logs with bounded parallelism so fsyncs overlap
    const queue = [...this.logs.values()];
    const worker = async () => {
      for (let o = queue.pop(); o; o = queue.pop()) {
        try {
          await o.log.close();
        } catch {
          failedDirs.add(o.dir);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    for (const [t, paths] of this.pendingDeletes) {
      clearTimeout(t);
      for (const p of paths) {
        try {
          this.io.unlink(p);
        } catch {
          // removed at the next start
        }
      }
    }
    this.pendingDeletes.clear();
    for (const d of this.dirStates) {
      if (!d.online || failedDirs.has(d)) continue;
      try {
        await this.writeCheckpoints(d);
        const marker = join(d.path, CLEAN_SHUTDOWN_FILE);
        const fd = this.io.open(marker, 'w');
        try {
          await this.io.fsync(fd);
        } finally {
          this.io.close(fd);
        }
        await this.io.fsyncDir(d.path);
      } catch {
        // no marker: the next start recovers this dir
      }
    }
    this.logs.clear();
    this.fds.closeAll();
  }

  /**
   * Test hook: stops everything without flushing or writing a marker, as a
   * crash would (page-cache contents survive, as with SIGKILL). Waits for
   * checkpoint writes already in flight so they cannot land after a restart
   * in the same process.
   */
  async crashForTest(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const t of this.pendingDeletes.keys()) clearTimeout(t);
    for (const o of this.logs.values()) o.log.abandon();
    this.logs.clear();
    this.fds.closeAll();
    await Promise.all([
      ...[...this.backends].map((b) => b.idle()),
      ...this.dirStates.flatMap((d) => Object.values(d.writers).map((w) => w.idle())),
    ]);
  }
}

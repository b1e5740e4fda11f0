import type { LogConfig } from '../config.ts';
import { resolveLogConfig } from '../config.ts';
import type { Clock, LogDirStatus, LogEngine, PartitionLog, TopicPartition } from '../engine.ts';
import { StorageError } from '../errors.ts';
import { Log } from '../log.ts';
import type { Segment, SegmentBackend } from '../segment.ts';
import { MemorySegment } from './segment.ts';

export interface MemoryEngineOptions {
  defaultConfig?: Partial<LogConfig>;
  clock?: Clock;
}

class MemoryBackend implements SegmentBackend {
  readonly location: string;
  private readonly getConfig: () => LogConfig;
  constructor(location: string, getConfig: () => LogConfig) {
    this.location = location;
    this.getConfig = getConfig;
  }
  createSegment(baseOffset: number, now: number): Segment {
    const c = this.getConfig();
    return new MemorySegment(baseOffset, now, c.indexIntervalBytes, c.segmentIndexBytes);
  }
  createCleanedSegment(baseOffset: number, now: number): Segment {
    return this.createSegment(baseOffset, now);
  }
  installCleaned(cleaned: Segment): Segment {
    return cleaned;
  }
  discardCleaned(): void {}
  deleteSegments(): void {}
  async syncDir(): Promise<void> {}
  persistEpochs(): void {}
  async epochsDurable(): Promise<void> {}
  logStartChanged(): void {}
  ioFailed(what: string, cause: unknown): StorageError {
    return new StorageError('KAFKA_STORAGE_ERROR', `${what} failed in memory engine`, { cause });
  }
  checkOnline(): void {}
}

/** The memory engine: same log semantics (shared Log), no durability. */
export class MemoryLogEngine implements LogEngine {
  readonly kind = 'memory' as const;
  private readonly logs = new Map<string, Log>();
  private readonly defaults: Partial<LogConfig>;
  private readonly clock: Clock;
  private closed = false;

  constructor(opts: MemoryEngineOptions = {}) {
    this.defaults = opts.defaultConfig ?? {};
    this.clock = opts.clock ?? Date.now;
  }

  async openLog(topic: string, partition: number, config?: Partial<LogConfig>): Promise<PartitionLog> {
    if (this.closed) throw new StorageError('CLOSED', 'engine is closed');
    const key = `${topic}-${partition}`;
    const existing = this.logs.get(key);
    if (existing) {
      if (existing.closed) existing.closed = false;
      if (config) existing.updateConfig(config);
      return existing;
    }
    const cfg = resolveLogConfig({ ...this.defaults, ...(config ?? {}) });
    let log: Log | null = null;
    const backend = new MemoryBackend(`memory:${key}`, () => log?.config ?? cfg);
    log = new Log(topic, partition, cfg, backend, this.clock, {
      segments: [backend.createSegment(0, this.clock())],
      logStartOffset: 0,
      highWatermark: 0,
      recoveryPoint: 0,
      epochs: [],
      cleanerCheckpoint: 0,
    });
    this.logs.set(key, log);
    return log;
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    const l = this.logs.get(`${topic}-${partition}`);
    return l && !l.closed ? l : undefined;
  }

  async closeLog(topic: string, partition: number): Promise<void> {
    // memory logs keep their data after close (a "restart" reopens them)
    const l = this.logs.get(`${topic}-${partition}`);
    if (l) l.closed = true;
  }

  async deleteLog(topic: string, partition: number): Promise<void> {
    const key = `${topic}-${partition}`;
    const l = this.logs.get(key);
    if (l) l.abandon();
    this.logs.delete(key);
  }

  list(): TopicPartition[] {
    return [...this.logs.values()].map((l) => ({ topic: l.topic, partition: l.partition }));
  }

  dirs(): LogDirStatus[] {
    return [{ dir: 'memory', online: true, partitions: this.logs.size }];
  }

  onDirOffline(): void {}

  async checkpoint(): Promise<void> {}

  /** Runs retention and compaction on every open log (tests call this; there is no timer). */
  async maintenance(now = this.clock()): Promise<void> {
    for (const l of this.logs.values()) {
      if (l.closed) continue;
      await l.runRetention(now);
      await l.compact(now);
    }
  }

  async close(): Promise<void> {
    for (const l of this.logs.values()) l.closed = true;
    this.closed = true;
  }
}

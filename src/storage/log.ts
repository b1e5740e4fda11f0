import {
  ATTR_TIMESTAMP_TYPE,
  OFFSET_ATTRIBUTES,
  OFFSET_MAX_TIMESTAMP,
} from '../protocol/records/batch-header.ts';
import { type BatchInfo, checkBatchAt, headerAt, rewriteCrc, writeInt64 } from './batch.ts';
import { compactLog } from './cleaner.ts';
import { type LogConfig, resolveLogConfig } from './config.ts';
import type {
  AppendOptions,
  AppendResult,
  Clock,
  CompactionStats,
  PartitionLog,
  ReadOptions,
  ReadResult,
  TimestampLookup,
} from './engine.ts';
import { EARLIEST_LOCAL_TIMESTAMP, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP } from './engine.ts';
import { StorageError } from './errors.ts';
import { type EpochEntry, LeaderEpochCache } from './leader-epoch.ts';
import type { Segment, SegmentBackend } from './segment.ts';

export interface LogState {
  segments: Segment[];
  logStartOffset: number;
  highWatermark: number;
  recoveryPoint: number;
  epochs: readonly EpochEntry[];
  /** Compaction: offsets below this have been cleaned. */
  cleanerCheckpoint: number;
}

const MAX_REL_OFFSET = 0x7fffffff;

/**
 * The partition log, shared by both engines: offsets, rolling, reads,
 * retention, truncation, flushing and the leader-epoch cache. State only
 * changes synchronously (no await between reading and writing it), so
 * concurrent calls on one event loop see consistent offsets.
 */
export class Log implements PartitionLog {
  readonly topic: string;
  readonly partition: number;
  config: LogConfig;
  readonly backend: SegmentBackend;
  private readonly clock: Clock;
  segments: Segment[];
  private _logStartOffset: number;
  private _highWatermark: number;
  private _lastStableOffset: number | null = null;
  /** Bound on the cleaner's key map (log.cleaner.dedupe.buffer.size, as an entry count). */
  cleanerMaxKeys = 1_000_000;
  /** Everything below this is durable (fsynced). */
  recoveryPoint: number;
  cleanerCheckpoint: number;
  private readonly epochs: LeaderEpochCache;
  private unflushedMessages = 0;
  private lastFlushAt: number;
  private flushInFlight: Promise<void> | null = null;
  /** Bumped on truncation/deletion so in-flight flushes and cleanings know their view is stale. */
  generation = 0;
  /** Directory entries changed since the last directory fsync (true at first: new files). */
  private dirDirty = true;
  closed = false;
  cleaning = false;

  constructor(
    topic: string,
    partition: number,
    config: Partial<LogConfig> | LogConfig,
    backend: SegmentBackend,
    clock: Clock,
    state: LogState,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.config = resolveLogConfig(config);
    this.backend = backend;
    this.clock = clock;
    if (state.segments.length === 0) throw new Error('a log needs at least one segment');
    this.segments = state.segments;
    const leo = this.logEndOffset;
    this._logStartOffset = Math.min(Math.max(state.logStartOffset, this.segments[0]!.baseOffset), leo);
    this._highWatermark = clamp(state.highWatermark, this._logStartOffset, leo);
    this.recoveryPoint = Math.min(state.recoveryPoint, leo);
    this.cleanerCheckpoint = clamp(state.cleanerCheckpoint, this._logStartOffset, leo);
    this.epochs = new LeaderEpochCache(state.epochs);
    this.epochs.truncateFromEnd(leo);
    this.epochs.onChange = (entries) => this.backend.persistEpochs(entries);
    this.lastFlushAt = clock();
  }

  get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }
  get logStartOffset(): number {
    return this._logStartOffset;
  }
  get logEndOffset(): number {
    return this.active.nextOffset;
  }
  get highWatermark(): number {
    return this._highWatermark;
  }
  set highWatermark(v: number) {
    this._highWatermark = clamp(v, this._logStartOffset, this.logEndOffset);
  }
  /** Caller-managed (transactions); tracks the high watermark until set. */
  get lastStableOffset(): number {
    return Math.min(this._lastStableOffset ?? this._highWatermark, this._highWatermark);
  }
  set lastStableOffset(v: number) {
    this._lastStableOffset = clamp(v, this._logStartOffset, this.logEndOffset);
  }
  get size(): number {
    let s = 0;
    for (const seg of this.segments) s += seg.size;
    return s;
  }
  get segmentCount(): number {
    return this.segments.length;
  }

  updateConfig(config: Partial<LogConfig>): void {
    this.config = resolveLogConfig({ ...this.config, ...config });
  }

  private checkOpen(): void {
    if (this.closed)
      throw new StorageError('CLOSED', `log ${this.topic}-${this.partition} is closed; reopen it first`);
    this.backend.checkOnline();
  }

  /** Validates the structure and CRC of every batch in `buf`. */
  private parse(buf: Buffer, verifyCrc: boolean): BatchInfo[] {
    if (buf.length === 0) throw new StorageError('INVALID_RECORD', 'append needs at least one record batch');
    const infos: BatchInfo[] = [];
    let pos = 0;
    while (pos < buf.length) {
      const r = checkBatchAt(buf, pos, buf.length, verifyCrc);
      if (r.problem !== undefined) {
        throw new StorageError(
          r.problem === 'bad-crc' || r.problem === 'truncated' ? 'CORRUPT_MESSAGE' : 'INVALID_RECORD',
          `record batch at byte ${pos} is invalid (${r.problem}); nothing was appended`,
        );
      }
      infos.push(headerAt(buf, pos, r.size));
      pos += r.size;
    }
    return infos;
  }

  append(buf: Buffer, opts: AppendOptions = {}): Promise<AppendResult> {
    let res: AppendResult;
    try {
      res = this.appendLeaderSync(buf, opts);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.ack(res);
  }

  private appendLeaderSync(buf: Buffer, opts: AppendOptions): AppendResult {
    this.checkOpen();
    const infos = this.parse(buf, opts.verifyCrc ?? true);
    for (const b of infos) {
      if (b.size > this.config.maxMessageBytes) {
        throw new StorageError(
          'MESSAGE_TOO_LARGE',
          `batch of ${b.size} bytes exceeds max.message.bytes ${this.config.maxMessageBytes}`,
        );
      }
    }
    const logAppendTime = this.config.timestampType === 'LogAppendTime';
    const now = logAppendTime ? (opts.now ?? this.clock()) : 0;
    let next = this.logEndOffset;
    for (const b of infos) {
      const delta = b.lastOffset - b.baseOffset;
      writeInt64(buf, b.position, next);
      b.baseOffset = next;
      b.lastOffset = next + delta;
      next += delta + 1;
      if (opts.leaderEpoch !== undefined) {
        buf.writeInt32BE(opts.leaderEpoch, b.position + 12);
        b.partitionLeaderEpoch = opts.leaderEpoch;
      }
      if (logAppendTime) {
        b.attributes |= ATTR_TIMESTAMP_TYPE;
        buf.writeInt16BE(b.attributes, b.position + OFFSET_ATTRIBUTES);
        writeInt64(buf, b.position + OFFSET_MAX_TIMESTAMP, now);
        b.maxTimestamp = now;
        rewriteCrc(buf, b.position, b.size);
      }
    }
    const res = this.appendInternal(buf, infos, opts.transfer === true);
    if (logAppendTime) res.logAppendTime = now;
    return res;
  }

  appendAsFollower(buf: Buffer, opts: { verifyCrc?: boolean } = {}): Promise<AppendResult> {
    let res: AppendResult;
    try {
      this.checkOpen();
      const infos = this.parse(buf, opts.verifyCrc ?? true);
      let expected = this.logEndOffset;
      for (const b of infos) {
        if (b.baseOffset < expected) {
          throw new StorageError(
            'INVALID_ARGUMENT',
            `follower append at offset ${b.baseOffset} is below the expected ${expected}; truncate first`,
          );
        }
        expected = b.lastOffset + 1;
      }
      res = this.appendInternal(buf, infos);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.ack(res);
  }

  /** Resolves when the append may be acknowledged under the flush policy. */
  private ack(res: AppendResult): Promise<AppendResult> {
    if (this.config.fsyncBeforeAck) return this.flushTo(res.lastOffset + 1, false).then(() => res);
    if (this.unflushedMessages >= this.config.flushMessages) this.flushInBackground();
    return Promise.resolve(res);
  }

  /** Writes validated batches (offsets final); state changes synchronously. */
  private appendInternal(buf: Buffer, infos: BatchInfo[], transfer = false): AppendResult {
    const first = infos[0]!.baseOffset;
    const last = infos[infos.length - 1]!.lastOffset;
    const now = this.clock();
    const seg = this.maybeRoll(buf.length, first, last, now);
    try {
      seg.append(buf, infos, now, transfer);
    } catch (e) {
      throw this.backend.ioFailed(`append to ${this.topic}-${this.partition}`, e);
    }
    let latestEpoch = this.epochs.latestEpoch();
    for (const b of infos) {
      if (b.partitionLeaderEpoch > latestEpoch) {
        this.epochs.assign(b.partitionLeaderEpoch, b.baseOffset);
        latestEpoch = b.partitionLeaderEpoch;
      }
    }
    this.unflushedMessages += last - first + 1;
    return { baseOffset: first, lastOffset: last, batches: infos };
  }

  private maybeRoll(size: number, first: number, last: number, now: number): Segment {
    const seg = this.active;
    const c = this.config;
    const empty = seg.size === 0;
    const overflow = last - seg.baseOffset > MAX_REL_OFFSET || first < seg.baseOffset;
    const roll =
      overflow ||
      (!empty &&
        (seg.size + size > c.segmentBytes ||
          now - seg.createdAt > c.segmentMs - c.segmentJitterMs ||
          seg.indexFull()));
    if (!roll) return seg;
    if (empty) {
      // an empty active segment at the wrong base: replace it
      let created: Segment;
      try {
        created = this.backend.createSegment(first, now);
      } catch (e) {
        throw this.backend.ioFailed('segment roll', e);
      }
      this.backend.deleteSegments([seg], 0);
      this.segments[this.segments.length - 1] = created;
      this.dirDirty = true;
      return created;
    }
    return this.roll(first, now);
  }

  /** Starts a new active segment at `baseOffset` (>= logEndOffset). */
  roll(baseOffset = this.logEndOffset, now = this.clock()): Segment {
    const old = this.active;
    if (old.size === 0 && old.baseOffset === baseOffset) return old;
    old.onBecomeInactive();
    let seg: Segment;
    try {
      seg = this.backend.createSegment(baseOffset, now);
    } catch (e) {
      throw this.backend.ioFailed('segment roll', e);
    }
    this.segments.push(seg);
    this.dirDirty = true;
    // Like Kafka: the rolled segment is flushed in the background.
    this.flushInBackground(baseOffset);
    return seg;
  }

  private flushInBackground(upTo?: number): void {
    this.flushTo(upTo ?? this.logEndOffset, true).catch(() => {
      // ioFailed already marked the dir offline; appends will report it
    });
  }

  /**
   * Makes offsets below `target` durable; concurrent callers share fsyncs (group commit).
   * Rejects unless they are: a log closed (or dropped) before a sync covered the target
   * must not let an fsync-before-ack append be acknowledged.
   */
  async flushTo(target: number, full: boolean): Promise<void> {
    for (let i = 0; i < 1000 && this.recoveryPoint < Math.min(target, this.logEndOffset); i++) {
      if (this.closed) {
        throw new StorageError(
          'CLOSED',
          `log ${this.topic}-${this.partition} closed before offsets below ${target} were flushed`,
        );
      }
      if (this.flushInFlight) {
        await this.flushInFlight;
        continue;
      }
      this.flushInFlight = this.doFlush(full);
      try {
        await this.flushInFlight;
      } finally {
        this.flushInFlight = null;
      }
    }
  }

  private async doFlush(full: boolean): Promise<void> {
    const gen = this.generation;
    const upTo = this.logEndOffset;
    const messages = this.unflushedMessages;
    const segs = this.segments.filter((_s, i) => {
      const next = this.segments[i + 1];
      return next === undefined || next.baseOffset > this.recoveryPoint;
    });
    const dirDirty = this.dirDirty;
    this.dirDirty = false;
    try {
      await Promise.all(segs.map((s) => s.flush(full || s !== this.active)));
      if (dirDirty) await this.backend.syncDir();
      await this.backend.epochsDurable(this.epochs.all);
    } catch (e) {
      this.dirDirty ||= dirDirty;
      // Deleted (abandoned) while the flush was in flight: its files are gone,
      // which is no disk failure (the dir must not go offline for it).
      if (this.closed) return;
      throw this.backend.ioFailed(`flush of ${this.topic}-${this.partition}`, e);
    }
    if (gen === this.generation) {
      this.recoveryPoint = Math.max(this.recoveryPoint, Math.min(upTo, this.logEndOffset));
      this.unflushedMessages = Math.max(0, this.unflushedMessages - messages);
    }
    this.lastFlushAt = this.clock();
  }

  async flush(): Promise<void> {
    this.checkOpen();
    await this.flushTo(this.logEndOffset, true);
  }

  /** Called by the engine's scheduler: flush.ms. */
  maybeTimedFlush(now: number): void {
    if (this.closed || this.recoveryPoint >= this.logEndOffset) return;
    if (now - this.lastFlushAt >= this.config.flushMs) this.flushInBackground();
  }

  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  async read(offset: number, maxBytes: number, opts: ReadOptions = {}): Promise<ReadResult> {
    this.checkReadable();
    return this.readSync(offset, maxBytes, opts);
  }

  private checkReadable(): void {
    if (this.closed)
      throw new StorageError('CLOSED', `log ${this.topic}-${this.partition} is closed; reopen it first`);
  }

  readSync(offset: number, maxBytes: number, opts: ReadOptions = {}): ReadResult {
    const leo = this.logEndOffset;
    const base = {
      logStartOffset: this._logStartOffset,
      logEndOffset: leo,
      highWatermark: this._highWatermark,
    };
    if (!Number.isInteger(offset) || offset < this._logStartOffset || offset > leo) {
      throw new StorageError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} is outside [${this._logStartOffset}, ${leo}] of ${this.topic}-${this.partition}`,
      );
    }
    const maxOffset = opts.maxOffset ?? Number.POSITIVE_INFINITY;
    let minOne = opts.minOneBatch ?? true;
    const bufs: Buffer[] = [];
    let bytes = 0;
    let next = offset;
    if (offset === leo || offset >= maxOffset) return { batches: bufs, bytes, nextOffset: next, ...base };
    for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
      const r = this.segments[i]!.read(next, maxBytes - bytes, maxOffset, minOne);
      for (const b of r.bufs) bufs.push(b);
      bytes += r.bytes;
      if (r.bufs.length > 0) {
        next = r.nextOffset;
        minOne = false;
      }
      if (r.corruptAt !== undefined) {
        if (bufs.length === 0) {
          throw new StorageError(
            'CORRUPT_LOG',
            `batch at offset ${r.corruptAt} of ${this.topic}-${this.partition} in ${this.backend.location} fails its CRC; it will not be served (the replica must be truncated and refetched)`,
          );
        }
        break;
      }
      if (r.stopped) break;
    }
    return { batches: bufs, bytes, nextOffset: next, ...base };
  }

  async offsetForTimestamp(ts: number): Promise<TimestampLookup | null> {
    this.checkReadable();
    const start = this._logStartOffset;
    if (ts === EARLIEST_TIMESTAMP || ts === EARLIEST_LOCAL_TIMESTAMP) {
      return { offset: start, timestamp: -1, leaderEpoch: this.epochs.epochForOffset(start) };
    }
    if (ts === LATEST_TIMESTAMP) {
      return { offset: this.logEndOffset, timestamp: -1, leaderEpoch: this.epochs.latestEpoch() };
    }
    if (ts === MAX_TIMESTAMP) {
      let best: Segment | null = null;
      for (const s of this.segments) {
        if (s.size > 0 && s.maxTimestamp >= 0 && (best === null || s.maxTimestamp > best.maxTimestamp))
          best = s;
      }
      const r = best?.findMaxTimestamp();
      if (!r) return null;
      return { offset: r.offset, timestamp: r.timestamp, leaderEpoch: this.epochs.epochForOffset(r.offset) };
    }
    if (ts < 0) throw new StorageError('INVALID_ARGUMENT', `unsupported ListOffsets timestamp ${ts}`);
    for (let i = this.segmentIndexFor(start); i < this.segments.length; i++) {
      const s = this.segments[i]!;
      if (s.maxTimestamp < ts) continue;
      const r = s.findByTimestamp(ts, start);
      if (r)
        return {
          offset: r.offset,
          timestamp: r.timestamp,
          leaderEpoch: this.epochs.epochForOffset(r.offset),
        };
    }
    return null;
  }

  async deleteRecordsBefore(offset: number): Promise<number> {
    this.checkOpen();
    if (offset > this._highWatermark || offset < 0) {
      throw new StorageError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete records before ${offset}: it is above the high watermark ${this._highWatermark}`,
      );
    }
    if (offset <= this._logStartOffset) return this._logStartOffset;
    this.setLogStartOffset(offset);
    this.deleteSegmentsBelowLogStart();
    return this._logStartOffset;
  }

  private setLogStartOffset(offset: number): void {
    if (offset <= this._logStartOffset) return;
    this._logStartOffset = offset;
    if (this._highWatermark < offset) this._highWatermark = offset;
    if (this.cleanerCheckpoint < offset) this.cleanerCheckpoint = offset;
    this.epochs.truncateFromStart(offset);
    this.backend.logStartChanged();
  }

  /** Deletes segments whose successor starts at or below the log start offset. */
  private deleteSegmentsBelowLogStart(): number {
    let n = 0;
    while (n + 1 < this.segments.length && this.segments[n + 1]!.baseOffset <= this._logStartOffset) n++;
    if (n > 0) this.deleteOldest(n);
    return n;
  }

  private deleteOldest(n: number): void {
    const removed = this.segments.splice(0, n);
    this.generation++;
    this.backend.deleteSegments(removed, this.config.fileDeleteDelayMs);
    const first = this.segments[0]!.baseOffset;
    if (first > this._logStartOffset) this.setLogStartOffset(first);
  }

  async runRetention(now = this.clock()): Promise<number> {
    if (this.closed) return 0;
    let deleted = this.deleteSegmentsBelowLogStart();
    if (!this.config.cleanupDelete) return deleted;
    const c = this.config;
    // deletable: never the active segment, only segments wholly below the high watermark
    const eligible = (i: number) =>
      i < this.segments.length - 1 && this.segments[i + 1]!.baseOffset <= this._highWatermark;
    if (c.retentionMs >= 0) {
      let n = 0;
      while (eligible(n)) {
        const s = this.segments[n]!;
        const ts = s.maxTimestamp >= 0 ? s.maxTimestamp : s.lastModified;
        if (now - ts > c.retentionMs) n++;
        else break;
      }
      if (n > 0) {
        this.deleteOldest(n);
        deleted += n;
      }
    }
    if (c.retentionBytes >= 0) {
      let excess = this.size - c.retentionBytes;
      let n = 0;
      while (eligible(n) && excess - this.segments[n]!.size >= 0) {
        excess -= this.segments[n]!.size;
        n++;
      }
      if (n > 0) {
        this.deleteOldest(n);
        deleted += n;
      }
    }
    return deleted;
  }

  async truncateTo(offset: number): Promise<void> {
    this.checkOpen();
    if (offset < 0)
      throw new StorageError('INVALID_ARGUMENT', `cannot truncate to negative offset ${offset}`);
    if (offset >= this.logEndOffset) return;
    if (offset < this._logStartOffset) return this.truncateFullyAndStartAt(offset);
    this.generation++;
    let keep = this.segments.findIndex((s) => s.baseOffset >= offset);
    if (keep === -1) keep = this.segments.length;
    if (keep === 0) keep = 1; // the first segment stays (truncated)
    const removed = this.segments.splice(keep);
    if (removed.length > 0) this.backend.deleteSegments(removed, 0);
    try {
      this.active.truncateTo(offset);
    } catch (e) {
      throw this.backend.ioFailed('truncate', e);
    }
    const leo = this.logEndOffset;
    this.epochs.truncateFromEnd(leo);
    this._highWatermark = Math.min(this._highWatermark, leo);
    if (this._lastStableOffset !== null) this._lastStableOffset = Math.min(this._lastStableOffset, leo);
    this.recoveryPoint = Math.min(this.recoveryPoint, leo);
    this.cleanerCheckpoint = Math.min(this.cleanerCheckpoint, leo);
    this.dirDirty = true;
  }

  async truncateFullyAndStartAt(offset: number): Promise<void> {
    this.checkOpen();
    this.generation++;
    let seg: Segment;
    const old = this.segments;
    // delete first so the new segment's file name is free when offset equals an old base
    this.backend.deleteSegments(old, 0);
    try {
      seg = this.backend.createSegment(offset, this.clock());
    } catch (e) {
      throw this.backend.ioFailed('truncate', e);
    }
    this.segments = [seg];
    this._logStartOffset = offset;
    this._highWatermark = offset;
    this._lastStableOffset = null;
    this.recoveryPoint = offset;
    this.cleanerCheckpoint = offset;
    this.epochs.clear();
    this.dirDirty = true;
    this.backend.logStartChanged();
  }

  assignEpochStartOffset(epoch: number, startOffset: number): void {
    this.epochs.assign(epoch, startOffset);
  }
  latestEpoch(): number {
    return this.epochs.latestEpoch();
  }
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.epochs.endOffsetFor(epoch, this.logEndOffset);
  }
  epochEntries(): readonly EpochEntry[] {
    return this.epochs.all;
  }

  async *scanBatches(fromOffset: number) {
    this.checkReadable();
    const gen = this.generation;
    for (let i = this.segmentIndexFor(fromOffset); i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      for (const b of seg.batches(fromOffset)) {
        if (b.info.lastOffset < fromOffset) continue;
        yield { ...b.info };
      }
      await new Promise((r) => setImmediate(r));
      if (gen !== this.generation || this.closed) {
        throw new StorageError(
          'INVALID_ARGUMENT',
          'log changed (truncated or segments deleted) during the scan',
        );
      }
    }
  }

  async compact(now = this.clock()): Promise<CompactionStats | null> {
    if (!this.config.cleanupCompact || this.closed || this.cleaning) return null;
    this.cleaning = true;
    try {
      return await compactLog(this, now);
    } finally {
      this.cleaning = false;
    }
  }

  /** Ratio of dirty bytes (at or after the cleaner checkpoint, before the active segment). */
  dirtyRatio(): number {
    let dirty = 0;
    let total = 0;
    for (let i = 0; i < this.segments.length - 1; i++) {
      const s = this.segments[i]!;
      total += s.size;
      if (this.segments[i + 1]!.baseOffset > this.cleanerCheckpoint) dirty += s.size;
    }
    return total === 0 ? 0 : dirty / total;
  }

  /** Replaces segments (compaction swap); `from` is the index of replaced[0]. */
  replaceSegments(from: number, count: number, seg: Segment): void {
    this.segments.splice(from, count, seg);
    this.generation++;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.backendOffline()) await this.flushTo(this.logEndOffset, true);
      if (!this.backendOffline()) await Promise.all(this.segments.map((s) => s.flush(true)));
    } finally {
      this.closed = true;
      for (const s of this.segments) s.close();
    }
  }

  /** Drops the log without flushing (tests simulate a crash with this). */
  abandon(): void {
    this.closed = true;
    for (const s of this.segments) s.close();
  }

  private backendOffline(): boolean {
    try {
      this.backend.checkOnline();
      return false;
    } catch {
      return true;
    }
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(v, hi));
}

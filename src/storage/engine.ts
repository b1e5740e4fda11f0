import type { BatchInfo } from './batch.ts';
import type { LogConfig } from './config.ts';
import type { EpochEntry } from './leader-epoch.ts';

/**
 * The storage engine interface. Offsets, timestamps and sizes are JS numbers
 * (int64 values from the wire are exact below 2^53, far beyond any offset a
 * log reaches); the broker converts at the protocol boundary.
 */

export interface AppendOptions {
  /** Leader epoch stamped into each batch (leader appends). */
  leaderEpoch?: number;
  /**
   * Verify each batch's CRC before writing (default true). Pass false only
   * when the caller has checked it: appended batches count as verified, and
   * reads in this process do not check them again.
   */
  verifyCrc?: boolean;
  /** Wall-clock time for LogAppendTime topics; defaults to the engine clock. */
  now?: number;
  /**
   * The caller hands `batches` over and will not touch them again: the
   * memory engine may keep large batches as views of it instead of copying
   * (the produce path passes the request's bytes).
   */
  transfer?: boolean;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** Set for LogAppendTime topics: the timestamp written into the batches. */
  logAppendTime?: number;
  /** Header of every appended batch, with assigned offsets. */
  batches: BatchInfo[];
}

export interface ReadOptions {
  /** Return only batches whose last offset is below this (HW or LSO for consumers). */
  maxOffset?: number;
  /** Return the first batch even if larger than maxBytes (default true, as Kafka). */
  minOneBatch?: boolean;
}

export interface ReadResult {
  /**
   * Whole batches, exactly as stored; each passed its CRC check in this
   * process (at append, in recovery, or in this or an earlier read).
   */
  batches: Buffer[];
  bytes: number;
  /** Offset to fetch next (after the last returned batch), or the requested offset if none. */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
}

export interface TimestampLookup {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

/** ListOffsets special timestamps. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL_TIMESTAMP = -4;

export interface PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly config: LogConfig;

  /** Appends whole v2 batches as a leader: assigns offsets; keeps producer id/epoch/sequence. */
  append(batches: Buffer, opts?: AppendOptions): Promise<AppendResult>;
  /** Appends replicated batches with the offsets they carry (must be >= logEndOffset). */
  appendAsFollower(batches: Buffer, opts?: { verifyCrc?: boolean }): Promise<AppendResult>;
  /** Whole batches starting with the one containing `offset`. */
  read(offset: number, maxBytes: number, opts?: ReadOptions): Promise<ReadResult>;

  readonly logStartOffset: number;
  readonly logEndOffset: number;
  /** Caller-managed; clamped to [logStartOffset, logEndOffset]; persisted by the engine. */
  highWatermark: number;
  /** Caller-managed (from producer state); not persisted, as in Kafka. */
  lastStableOffset: number;
  /** Bytes on disk (all segments). */
  readonly size: number;
  readonly segmentCount: number;

  /** ListOffsets semantics: -2 earliest, -1 latest, -3 max timestamp, else first offset with timestamp >= ts. */
  offsetForTimestamp(ts: number): Promise<TimestampLookup | null>;

  /** DeleteRecords: moves the log start offset (<= highWatermark); returns the new log start offset. */
  deleteRecordsBefore(offset: number): Promise<number>;
  /** Removes everything at and after `offset` (follower truncation). */
  truncateTo(offset: number): Promise<void>;
  /** Empties the log and restarts it at `offset`. */
  truncateFullyAndStartAt(offset: number): Promise<void>;

  /** Leader-epoch cache. */
  assignEpochStartOffset(epoch: number, startOffset: number): void;
  latestEpoch(): number;
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number };
  epochEntries(): readonly EpochEntry[];

  /** Header-only scan from `fromOffset` (producer-state rebuild, replica comparison). */
  scanBatches(fromOffset: number): AsyncIterable<BatchInfo>;

  /** Applies retention now (the engine also runs it periodically); returns segments deleted. */
  runRetention(now?: number): Promise<number>;
  /** Compacts now if the log is compacted (the engine also runs it in the background). */
  compact(now?: number): Promise<CompactionStats | null>;

  /** Makes everything appended so far durable. */
  flush(): Promise<void>;
  updateConfig(config: Partial<LogConfig>): void;
}

export interface CompactionStats {
  segmentsCleaned: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRemoved: number;
  dirtyEndOffset: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface LogDirStatus {
  dir: string;
  online: boolean;
  error?: string;
  partitions: number;
}

export interface LogEngine {
  readonly kind: 'file' | 'memory';
  /** Opens (creating if absent) the log of a partition. Recovers it first if the last shutdown was unclean. */
  openLog(topic: string, partition: number, config?: Partial<LogConfig>): Promise<PartitionLog>;
  getLog(topic: string, partition: number): PartitionLog | undefined;
  /** Closes a log (flushing it); it stays on disk. */
  closeLog(topic: string, partition: number): Promise<void>;
  /** Deletes a partition's data. */
  deleteLog(topic: string, partition: number): Promise<void>;
  /** Partitions present (on disk for the file engine), open or not. */
  list(): TopicPartition[];
  dirs(): LogDirStatus[];
  /** Registers a listener for a log dir going offline (I/O error). */
  onDirOffline(listener: (dir: string, error: Error) => void): void;
  /** Writes checkpoints now (recovery point, log start offset, high watermark). */
  checkpoint(): Promise<void>;
  /** Flushes and closes every log, writes checkpoints and the clean-shutdown marker. */
  close(): Promise<void>;
}

/** Injected time source (ms since epoch). */
export type Clock = () => number;

import type { BatchInfo } from './batch.ts';
import type { StorageError } from './errors.ts';
import type { EpochEntry } from './leader-epoch.ts';

/** One batch as stored, with its header. `buf` may be a view into a reused chunk: copy to keep it. */
export interface StoredBatch {
  info: BatchInfo;
  buf: Buffer;
}

export interface SegmentRead {
  bufs: Buffer[];
  bytes: number;
  /** Offset after the last returned batch. */
  nextOffset: number;
  /** True when reading stopped because of maxBytes/maxOffset (do not continue into the next segment). */
  stopped: boolean;
  /** Set when a batch failed its CRC or structure check; nothing at or after it was returned. */
  corruptAt?: number;
}

/**
 * A segment: the batches from `baseOffset` up to the next segment's base
 * offset, with a sparse offset index and a time index. File and memory
 * engines implement it; the shared Log holds the log-level logic.
 */
export interface Segment {
  readonly baseOffset: number;
  /** Offset after the last batch (baseOffset when empty). */
  readonly nextOffset: number;
  /** Bytes of valid batches. */
  readonly size: number;
  /** Largest batch max timestamp, or -1. */
  readonly maxTimestamp: number;
  /** Wall-clock ms this segment was created or opened (segment.ms). */
  readonly createdAt: number;
  /** Wall-clock ms of the last write (tombstone horizon, retention of timestamp-less data). */
  readonly lastModified: number;

  /**
   * Appends validated batches with final offsets; throws the raw I/O error on
   * failure (nothing appended). `transfer`: the caller gives up `buf` (see AppendOptions).
   */
  append(buf: Buffer, infos: readonly BatchInfo[], now: number, transfer?: boolean): void;
  /** Whole batches from the first whose last offset >= offset. */
  read(offset: number, maxBytes: number, maxOffset: number, minOne: boolean): SegmentRead;
  /** First record with timestamp >= ts (and offset >= minOffset). */
  findByTimestamp(ts: number, minOffset: number): { offset: number; timestamp: number } | null;
  /** The record holding this segment's max timestamp. */
  findMaxTimestamp(): { offset: number; timestamp: number } | null;
  /** Removes every batch whose last offset >= offset. Returns bytes removed. */
  truncateTo(offset: number): number;
  /** Offset or time index is full (roll). */
  indexFull(): boolean;
  /** Batches from `fromOffset` on (chunked reads; stops at the first invalid batch). */
  batches(fromOffset?: number): Generator<StoredBatch>;
  /** Stop accepting appends (rolled): finalise indexes. */
  onBecomeInactive(): void;
  /** Durably writes data (and, if full, the indexes). */
  flush(full: boolean): Promise<void>;
  /** Releases file descriptors; the segment can be reopened lazily. */
  close(): void;
}

/** What a Log needs from its engine: segment lifecycle, persistence, failure reporting. */
export interface SegmentBackend {
  /** Where the log lives (for messages). */
  readonly location: string;
  createSegment(baseOffset: number, now: number): Segment;
  /** A segment being written by the cleaner, invisible until installed. */
  createCleanedSegment(baseOffset: number, now: number): Segment;
  /** Atomically replaces `replaced` with `cleaned` (same base offset as replaced[0]); returns the live segment. */
  installCleaned(cleaned: Segment, replaced: readonly Segment[]): Segment;
  discardCleaned(cleaned: Segment): void;
  /** Removes segments (after file.delete.delay.ms for the file engine). */
  deleteSegments(segments: readonly Segment[], delayMs: number): void;
  /** Makes segment creation/deletion durable. */
  syncDir(): Promise<void>;
  persistEpochs(entries: readonly EpochEntry[]): void;
  /** Waits for pending epoch checkpoint writes (writing `entries` if never written). */
  epochsDurable(entries: readonly EpochEntry[]): Promise<void>;
  /** The log start offset moved (write the checkpoint soon). */
  logStartChanged(): void;
  /** Records an I/O failure: marks the dir offline and returns the error to throw. */
  ioFailed(what: string, cause: unknown): StorageError;
  /** Throws if the dir is offline. */
  checkOnline(): void;
}

/**
 * Idempotent-producer state of one partition, as Kafka's ProducerStateManager
 * keeps it: per producer id, the current epoch and the metadata (sequence
 * range, offsets, timestamp) of its last 5 batches.
 *
 * Rules (Kafka 2.5+ / KIP-360, checked against ProducerAppendInfo):
 * - A batch whose epoch and exact sequence range match one of the last 5
 *   batches is a duplicate: the caller answers with the original offsets and
 *   no error, and appends nothing.
 * - An epoch below the current one: INVALID_PRODUCER_EPOCH (47). Since 2.7
 *   Kafka answers this, not PRODUCER_FENCED, on produce.
 * - A new (higher) epoch must start at sequence 0, else
 *   OUT_OF_ORDER_SEQUENCE_NUMBER (45).
 * - The same epoch must continue at lastSeq + 1 (wrapping from int32 max to
 *   0), else OUT_OF_ORDER_SEQUENCE_NUMBER.
 * - A producer id with no state here (new, expired, or its data deleted) is
 *   accepted at any sequence: brokers stopped answering UNKNOWN_PRODUCER_ID
 *   in 2.5.
 *
 * State changes only through `update` (after a successful append) and
 * `replay` (rebuilding from the log); `check` is pure, so the caller can
 * validate, append and update under its per-partition serial queue.
 * Transactions (current transaction first offset, coordinator epoch, LSO)
 * come with the transactions issue; control batches only move the epoch here.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';

export const NUM_BATCHES_TO_RETAIN = 5;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
const INT32_MAX = 0x7fffffff;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  /** The batch's max timestamp as stored (LogAppendTime: the append time). */
  timestamp: number;
}

export interface ProducerEntry {
  readonly producerId: number;
  epoch: number;
  /** Oldest first; at most NUM_BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
  /** Max timestamp of the last batch (Kafka expires producers by it). */
  lastTimestamp: number;
}

/** The header fields of an idempotent batch that sequence checks need. */
export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'error'; errorCode: number; message: string };

const APPEND: SequenceCheck = Object.freeze({ kind: 'append' });

/** Last sequence of a batch: base + delta, wrapping past int32 max to 0 as Kafka's producer does. */
export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence > INT32_MAX - lastOffsetDelta) return lastOffsetDelta - (INT32_MAX - baseSequence) - 1;
  return baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export class ProducerStateManager {
  readonly partitionName: string;
  private readonly producers = new Map<number, ProducerEntry>();

  constructor(partitionName: string) {
    this.partitionName = partitionName;
  }

  get size(): number {
    return this.producers.size;
  }

  get(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  entries(): IterableIterator<ProducerEntry> {
    return this.producers.values();
  }

  /** Validates an idempotent batch against the current state without changing it. */
  check(b: ProducerBatch): SequenceCheck {
    const entry = this.producers.get(b.producerId);
    const firstSeq = b.baseSequence;
    if (entry !== undefined) {
      if (b.producerEpoch === entry.epoch) {
        const lastSeq = lastSequence(firstSeq, b.lastOffsetDelta);
        for (const m of entry.batches) {
          if (m.firstSeq === firstSeq && m.lastSeq === lastSeq) return { kind: 'duplicate', batch: m };
        }
      }
      if (b.producerEpoch < entry.epoch) {
        return {
          kind: 'error',
          errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
          message: `Epoch of producer ${b.producerId} in ${this.partitionName} is ${b.producerEpoch}, which is smaller than the last seen epoch ${entry.epoch}`,
        };
      }
    }
    const currentEpoch = entry?.epoch ?? NO_PRODUCER_EPOCH;
    if (b.producerEpoch !== currentEpoch) {
      if (firstSeq !== 0 && currentEpoch !== NO_PRODUCER_EPOCH) {
        return {
          kind: 'error',
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          message: `Invalid sequence number for new epoch of producer ${b.producerId} in partition ${this.partitionName}: ${b.producerEpoch} (request epoch), ${firstSeq} (seq. number), ${currentEpoch} (current producer epoch)`,
        };
      }
      return APPEND;
    }
    const last = entry!.batches.at(-1);
    const currentLastSeq = last === undefined ? NO_SEQUENCE : last.lastSeq;
    if (!inSequence(currentLastSeq, firstSeq)) {
      return {
        kind: 'error',
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `Out of order sequence number for producer ${b.producerId} in partition ${this.partitionName}: ${firstSeq} (incoming seq. number), ${currentLastSeq} (current end sequence number)`,
      };
    }
    return APPEND;
  }

  /** Records an appended idempotent batch (after `check` said 'append' and the log append succeeded). */
  update(b: ProducerBatch, firstOffset: number, lastOffset: number, timestamp: number): void {
    const entry = this.entryFor(b.producerId);
    this.setEpoch(entry, b.producerEpoch);
    entry.batches.push({
      firstSeq: b.baseSequence,
      lastSeq: lastSequence(b.baseSequence, b.lastOffsetDelta),
      firstOffset,
      lastOffset,
      timestamp,
    });
    if (entry.batches.length > NUM_BATCHES_TO_RETAIN) entry.batches.shift();
    entry.lastTimestamp = timestamp;
  }

  /**
   * Replays a batch read back from the log (rebuild on open, follower
   * appends): no validation, as Kafka's REPLICATION origin. Control batches
   * (transaction markers) only move the epoch.
   */
  replay(
    b: ProducerBatch & { control: boolean },
    firstOffset: number,
    lastOffset: number,
    timestamp: number,
  ): void {
    if (b.producerId < 0) return;
    if (b.control) {
      const entry = this.entryFor(b.producerId);
      this.setEpoch(entry, b.producerEpoch);
      entry.lastTimestamp = timestamp;
      return;
    }
    this.update(b, firstOffset, lastOffset, timestamp);
  }

  /** Forgets producers idle for producer.id.expiration.ms (by their last batch timestamp, as Kafka). */
  removeExpired(now: number, expirationMs: number): number {
    let removed = 0;
    for (const [pid, e] of this.producers) {
      if (now - e.lastTimestamp >= expirationMs) {
        this.producers.delete(pid);
        removed++;
      }
    }
    return removed;
  }

  /** Forgets producers whose last batch is below the log start offset (retention, DeleteRecords). */
  onLogStartOffsetIncremented(logStartOffset: number): void {
    for (const [pid, e] of this.producers) {
      const last = e.batches.at(-1);
      if (last !== undefined && last.lastOffset < logStartOffset) this.producers.delete(pid);
    }
  }

  clear(): void {
    this.producers.clear();
  }

  private entryFor(producerId: number): ProducerEntry {
    let e = this.producers.get(producerId);
    if (e === undefined) {
      e = { producerId, epoch: NO_PRODUCER_EPOCH, batches: [], lastTimestamp: -1 };
      this.producers.set(producerId, e);
    }
    return e;
  }

  private setEpoch(entry: ProducerEntry, epoch: number): void {
    if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
  }
}

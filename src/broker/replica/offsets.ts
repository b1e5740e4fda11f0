/**
 * Offset APIs on a leader partition: ListOffsets, DeleteRecords and
 * OffsetForLeaderEpoch, with Kafka's semantics (Partition.scala
 * fetchOffsetForTimestamp / deleteRecordsOnLeader / lastOffsetForLeaderEpoch).
 * Callers resolve the leader first (partition-lookup.ts); offsets are JS
 * numbers here, bigint only in the protocol types the handlers build.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import {
  EARLIEST_LOCAL_TIMESTAMP,
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  MAX_TIMESTAMP,
  type PartitionLog,
} from '../../storage/engine.ts';
import { StorageError } from '../../storage/errors.ts';
import { READ_COMMITTED } from './fetch.ts';
import type { HostedPartition } from './partition-lookup.ts';

/** KIP-1005: the highest offset in tiered storage (v9+). No tiered storage here: -1. */
export const LATEST_TIERED_TIMESTAMP = -5;
/** ListOffsets replica ids: a consumer, and the "debug" consumer that may see past the high watermark. */
export const CONSUMER_REPLICA_ID = -1;
export const DEBUG_REPLICA_ID = -2;
/** DeleteRecords offset meaning "the high watermark". */
export const DELETE_TO_HIGH_WATERMARK = -1;

export interface OffsetAnswer {
  errorCode: number;
  timestamp: number;
  offset: number;
  leaderEpoch: number;
}

const NOT_FOUND: OffsetAnswer = { errorCode: ErrorCode.NONE, timestamp: -1, offset: -1, leaderEpoch: -1 };

function errorAnswer(errorCode: number): OffsetAnswer {
  return { errorCode, timestamp: -1, offset: -1, leaderEpoch: -1 };
}

function storageErrorCode(e: unknown): number {
  if (!(e instanceof StorageError)) throw e;
  return e.kafkaErrorCode > 0 ? e.kafkaErrorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
}

/**
 * ListOffsets for one partition. `isolationLevel` is null for requests that
 * are not from a consumer (replicaId != -1): those see up to the log end.
 */
export async function listOffset(
  p: HostedPartition,
  timestamp: number,
  isolationLevel: number | null,
): Promise<OffsetAnswer> {
  const log = p.log;
  const lastFetchable =
    isolationLevel === null
      ? log.logEndOffset
      : isolationLevel === READ_COMMITTED
        ? log.lastStableOffset
        : log.highWatermark;
  // A new leader whose high watermark has not caught up with the start of its
  // epoch cannot answer "latest" or timestamp queries for clients yet.
  const epochStart = epochStartOffset(log, p.leaderEpoch);
  const notAvailable = isolationLevel !== null && epochStart !== null && epochStart > log.highWatermark;
  try {
    switch (timestamp) {
      case LATEST_TIMESTAMP:
        if (notAvailable) return errorAnswer(ErrorCode.OFFSET_NOT_AVAILABLE);
        return {
          errorCode: ErrorCode.NONE,
          timestamp: -1,
          offset: lastFetchable,
          leaderEpoch: p.leaderEpoch,
        };
      case EARLIEST_TIMESTAMP:
      case EARLIEST_LOCAL_TIMESTAMP: {
        const r = await log.offsetForTimestamp(EARLIEST_TIMESTAMP);
        if (r === null) return NOT_FOUND;
        return { errorCode: ErrorCode.NONE, timestamp: -1, offset: r.offset, leaderEpoch: r.leaderEpoch };
      }
      case LATEST_TIERED_TIMESTAMP:
        return NOT_FOUND;
      default: {
        if (notAvailable) return errorAnswer(ErrorCode.OFFSET_NOT_AVAILABLE);
        // Other negative values search like timestamp 0 (Kafka searches any
        // record with a timestamp >= the target).
        const target = timestamp === MAX_TIMESTAMP ? MAX_TIMESTAMP : Math.max(0, timestamp);
        const r = await log.offsetForTimestamp(target);
        if (r === null || r.offset < 0 || r.offset >= lastFetchable) return NOT_FOUND;
        return {
          errorCode: ErrorCode.NONE,
          timestamp: r.timestamp,
          offset: r.offset,
          leaderEpoch: r.leaderEpoch,
        };
      }
    }
  } catch (e) {
    return errorAnswer(storageErrorCode(e));
  }
}

/** Start offset of `epoch` in the leader-epoch cache, or null when the cache does not know it. */
function epochStartOffset(log: PartitionLog, epoch: number): number | null {
  const entries = log.epochEntries();
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i]!.epoch === epoch) return entries[i]!.startOffset;
    if (entries[i]!.epoch < epoch) break;
  }
  return null;
}

export interface DeleteRecordsAnswer {
  errorCode: number;
  lowWatermark: number;
}

/**
 * DeleteRecords on a leader: moves the log start offset to `offset` (-1: the
 * high watermark). Beyond the high watermark, or negative, is
 * OFFSET_OUT_OF_RANGE; a topic without the delete cleanup policy is
 * POLICY_VIOLATION. On one node the low watermark is the new log start offset
 * (with replicas it is the lowest log start offset among them).
 */
export async function deleteRecords(p: HostedPartition, offset: number): Promise<DeleteRecordsAnswer> {
  const log = p.log;
  if (!log.config.cleanupDelete) return { errorCode: ErrorCode.POLICY_VIOLATION, lowWatermark: -1 };
  const target = offset === DELETE_TO_HIGH_WATERMARK ? log.highWatermark : offset;
  if (target < 0 || target > log.highWatermark) {
    return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, lowWatermark: -1 };
  }
  try {
    const low = await log.deleteRecordsBefore(target);
    // Waiting fetches below the new start must now answer OFFSET_OUT_OF_RANGE.
    p.notifyAppended();
    return { errorCode: ErrorCode.NONE, lowWatermark: low };
  } catch (e) {
    return { errorCode: storageErrorCode(e), lowWatermark: -1 };
  }
}

export interface EpochEndAnswer {
  errorCode: number;
  leaderEpoch: number;
  endOffset: number;
}

/**
 * OffsetForLeaderEpoch: the largest epoch <= the requested one and the offset
 * where it ended (the start of the next epoch, or the log end offset for the
 * current epoch); -1/-1 when the cache has nothing at or below it.
 */
export function offsetForLeaderEpoch(p: HostedPartition, leaderEpoch: number): EpochEndAnswer {
  const r = p.log.endOffsetForEpoch(leaderEpoch);
  if (r.endOffset < 0) return { errorCode: ErrorCode.NONE, leaderEpoch: -1, endOffset: -1 };
  return { errorCode: ErrorCode.NONE, leaderEpoch: r.epoch, endOffset: r.endOffset };
}

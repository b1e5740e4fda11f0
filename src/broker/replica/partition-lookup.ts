/**
 * Finding the leader replica a consumer-facing request (Fetch, ListOffsets,
 * DeleteRecords, OffsetForLeaderEpoch) is about, with Kafka's errors:
 * UNKNOWN_TOPIC_OR_PARTITION (not in metadata), NOT_LEADER_OR_FOLLOWER (not
 * hosted here, or not the leader), FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH
 * (the client's currentLeaderEpoch is older / newer than ours; -1 skips the
 * check).
 *
 * Structural types keep this module (and fetch.ts, offsets.ts) free of an
 * import of replica-manager.ts, which owns the FetchManager.
 */
import type { PartitionInfo, TopicInfo } from '../../metadata/model.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { PartitionLog } from '../../storage/engine.ts';

/** What these modules use of a hosted partition (replica-manager.ts `Partition`). */
export interface HostedPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly log: PartitionLog;
  readonly leaderEpoch: number;
  info: PartitionInfo;
  addAppendListener(fn: () => void): void;
  removeAppendListener(fn: () => void): void;
  /** Wakes waiting fetches (they re-check their partitions). */
  notifyAppended(): void;
}

export interface PartitionSource {
  get(topic: string, partition: number): HostedPartition | undefined;
}

export interface TopicSource {
  get(name: string): TopicInfo | undefined;
  getById(topicId: string): TopicInfo | undefined;
}

export interface LeaderHint {
  leaderId: number;
  leaderEpoch: number;
}

export type LeaderLookup =
  | { ok: true; partition: HostedPartition; topic: TopicInfo }
  | { ok: false; errorCode: number; leader?: LeaderHint };

export function checkLeaderEpoch(current: number, requested: number | undefined): number {
  if (requested === undefined || requested < 0) return ErrorCode.NONE;
  if (current > requested) return ErrorCode.FENCED_LEADER_EPOCH;
  if (current < requested) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  return ErrorCode.NONE;
}

export function findLeader(
  partitions: PartitionSource,
  nodeId: number,
  topic: TopicInfo | undefined,
  partition: number,
  currentLeaderEpoch?: number,
): LeaderLookup {
  if (topic === undefined) return { ok: false, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  const info =
    topic.partitions[partition]?.partition === partition
      ? topic.partitions[partition]
      : topic.partitions.find((p) => p.partition === partition);
  if (info === undefined) return { ok: false, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  const hint = { leaderId: info.leader, leaderEpoch: info.leaderEpoch };
  const p = partitions.get(topic.name, partition);
  if (p === undefined || info.leader !== nodeId) {
    return { ok: false, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, leader: hint };
  }
  const epochError = checkLeaderEpoch(p.leaderEpoch, currentLeaderEpoch);
  if (epochError !== ErrorCode.NONE) return { ok: false, errorCode: epochError, leader: hint };
  return { ok: true, partition: p, topic };
}

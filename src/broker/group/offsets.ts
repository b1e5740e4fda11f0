/**
 * Committed offsets of a classic group (Kafka's OffsetMetadataManager, the
 * part that is pure state): who may commit, what a fetch returns, which
 * offsets have expired. The coordinator runs these inside the group's queue
 * and persists the resulting records.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import { type ClassicGroup, CONSUMER_PROTOCOL_TYPE, type CommittedOffset, offsetKey } from './group.ts';

/**
 * Whether an OffsetCommit may go through (Kafka's ClassicGroup.validateOffsetCommit):
 * generation -1 with no member id is a standalone consumer or the admin
 * client, accepted while the group has no members; anything else must be a
 * current member of the current generation, and not while the group waits
 * for its assignment.
 */
export function validateOffsetCommit(
  group: ClassicGroup,
  memberId: string,
  groupInstanceId: string | null,
  generationId: number,
): number {
  if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  if (generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
  if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
    const err = validateMember(group, memberId, groupInstanceId);
    if (err !== ErrorCode.NONE) return err;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  } else if (!group.is('Empty')) {
    return ErrorCode.UNKNOWN_MEMBER_ID;
  }
  if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
  return ErrorCode.NONE;
}

/** Kafka's ClassicGroup.validateMember: the instance id must map to this member id; else the member must exist. */
export function validateMember(
  group: ClassicGroup,
  memberId: string,
  groupInstanceId: string | null,
): number {
  if (groupInstanceId !== null) {
    const existing = group.staticMemberId(groupInstanceId);
    if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    return ErrorCode.NONE;
  }
  return group.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
}

export function getOffset(group: ClassicGroup | undefined, topic: string, partition: number) {
  return group?.offsets.get(offsetKey(topic, partition));
}

export function putOffset(
  group: ClassicGroup,
  topic: string,
  partition: number,
  v: CommittedOffset | null,
): void {
  const k = offsetKey(topic, partition);
  if (v === null) group.offsets.delete(k);
  else group.offsets.set(k, { ...v, topic, partition });
}

export interface FetchedPartition {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface FetchedTopic {
  name: string;
  partitions: FetchedPartition[];
}

function fetched(partitionIndex: number, o: CommittedOffset | undefined): FetchedPartition {
  return {
    partitionIndex,
    committedOffset: o ? o.offset : -1n,
    committedLeaderEpoch: o ? o.leaderEpoch : -1,
    metadata: o ? o.metadata : '',
    errorCode: ErrorCode.NONE,
  };
}

/** The committed offsets asked for (or all of them when `topics` is null); -1 where none is committed. */
export function fetchOffsets(
  group: ClassicGroup | undefined,
  topics: { name: string; partitionIndexes: number[] }[] | null,
): FetchedTopic[] {
  if (topics !== null) {
    return topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => fetched(p, getOffset(group, t.name, p))),
    }));
  }
  const byTopic = new Map<string, FetchedPartition[]>();
  for (const o of group?.offsets.values() ?? []) {
    let list = byTopic.get(o.topic);
    if (!list) byTopic.set(o.topic, (list = []));
    list.push(fetched(o.partition, o));
  }
  return [...byTopic].map(([name, partitions]) => ({
    name,
    partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex),
  }));
}

/**
 * Offsets past retention (Kafka's offsetExpirationCondition): in an empty
 * consumer group, counted from when the group became empty; in a stable
 * consumer group, only offsets of topics it no longer subscribes to, from
 * their commit; in a standalone group, from their commit. An explicit
 * expire timestamp (v2-4 commits) wins.
 */
export function expiredOffsets(
  group: ClassicGroup,
  now: number,
  retentionMs: number,
): { topic: string; partition: number }[] {
  let base: ((o: CommittedOffset) => number) | null = null;
  let onlyUnsubscribed = false;
  if (group.protocolType !== null) {
    if (group.is('Empty')) {
      const since = group.currentStateTimestamp;
      base = (o) => since ?? o.commitTimestamp;
    } else if (
      group.protocolType === CONSUMER_PROTOCOL_TYPE &&
      group.subscribedTopics !== null &&
      group.is('Stable')
    ) {
      base = (o) => o.commitTimestamp;
      onlyUnsubscribed = true;
    }
  } else {
    base = (o) => o.commitTimestamp;
  }
  if (base === null) return [];
  const out: { topic: string; partition: number }[] = [];
  for (const o of group.offsets.values()) {
    if (onlyUnsubscribed && group.isSubscribedToTopic(o.topic)) continue;
    const expired = o.expireTimestamp !== null ? now >= o.expireTimestamp : now - base(o) >= retentionMs;
    if (expired) out.push({ topic: o.topic, partition: o.partition });
  }
  return out;
}

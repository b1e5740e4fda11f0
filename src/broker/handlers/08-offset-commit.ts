/**
 * OffsetCommit (key 8), v0-9. v0 has no generation or member id (a
 * standalone commit); v1+ carry them: generation -1 with an empty member id
 * commits for a group without members (standalone consumers, admin), anything
 * else must be a current member of the current generation (ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS otherwise).
 * v1 has a per-partition commit timestamp (ignored: the broker stamps commits,
 * as Kafka does); v2-4 a retention time (sets the offset's expiry); v6+ the
 * leader epoch; v7+ group.instance.id; v9+ answers GROUP_ID_NOT_FOUND rather
 * than ILLEGAL_GENERATION for an unknown group. Answered once the commit is
 * in `__consumer_offsets`.
 */
import type { OffsetCommitRequest } from '../../protocol/generated/messages/offset-commit-request.ts';
import type { OffsetCommitResponse } from '../../protocol/generated/messages/offset-commit-response.ts';
import type { Handler } from './types.ts';

export const offsetCommitHandler: Handler<OffsetCommitRequest, OffsetCommitResponse> = {
  apiKey: 8,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    const topics = await ctx.services.groups.commitOffsets({
      groupId: req.groupId,
      generationId: v >= 1 ? (req.generationIdOrMemberEpoch ?? -1) : -1,
      memberId: v >= 1 ? (req.memberId ?? '') : '',
      groupInstanceId: req.groupInstanceId ?? null,
      retentionTimeMs: v >= 2 && v <= 4 ? Number(req.retentionTimeMs ?? -1n) : -1,
      apiVersion: v,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: p.committedLeaderEpoch ?? -1,
          committedMetadata: p.committedMetadata,
        })),
      })),
    });
    return { throttleTimeMs: 0, topics };
  },
};

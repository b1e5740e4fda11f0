/**
 * OffsetForLeaderEpoch (key 23), v2-4 (Kafka 4 removed v0-1). v2 adds the
 * current leader epoch (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH) and
 * throttle time; v3 the replica id (consumers -1 / debug -2, followers their
 * id); v4 flexible. Answers the largest epoch <= the requested one and its
 * end offset from the partition's leader-epoch cache; -1/-1 when unknown.
 * Logic: replica/offsets.ts.
 */
import type { OffsetForLeaderEpochRequest } from '../../protocol/generated/messages/offset-for-leader-epoch-request.ts';
import type {
  OffsetForLeaderEpochResponse,
  OffsetForLeaderEpochResponse_EpochEndOffset,
} from '../../protocol/generated/messages/offset-for-leader-epoch-response.ts';
import { offsetForLeaderEpoch } from '../replica/offsets.ts';
import { findLeader } from '../replica/partition-lookup.ts';
import type { Handler } from './types.ts';

export const offsetForLeaderEpochHandler: Handler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse> =
  {
    apiKey: 23,
    minVersion: 2,
    maxVersion: 4,
    handle(req, ctx) {
      const { services } = ctx;
      const topics: OffsetForLeaderEpochResponse['topics'] = [];
      for (const t of req.topics) {
        const info = services.topics.get(t.topic);
        const partitions: OffsetForLeaderEpochResponse_EpochEndOffset[] = [];
        for (const p of t.partitions) {
          const found = findLeader(
            services.replicas,
            services.nodeId,
            info,
            p.partition,
            p.currentLeaderEpoch,
          );
          if (!found.ok) {
            partitions.push({
              errorCode: found.errorCode,
              partition: p.partition,
              leaderEpoch: -1,
              endOffset: -1n,
            });
            continue;
          }
          const r = offsetForLeaderEpoch(found.partition, p.leaderEpoch);
          partitions.push({
            errorCode: r.errorCode,
            partition: p.partition,
            leaderEpoch: r.leaderEpoch,
            endOffset: BigInt(r.endOffset),
          });
        }
        topics.push({ topic: t.topic, partitions });
      }
      return { throttleTimeMs: 0, topics };
    },
  };

/**
 * ListOffsets (key 2), v1-10 (Kafka 4 removed v0 and its offsets array).
 * v1 answers one offset with its timestamp; v2 adds the isolation level
 * (READ_COMMITTED answers "latest" with the last stable offset); v4 the
 * current leader epoch (fencing) and the leader epoch in the answer; v5 may
 * answer OFFSET_NOT_AVAILABLE; v6 flexible; v7 max timestamp (-3); v8
 * earliest local (-4); v9 latest tiered (-5; -1 here, no tiered storage);
 * v10 a timeout for remote lookups (unused). Logic: replica/offsets.ts.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { ListOffsetsRequest } from '../../protocol/generated/messages/list-offsets-request.ts';
import type {
  ListOffsetsResponse,
  ListOffsetsResponse_ListOffsetsPartitionResponse,
} from '../../protocol/generated/messages/list-offsets-response.ts';
import { CONSUMER_REPLICA_ID, listOffset, type OffsetAnswer } from '../replica/offsets.ts';
import { findLeader } from '../replica/partition-lookup.ts';
import type { Handler } from './types.ts';

function answer(partitionIndex: number, a: OffsetAnswer): ListOffsetsResponse_ListOffsetsPartitionResponse {
  return {
    partitionIndex,
    errorCode: a.errorCode,
    timestamp: BigInt(a.timestamp),
    offset: BigInt(a.offset),
    leaderEpoch: a.leaderEpoch,
  };
}

const errorAnswer = (partitionIndex: number, errorCode: number) =>
  answer(partitionIndex, { errorCode, timestamp: -1, offset: -1, leaderEpoch: -1 });

export const listOffsetsHandler: Handler<ListOffsetsRequest, ListOffsetsResponse> = {
  apiKey: 2,
  minVersion: 1,
  maxVersion: 10,
  async handle(req, ctx) {
    const { services } = ctx;
    // Only consumers are bounded by the high watermark / LSO; followers and the debug consumer see the log end.
    const isolation = req.replicaId === CONSUMER_REPLICA_ID ? (req.isolationLevel ?? 0) : null;
    const counts = new Map<string, number>();
    for (const t of req.topics) {
      for (const p of t.partitions) {
        const k = `${t.name}\u0000${p.partitionIndex}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    const topics: ListOffsetsResponse['topics'] = [];
    for (const t of req.topics) {
      const info = services.topics.get(t.name);
      const partitions: ListOffsetsResponse_ListOffsetsPartitionResponse[] = [];
      for (const p of t.partitions) {
        if ((counts.get(`${t.name}\u0000${p.partitionIndex}`) ?? 0) > 1) {
          partitions.push(errorAnswer(p.partitionIndex, ErrorCode.INVALID_REQUEST));
          continue;
        }
        const found = findLeader(
          services.replicas,
          services.nodeId,
          info,
          p.partitionIndex,
          p.currentLeaderEpoch,
        );
        if (!found.ok) {
          partitions.push(errorAnswer(p.partitionIndex, found.errorCode));
          continue;
        }
        partitions.push(
          answer(p.partitionIndex, await listOffset(found.partition, Number(p.timestamp), isolation)),
        );
      }
      topics.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
};

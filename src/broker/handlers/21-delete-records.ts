/**
 * DeleteRecords (key 21), v0-2 (v1 is v0 with throttling after the
 * response; v2 flexible). Moves each partition's log start offset to the
 * given offset (-1: the high watermark); beyond the high watermark is
 * OFFSET_OUT_OF_RANGE, internal topics are INVALID_TOPIC_EXCEPTION, topics
 * without the delete cleanup policy POLICY_VIOLATION. One node: the answer
 * is immediate (timeoutMs matters once replicas must follow).
 * Logic: replica/offsets.ts.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { DeleteRecordsRequest } from '../../protocol/generated/messages/delete-records-request.ts';
import type {
  DeleteRecordsResponse,
  DeleteRecordsResponse_DeleteRecordsPartitionResult,
} from '../../protocol/generated/messages/delete-records-response.ts';
import { deleteRecords } from '../replica/offsets.ts';
import { findLeader } from '../replica/partition-lookup.ts';
import type { Handler } from './types.ts';

export const deleteRecordsHandler: Handler<DeleteRecordsRequest, DeleteRecordsResponse> = {
  apiKey: 21,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const { services } = ctx;
    const topics: DeleteRecordsResponse['topics'] = [];
    for (const t of req.topics) {
      const info = services.topics.get(t.name);
      const partitions: DeleteRecordsResponse_DeleteRecordsPartitionResult[] = [];
      for (const p of t.partitions) {
        const fail = (errorCode: number) =>
          partitions.push({ partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode });
        if (info?.internal) {
          fail(ErrorCode.INVALID_TOPIC_EXCEPTION);
          continue;
        }
        const found = findLeader(services.replicas, services.nodeId, info, p.partitionIndex);
        if (!found.ok) {
          fail(found.errorCode);
          continue;
        }
        const r = await deleteRecords(found.partition, Number(p.offset));
        partitions.push({
          partitionIndex: p.partitionIndex,
          lowWatermark: BigInt(r.lowWatermark),
          errorCode: r.errorCode,
        });
      }
      topics.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
};

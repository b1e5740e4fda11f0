/**
 * CreatePartitions (key 37), v0-3.
 * v1 is v0; v2 is flexible; v3 may return THROTTLING_QUOTA_EXCEEDED (never
 * here). `count` is the new total; `assignments` (one replica list per new
 * partition) is optional. validateOnly checks without changing anything.
 * Errors are per topic with a message: UNKNOWN_TOPIC_OR_PARTITION,
 * INVALID_PARTITIONS (not an increase), INVALID_REPLICA_ASSIGNMENT, a topic
 * listed twice INVALID_REQUEST, over 10,000 new partitions in one request
 * POLICY_VIOLATION.
 */
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { CreatePartitionsRequest } from '../../protocol/generated/messages/create-partitions-request.ts';
import type {
  CreatePartitionsResponse,
  CreatePartitionsResponse_CreatePartitionsTopicResult,
} from '../../protocol/generated/messages/create-partitions-response.ts';
import { MAX_PARTITIONS_PER_REQUEST } from '../topics/topic-manager.ts';
import type { Handler } from './types.ts';

export const createPartitionsHandler: Handler<CreatePartitionsRequest, CreatePartitionsResponse> = {
  apiKey: 37,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const mgr = ctx.services.topics;
    const count = new Map<string, number>();
    for (const t of req.topics) count.set(t.name, (count.get(t.name) ?? 0) + 1);
    let added = 0;
    for (const t of req.topics) {
      const cur = mgr.get(t.name)?.partitions.length;
      if (cur !== undefined && t.count > cur) added += t.count - cur;
    }
    const results: CreatePartitionsResponse_CreatePartitionsTopicResult[] = [];
    for (const t of req.topics) {
      const res = (errorCode: number, errorMessage: string | null) =>
        results.push({ name: t.name, errorCode, errorMessage });
      if (count.get(t.name)! > 1) {
        res(ErrorCode.INVALID_REQUEST, 'Duplicate topic in request.');
        continue;
      }
      if (added > MAX_PARTITIONS_PER_REQUEST) {
        res(ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.');
        continue;
      }
      try {
        await mgr.addPartitions(
          t.name,
          t.count,
          req.validateOnly,
          t.assignments === null || t.assignments.length === 0 ? null : t.assignments.map((a) => a.brokerIds),
        );
        res(0, null);
      } catch (e) {
        if (!(e instanceof KafkaProtocolError)) throw e;
        res(e.code, e.message);
      }
    }
    return { throttleTimeMs: 0, results };
  },
};

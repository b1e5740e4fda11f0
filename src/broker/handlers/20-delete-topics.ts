/**
 * DeleteTopics (key 20), v0-6.
 * v0-5 name topics (topicNames); v6 names them by name or by topic id
 * (name null), and the response carries both. v5+ errorMessage.
 * Unknown name: UNKNOWN_TOPIC_OR_PARTITION; unknown id: UNKNOWN_TOPIC_ID;
 * both name and id, or a topic listed twice: INVALID_REQUEST; with
 * delete.topic.enable=false every topic gets TOPIC_DELETION_DISABLED
 * (INVALID_REQUEST before v3, as in Kafka). Deleting removes the logs; the
 * name can be created again at once, with a new topic id.
 */
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { DeleteTopicsRequest } from '../../protocol/generated/messages/delete-topics-request.ts';
import type {
  DeleteTopicsResponse,
  DeleteTopicsResponse_DeletableTopicResult,
} from '../../protocol/generated/messages/delete-topics-response.ts';
import { ZERO_UUID } from '../../protocol/generated/runtime.ts';
import { INTERNAL_TOPICS } from '../topics/topic-manager.ts';
import type { Handler } from './types.ts';

export const deleteTopicsHandler: Handler<DeleteTopicsRequest, DeleteTopicsResponse> = {
  apiKey: 20,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, ctx) {
    const mgr = ctx.services.topics;
    const wanted: { name: string | null; topicId: string }[] =
      ctx.apiVersion >= 6
        ? (req.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId }))
        : (req.topicNames ?? []).map((name) => ({ name, topicId: ZERO_UUID }));
    const count = new Map<string, number>();
    for (const w of wanted) {
      const k = w.name ?? `id:${w.topicId}`;
      count.set(k, (count.get(k) ?? 0) + 1);
    }
    const enabled = ctx.services.config.bool('delete.topic.enable');
    // Request-level checks first; what passes is deleted in one TopicManager step.
    const responses: (
      | DeleteTopicsResponse_DeletableTopicResult
      | { name: string; byId: string | undefined }
    )[] = wanted.map((w) => {
      const res = (errorCode: number, errorMessage: string, name = w.name) => ({
        name,
        topicId: w.topicId,
        errorCode,
        errorMessage,
      });
      const byId = w.name === null;
      if (!enabled)
        return res(
          ctx.apiVersion < 3 ? ErrorCode.INVALID_REQUEST : ErrorCode.TOPIC_DELETION_DISABLED,
          'Topic deletion is disabled (delete.topic.enable=false).',
        );
      if (!byId && w.topicId !== ZERO_UUID)
        return res(ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.');
      if (count.get(w.name ?? `id:${w.topicId}`)! > 1)
        return res(ErrorCode.INVALID_REQUEST, byId ? 'Duplicate topic id.' : 'Duplicate topic name.');
      const name = byId ? mgr.getById(w.topicId)?.name : w.name!;
      if (name === undefined) return res(ErrorCode.UNKNOWN_TOPIC_ID, `no topic has id ${w.topicId}`);
      if (INTERNAL_TOPICS.has(name))
        return res(ErrorCode.INVALID_REQUEST, `${name} is an internal topic and cannot be deleted`, name);
      return { name, byId: byId ? w.topicId : undefined };
    });
    const targets = responses.filter((r): r is { name: string; byId: string | undefined } => 'byId' in r);
    const outcomes = await mgr.deleteMany(targets.map((t) => ({ name: t.name, topicId: t.byId })));
    const byTarget = new Map(targets.map((t, i) => [t, outcomes[i]!]));
    const out: DeleteTopicsResponse_DeletableTopicResult[] = responses.map((r) => {
      if (!('byId' in r)) return r;
      const o = byTarget.get(r)!;
      if (o instanceof KafkaProtocolError)
        return { name: r.name, topicId: r.byId ?? ZERO_UUID, errorCode: o.code, errorMessage: o.message };
      return { name: o.name, topicId: o.topicId, errorCode: 0, errorMessage: null };
    });
    return { throttleTimeMs: 0, responses: out };
  },
};

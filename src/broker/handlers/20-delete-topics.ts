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
    const responses: DeleteTopicsResponse_DeletableTopicResult[] = [];
    for (const w of wanted) {
      const res = (errorCode: number, errorMessage: string | null, name = w.name, topicId = w.topicId) =>
        responses.push({ name, topicId, errorCode, errorMessage });
      const byId = w.name === null;
      if (!enabled) {
        res(
          ctx.apiVersion < 3 ? ErrorCode.INVALID_REQUEST : ErrorCode.TOPIC_DELETION_DISABLED,
          'Topic deletion is disabled (delete.topic.enable=false).',
        );
        continue;
      }
      if (!byId && w.topicId !== ZERO_UUID) {
        res(ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.');
        continue;
      }
      if (count.get(w.name ?? `id:${w.topicId}`)! > 1) {
        res(ErrorCode.INVALID_REQUEST, byId ? 'Duplicate topic id.' : 'Duplicate topic name.');
        continue;
      }
      const name = byId ? mgr.getById(w.topicId)?.name : w.name!;
      if (name === undefined) {
        res(ErrorCode.UNKNOWN_TOPIC_ID, `no topic has id ${w.topicId}`);
        continue;
      }
      if (INTERNAL_TOPICS.has(name)) {
        res(ErrorCode.INVALID_REQUEST, `${name} is an internal topic and cannot be deleted`, name);
        continue;
      }
      try {
        const deleted = await mgr.delete(name, byId ? w.topicId : undefined);
        res(0, null, deleted.name, deleted.topicId);
      } catch (e) {
        if (!(e instanceof KafkaProtocolError)) throw e;
        res(e.code, e.message, name, byId ? w.topicId : ZERO_UUID);
      }
    }
    return { throttleTimeMs: 0, responses };
  },
};

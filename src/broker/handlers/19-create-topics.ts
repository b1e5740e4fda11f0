/**
 * CreateTopics (key 19), v0-7.
 * v1 validateOnly; v1+ errorMessage; v4 numPartitions/replicationFactor -1
 * mean the broker defaults (accepted at every version here); v5 (flexible)
 * returns numPartitions, replicationFactor and the topic's configs with
 * sources; v7 topicId. Errors are per topic; a topic named twice gets
 * INVALID_REQUEST, and a request creating more than 10,000 partitions fails
 * whole with POLICY_VIOLATION, as in Kafka.
 */
import type { TopicInfo } from '../../metadata/model.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { CreateTopicsRequest } from '../../protocol/generated/messages/create-topics-request.ts';
import type {
  CreateTopicsResponse,
  CreateTopicsResponse_CreatableTopicResult,
} from '../../protocol/generated/messages/create-topics-response.ts';
import { ZERO_UUID } from '../../protocol/generated/runtime.ts';
import { describeTopicConfigs } from '../topics/config-describe.ts';
import { type CreateTopicSpec, MAX_PARTITIONS_PER_REQUEST } from '../topics/topic-manager.ts';
import type { Handler } from './types.ts';

function errorResult(name: string, code: number, message: string): CreateTopicsResponse_CreatableTopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode: code,
    errorMessage: message,
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
  };
}

export const createTopicsHandler: Handler<CreateTopicsRequest, CreateTopicsResponse> = {
  apiKey: 19,
  minVersion: 0,
  maxVersion: 7,
  async handle(req, ctx) {
    const { topics: mgr, config } = ctx.services;
    const validateOnly = req.validateOnly === true;
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    let total = 0;
    for (const t of req.topics) {
      const n =
        t.assignments.length > 0
          ? t.assignments.length
          : t.numPartitions === -1
            ? config.int('num.partitions')
            : t.numPartitions;
      total += Math.max(0, n);
    }
    // First the request-level checks, then one TopicManager step for the rest.
    const results: (CreateTopicsResponse_CreatableTopicResult | CreateTopicSpec)[] = req.topics.map((t) => {
      if (seen.get(t.name)! > 1)
        return errorResult(t.name, ErrorCode.INVALID_REQUEST, 'Found multiple entries for this topic.');
      if (total > MAX_PARTITIONS_PER_REQUEST)
        return errorResult(
          t.name,
          ErrorCode.POLICY_VIOLATION,
          'Excessively large number of partitions per request.',
        );
      return {
        name: t.name,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: t.assignments.map((a) => ({ partition: a.partitionIndex, replicas: a.brokerIds })),
        configs: Object.fromEntries(t.configs.map((c) => [c.name, c.value])),
      };
    });
    const specs = results.filter((r): r is CreateTopicSpec => !('errorCode' in r));
    let outcomes: (TopicInfo | KafkaProtocolError)[];
    if (validateOnly) {
      outcomes = specs.map((spec) => {
        try {
          const plan = mgr.plan(spec);
          return { name: spec.name, topicId: ZERO_UUID, internal: false, ...plan };
        } catch (e) {
          if (e instanceof KafkaProtocolError) return e;
          throw e;
        }
      });
    } else {
      outcomes = await mgr.createMany(specs);
    }
    const byName = new Map(specs.map((s, i) => [s.name, outcomes[i]!]));
    const topics = results.map((r) => {
      if ('errorCode' in r) return r;
      const o = byName.get(r.name)!;
      if (o instanceof KafkaProtocolError) return errorResult(r.name, o.code, o.message);
      return {
        name: o.name,
        topicId: o.topicId,
        errorCode: 0,
        errorMessage: null,
        numPartitions: o.partitions.length,
        replicationFactor: o.partitions[0]?.replicas.length ?? -1,
        configs: describeTopicConfigs(config, o.configs).map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          configSource: c.source,
          isSensitive: c.isSensitive,
        })),
      };
    });
    return { throttleTimeMs: 0, topics };
  },
};

/**
 * CreateTopics (key 19), v0-7.
 * v1 validateOnly; v1+ errorMessage; v4 numPartitions/replicationFactor -1
 * mean the broker defaults (accepted at every version here); v5 (flexible)
 * returns numPartitions, replicationFactor and the topic's configs with
 * sources; v7 topicId. Errors are per topic; a topic named twice gets
 * INVALID_REQUEST, and a request creating more than 10,000 partitions fails
 * whole with POLICY_VIOLATION, as in Kafka.
 */
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
    const results: CreateTopicsResponse_CreatableTopicResult[] = [];
    for (const t of req.topics) {
      if (seen.get(t.name)! > 1) {
        results.push(
          errorResult(t.name, ErrorCode.INVALID_REQUEST, 'Found multiple entries for this topic.'),
        );
        continue;
      }
      if (total > MAX_PARTITIONS_PER_REQUEST) {
        results.push(
          errorResult(
            t.name,
            ErrorCode.POLICY_VIOLATION,
            'Excessively large number of partitions per request.',
          ),
        );
        continue;
      }
      const spec: CreateTopicSpec = {
        name: t.name,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: t.assignments.map((a) => ({ partition: a.partitionIndex, replicas: a.brokerIds })),
        configs: Object.fromEntries(t.configs.map((c) => [c.name, c.value])),
      };
      try {
        let topicId = ZERO_UUID;
        let partitions: { replicas: number[] }[];
        let overrides: Record<string, string>;
        if (validateOnly) {
          const plan = mgr.plan(spec);
          partitions = plan.partitions;
          overrides = plan.configs;
        } else {
          const created = await mgr.create(spec);
          topicId = created.topicId;
          partitions = created.partitions;
          overrides = created.configs;
        }
        results.push({
          name: t.name,
          topicId,
          errorCode: 0,
          errorMessage: null,
          numPartitions: partitions.length,
          replicationFactor: partitions[0]?.replicas.length ?? -1,
          configs: describeTopicConfigs(config, overrides).map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: c.readOnly,
            configSource: c.source,
            isSensitive: c.isSensitive,
          })),
        });
      } catch (e) {
        if (!(e instanceof KafkaProtocolError)) throw e;
        results.push(errorResult(t.name, e.code, e.message));
      }
    }
    return { throttleTimeMs: 0, topics: results };
  },
};

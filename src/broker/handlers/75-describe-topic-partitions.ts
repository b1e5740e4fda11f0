/**
 * DescribeTopicPartitions (key 75), v0 (flexible), KIP-966.
 * Topics (all when the list is empty) in name order with their partitions,
 * paged: at most min(responsePartitionLimit, max.request.partition.size.limit)
 * partitions per response, continuing from `cursor`; nextCursor names the
 * first partition left out (null when done). Unknown names get
 * UNKNOWN_TOPIC_OR_PARTITION, illegal ones INVALID_TOPIC_EXCEPTION. A cursor
 * topic missing from a non-empty list, or a negative cursor partition, fails
 * every listed topic with INVALID_REQUEST, as Kafka does.
 */
import type { TopicInfo } from '../../metadata/model.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { DescribeTopicPartitionsRequest } from '../../protocol/generated/messages/describe-topic-partitions-request.ts';
import type {
  DescribeTopicPartitionsResponse,
  DescribeTopicPartitionsResponse_Cursor,
  DescribeTopicPartitionsResponse_DescribeTopicPartitionsResponseTopic as TopicResult,
} from '../../protocol/generated/messages/describe-topic-partitions-response.ts';
import { ZERO_UUID } from '../../protocol/generated/runtime.ts';
import { validateTopicName } from '../topics/topic-manager.ts';
import { ALL_TOPIC_OPERATIONS } from './03-metadata.ts';
import type { Handler } from './types.ts';

const NOT_REQUESTED = -2147483648;

function errorTopic(name: string, errorCode: number): TopicResult {
  return {
    errorCode,
    name,
    topicId: ZERO_UUID,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: NOT_REQUESTED,
  };
}

export const describeTopicPartitionsHandler: Handler<
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponse
> = {
  apiKey: 75,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx) {
    const { topics: mgr, config } = ctx.services;
    const cursor = req.cursor;
    const all = req.topics.length === 0;
    const requested = [...new Set(req.topics.map((t) => t.name))];
    if (cursor && (cursor.partitionIndex < 0 || (!all && !requested.includes(cursor.topicName)))) {
      return {
        throttleTimeMs: 0,
        topics: requested.map((n) => errorTopic(n, ErrorCode.INVALID_REQUEST)),
        nextCursor: null,
      };
    }
    const brokerLimit = config.int('max.request.partition.size.limit');
    let remaining =
      req.responsePartitionLimit > 0 ? Math.min(req.responsePartitionLimit, brokerLimit) : brokerLimit;
    const names = (all ? mgr.list().map((t) => t.name) : requested)
      .filter((n) => !cursor || n >= cursor.topicName)
      .sort();
    const topics: TopicResult[] = [];
    let nextCursor: DescribeTopicPartitionsResponse_Cursor | null = null;
    for (const name of names) {
      let t: TopicInfo | undefined;
      try {
        validateTopicName(name);
        t = mgr.get(name);
        if (!t) throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      } catch (e) {
        if (!(e instanceof KafkaProtocolError)) throw e;
        topics.push(errorTopic(name, e.code));
        continue;
      }
      if (remaining === 0) {
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const start = cursor && cursor.topicName === name ? cursor.partitionIndex : 0;
      const parts = t.partitions.filter((p) => p.partition >= start);
      const taken = parts.slice(0, remaining);
      remaining -= taken.length;
      topics.push({
        errorCode: 0,
        name: t.name,
        topicId: t.topicId,
        isInternal: t.internal,
        partitions: taken.map((p) => ({
          errorCode: 0,
          partitionIndex: p.partition,
          leaderId: p.leader,
          leaderEpoch: p.leaderEpoch,
          replicaNodes: p.replicas,
          isrNodes: p.isr,
          eligibleLeaderReplicas: [],
          lastKnownElr: [],
          offlineReplicas: p.offlineReplicas,
        })),
        topicAuthorizedOperations: ALL_TOPIC_OPERATIONS,
      });
      if (taken.length < parts.length) {
        nextCursor = { topicName: t.name, partitionIndex: parts[taken.length]!.partition };
        break;
      }
    }
    return { throttleTimeMs: 0, topics, nextCursor };
  },
};

/**
 * Metadata (key 3), v0-12. Null topics (v1+) or an empty list at v0 means
 * every topic; v10+ may name topics by id. Unknown topics are auto-created
 * when the request allows it (v4+, always before) and the broker's
 * auto.create.topics.enable is on.
 */

import type { TopicInfo } from '../../metadata/model.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { MetadataRequest } from '../../protocol/generated/messages/metadata-request.ts';
import type {
  MetadataResponse,
  MetadataResponse_MetadataResponseTopic,
} from '../../protocol/generated/messages/metadata-response.ts';
import { ZERO_UUID } from '../../protocol/generated/runtime.ts';
import { validateTopicName } from '../topics/topic-manager.ts';
import type { Handler } from './types.ts';

/** Bit set of topic operations allowed when no authorizer is configured. */
export const ALL_TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((a, op) => a | (1 << op), 0);
export const ALL_CLUSTER_OPERATIONS = [4, 5, 7, 8, 9, 10, 11, 12, 13].reduce((a, op) => a | (1 << op), 0);
const NOT_REQUESTED = -2147483648;

function describeTopic(t: TopicInfo, withOps: boolean): MetadataResponse_MetadataResponseTopic {
  return {
    errorCode: 0,
    name: t.name,
    topicId: t.topicId,
    isInternal: t.internal,
    partitions: t.partitions.map((p) => ({
      errorCode: 0,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: p.replicas,
      isrNodes: p.isr,
      offlineReplicas: p.offlineReplicas,
    })),
    topicAuthorizedOperations: withOps ? ALL_TOPIC_OPERATIONS : NOT_REQUESTED,
  };
}

function errorTopic(
  name: string | null,
  topicId: string,
  errorCode: number,
): MetadataResponse_MetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: NOT_REQUESTED,
  };
}

export const metadataHandler: Handler<MetadataRequest, MetadataResponse> = {
  apiKey: 3,
  minVersion: 0,
  maxVersion: 12,
  async handle(req, ctx) {
    const { services, apiVersion } = ctx;
    const topicsMgr = services.topics;
    const withOps = req.includeTopicAuthorizedOperations === true;
    const allowAuto =
      (apiVersion < 4 || req.allowAutoTopicCreation !== false) &&
      services.config.bool('auto.create.topics.enable');
    const all = req.topics === null || (apiVersion === 0 && req.topics.length === 0);
    const topics: MetadataResponse_MetadataResponseTopic[] = [];
    if (all) {
      for (const t of topicsMgr.list()) topics.push(describeTopic(t, withOps));
    } else {
      for (const rt of req.topics ?? []) {
        if (rt.name == null && apiVersion < 12) {
          // Topic ids in requests are only allowed from v12 (the response name is not nullable before).
          topics.push(errorTopic('', rt.topicId ?? ZERO_UUID, ErrorCode.INVALID_REQUEST));
          continue;
        }
        if (rt.name == null) {
          const t = rt.topicId && rt.topicId !== ZERO_UUID ? topicsMgr.getById(rt.topicId) : undefined;
          topics.push(
            t
              ? describeTopic(t, withOps)
              : errorTopic(null, rt.topicId ?? ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_ID),
          );
          continue;
        }
        let t = topicsMgr.get(rt.name);
        if (!t && allowAuto) {
          try {
            validateTopicName(rt.name);
            t = await topicsMgr.create({ name: rt.name, numPartitions: -1, replicationFactor: -1 });
          } catch (e) {
            if (e instanceof KafkaProtocolError) {
              // Lost a race with another creator: describe what exists.
              t = topicsMgr.get(rt.name);
              if (!t) {
                topics.push(errorTopic(rt.name, ZERO_UUID, e.code));
                continue;
              }
            } else throw e;
          }
        }
        topics.push(
          t
            ? describeTopic(t, withOps)
            : errorTopic(rt.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        );
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: services
        .brokersFor(ctx.listenerName)
        .map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      clusterId: services.clusterId,
      controllerId: services.nodeId,
      topics,
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
        ? ALL_CLUSTER_OPERATIONS
        : NOT_REQUESTED,
    };
  },
};

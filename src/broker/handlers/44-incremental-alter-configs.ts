/**
 * IncrementalAlterConfigs (key 44), v0-1 (v1 flexible), KIP-339.
 * Per key: SET (0), DELETE (1, back to the default), APPEND (2) and
 * SUBTRACT (3) for list configs (starting from the current value, override
 * or default). Resources: TOPIC, BROKER "<this id>" (per-broker dynamic) and
 * BROKER "" (cluster-wide dynamic default); only dynamic broker keys can
 * change. The new set is validated whole; validateOnly stores nothing.
 * Per resource errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG (topic
 * value or unknown topic key, APPEND/SUBTRACT on a non-list, naming key,
 * value and what is allowed), INVALID_REQUEST (broker value, unknown or
 * read-only broker key, duplicate resource or key, bad operation, other
 * broker id).
 */
import { BROKER_CONFIG_DEFS } from '../../common/config/broker-configs.ts';
import { formatValue } from '../../common/config/registry.ts';
import { TOPIC_CONFIG_DEFS } from '../../common/config/topic-configs.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { IncrementalAlterConfigsRequest } from '../../protocol/generated/messages/incremental-alter-configs-request.ts';
import type {
  IncrementalAlterConfigsResponse,
  IncrementalAlterConfigsResponse_AlterConfigsResourceResponse,
} from '../../protocol/generated/messages/incremental-alter-configs-response.ts';
import { alterTarget, applyIncrementalOps, duplicateResources } from '../topics/config-alter.ts';
import type { Handler } from './types.ts';

export const incrementalAlterConfigsHandler: Handler<
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse
> = {
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const { topics: mgr, config, nodeId } = ctx.services;
    const dups = duplicateResources(req.resources);
    const responses: IncrementalAlterConfigsResponse_AlterConfigsResourceResponse[] = [];
    for (const [i, r] of req.resources.entries()) {
      const res = (errorCode: number, errorMessage: string | null) =>
        responses.push({
          errorCode,
          errorMessage,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
        });
      try {
        if (dups.has(i))
          throw new KafkaProtocolError(ErrorCode.INVALID_REQUEST, 'Duplicate resource in request.');
        const target = alterTarget(r.resourceType, r.resourceName, nodeId);
        if (target.kind === 'topic') {
          await mgr.alterTopicConfigs(
            target.name,
            (cur) =>
              applyIncrementalOps(
                cur,
                r.configs,
                TOPIC_CONFIG_DEFS,
                (k) => formatValue(config.topicDefault(k)),
                ErrorCode.INVALID_CONFIG,
                'topic',
              ),
            req.validateOnly,
          );
        } else {
          await mgr.alterBrokerConfigs(
            target.scope,
            (cur) =>
              applyIncrementalOps(
                cur,
                r.configs,
                BROKER_CONFIG_DEFS,
                (k) => formatValue(config.get(k)),
                ErrorCode.INVALID_REQUEST,
                'broker',
              ),
            req.validateOnly,
          );
        }
        res(0, null);
      } catch (e) {
        if (!(e instanceof KafkaProtocolError)) throw e;
        res(e.code, e.message);
      }
    }
    return { throttleTimeMs: 0, responses };
  },
};

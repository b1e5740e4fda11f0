/**
 * AlterConfigs (key 33), v0-2 (legacy; v1 is v0, v2 flexible).
 * Replaces a resource's whole set of overrides: a TOPIC's config overrides,
 * or the dynamic configs of BROKER "<this id>" / "" (cluster default); keys
 * left out return to their defaults. validateOnly checks without storing.
 * Per resource errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG (topic
 * value, naming key, value and what is allowed), INVALID_REQUEST (broker
 * value or read-only broker key, duplicate resource or key, other broker id).
 */
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { AlterConfigsRequest } from '../../protocol/generated/messages/alter-configs-request.ts';
import type {
  AlterConfigsResponse,
  AlterConfigsResponse_AlterConfigsResourceResponse,
} from '../../protocol/generated/messages/alter-configs-response.ts';
import { alterTarget, duplicateResources } from '../topics/config-alter.ts';
import type { Handler } from './types.ts';

export const alterConfigsHandler: Handler<AlterConfigsRequest, AlterConfigsResponse> = {
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const { topics: mgr, nodeId } = ctx.services;
    const dups = duplicateResources(req.resources);
    const responses: AlterConfigsResponse_AlterConfigsResourceResponse[] = [];
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
        const next: Record<string, string | null> = {};
        for (const c of r.configs) {
          if (Object.hasOwn(next, c.name))
            throw new KafkaProtocolError(
              ErrorCode.INVALID_REQUEST,
              `Error due to duplicate config keys: ${c.name} appears more than once`,
            );
          next[c.name] = c.value;
        }
        const target = alterTarget(r.resourceType, r.resourceName, nodeId);
        if (target.kind === 'topic') await mgr.alterTopicConfigs(target.name, () => next, req.validateOnly);
        else await mgr.alterBrokerConfigs(target.scope, () => next, req.validateOnly);
        res(0, null);
      } catch (e) {
        if (!(e instanceof KafkaProtocolError)) throw e;
        res(e.code, e.message);
      }
    }
    return { throttleTimeMs: 0, responses };
  },
};

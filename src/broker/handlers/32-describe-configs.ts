/**
 * DescribeConfigs (key 32), v0-4.
 * v0 isDefault; v1+ configSource and includeSynonyms; v3+ configType and
 * includeDocumentation; v4 flexible. Resources: TOPIC (all topic configs
 * with the broker defaults that apply) and BROKER: this broker's id gives
 * every broker config, "" the cluster-wide dynamic defaults. Null or empty
 * configurationKeys means all; unknown keys are left out. Sensitive
 * (password) configs have a null value. Errors are per resource:
 * UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION, INVALID_REQUEST (other
 * broker id, unsupported resource type such as BROKER_LOGGER).
 */
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { DescribeConfigsRequest } from '../../protocol/generated/messages/describe-configs-request.ts';
import type {
  DescribeConfigsResponse,
  DescribeConfigsResponse_DescribeConfigsResult,
} from '../../protocol/generated/messages/describe-configs-response.ts';
import type { BrokerServices } from '../services.ts';
import {
  brokerScope,
  ConfigSourceId,
  type DescribedConfig,
  describeBrokerConfigs,
  describeTopicConfigs,
  ResourceType,
} from '../topics/config-describe.ts';
import { validateTopicName } from '../topics/topic-manager.ts';
import type { Handler } from './types.ts';

function describeResource(
  services: BrokerServices,
  type: number,
  name: string,
  opts: { keys: string[] | null; synonyms: boolean; documentation: boolean },
): DescribedConfig[] {
  switch (type) {
    case ResourceType.TOPIC: {
      validateTopicName(name);
      const topic = services.topics.get(name);
      if (!topic)
        throw new KafkaProtocolError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `This server does not host this topic: ${name}`,
        );
      return describeTopicConfigs(services.config, topic.configs, opts);
    }
    case ResourceType.BROKER:
      return describeBrokerConfigs(services.config, brokerScope(name, services.nodeId), opts);
    default:
      throw new KafkaProtocolError(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${type}`);
  }
}

export const describeConfigsHandler: Handler<DescribeConfigsRequest, DescribeConfigsResponse> = {
  apiKey: 32,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx) {
    const v = ctx.apiVersion;
    const opts = {
      synonyms: v >= 1 && req.includeSynonyms === true,
      documentation: v >= 3 && req.includeDocumentation === true,
    };
    const results: DescribeConfigsResponse_DescribeConfigsResult[] = req.resources.map((r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      try {
        const configs = describeResource(ctx.services, r.resourceType, r.resourceName, {
          ...opts,
          keys: r.configurationKeys,
        });
        return {
          ...base,
          errorCode: 0,
          errorMessage: null,
          configs: configs.map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: c.readOnly,
            isDefault: c.source === ConfigSourceId.DEFAULT_CONFIG,
            configSource: c.source,
            isSensitive: c.isSensitive,
            synonyms: c.synonyms,
            configType: c.configType,
            documentation: c.documentation,
          })),
        };
      } catch (e) {
        if (!(e instanceof KafkaProtocolError)) throw e;
        return { ...base, errorCode: e.code, errorMessage: e.message, configs: [] };
      }
    });
    return { throttleTimeMs: 0, results };
  },
};

/**
 * ApiVersions (key 18), v0-4. The list is derived from the handler registry.
 * v3+ carries the client software name/version (logged); an unsupported
 * version is answered with a v0 response by the connection (Kafka's rule).
 */
import type { ApiVersionsRequest } from '../../protocol/generated/messages/api-versions-request.ts';
import type { ApiVersionsResponse } from '../../protocol/generated/messages/api-versions-response.ts';
import type { Handler } from './types.ts';

export const apiVersionsHandler: Handler<ApiVersionsRequest, ApiVersionsResponse> = {
  apiKey: 18,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx) {
    if (ctx.apiVersion >= 3) {
      ctx.log.debug(
        { software: req.clientSoftwareName, version: req.clientSoftwareVersion },
        'client software',
      );
      const valid = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;
      if (!valid.test(req.clientSoftwareName ?? '') || !valid.test(req.clientSoftwareVersion ?? '')) {
        return { errorCode: 42, apiKeys: [], throttleTimeMs: 0 }; // INVALID_REQUEST
      }
    }
    return {
      errorCode: 0,
      apiKeys: ctx.services.registry.versions(),
      throttleTimeMs: 0,
      finalizedFeaturesEpoch: -1n,
    };
  },
};

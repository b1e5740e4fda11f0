/**
 * DescribeCluster (key 60), v0-1 (flexible from v0).
 * v1 endpointType (KIP-919): 1 BROKER is served, 2 CONTROLLER gets
 * UNSUPPORTED_ENDPOINT_TYPE (this is a broker endpoint). Brokers are listed
 * as clients on this listener reach them; controllerId is this node (one
 * node acts as controller). clusterAuthorizedOperations only on request.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { DescribeClusterRequest } from '../../protocol/generated/messages/describe-cluster-request.ts';
import type { DescribeClusterResponse } from '../../protocol/generated/messages/describe-cluster-response.ts';
import { ALL_CLUSTER_OPERATIONS } from './03-metadata.ts';
import type { Handler } from './types.ts';

const ENDPOINT_BROKER = 1;
const NOT_REQUESTED = -2147483648;

export const describeClusterHandler: Handler<DescribeClusterRequest, DescribeClusterResponse> = {
  apiKey: 60,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    const { services } = ctx;
    const endpointType = ctx.apiVersion >= 1 ? (req.endpointType ?? ENDPOINT_BROKER) : ENDPOINT_BROKER;
    const base = {
      throttleTimeMs: 0,
      endpointType,
      clusterId: services.clusterId,
      controllerId: services.nodeId,
      clusterAuthorizedOperations: NOT_REQUESTED,
    };
    if (endpointType !== ENDPOINT_BROKER) {
      return {
        ...base,
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: `endpoint type ${endpointType} is not served here; this is a broker endpoint (1)`,
        brokers: [],
      };
    }
    return {
      ...base,
      errorCode: 0,
      errorMessage: null,
      brokers: services.brokersFor(ctx.listenerName).map((b) => ({
        brokerId: b.nodeId,
        host: b.host,
        port: b.port,
        rack: b.rack,
      })),
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
        ? ALL_CLUSTER_OPERATIONS
        : NOT_REQUESTED,
    };
  },
};

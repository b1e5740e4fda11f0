/**
 * DescribeGroups (key 15), v0-5. State, protocol and members of each group;
 * member metadata and assignments exactly as the members sent them, filled
 * only while the group is Stable (as Kafka). An unknown group is described as
 * Dead with no error (v0-5 have no GROUP_ID_NOT_FOUND). v3+ return authorized
 * operations when asked; v4+ group.instance.id.
 */
import type { DescribeGroupsRequest } from '../../protocol/generated/messages/describe-groups-request.ts';
import type { DescribeGroupsResponse } from '../../protocol/generated/messages/describe-groups-response.ts';
import { ALL_GROUP_OPERATIONS } from '../group/describe.ts';
import type { Handler } from './types.ts';

const NOT_REQUESTED = -2147483648;

export const describeGroupsHandler: Handler<DescribeGroupsRequest, DescribeGroupsResponse> = {
  apiKey: 15,
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx) {
    const ops = req.includeAuthorizedOperations ? ALL_GROUP_OPERATIONS : NOT_REQUESTED;
    return {
      throttleTimeMs: 0,
      groups: ctx.services.groups
        .describeGroups(req.groups)
        .map((g) => ({ ...g, authorizedOperations: ops })),
    };
  },
};

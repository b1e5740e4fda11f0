/**
 * DeleteGroups (key 42), v0-2. Deletes empty groups with their committed
 * offsets (tombstones in `__consumer_offsets`); GROUP_ID_NOT_FOUND for an
 * unknown group, NON_EMPTY_GROUP for one with members.
 */
import type { DeleteGroupsRequest } from '../../protocol/generated/messages/delete-groups-request.ts';
import type { DeleteGroupsResponse } from '../../protocol/generated/messages/delete-groups-response.ts';
import type { Handler } from './types.ts';

export const deleteGroupsHandler: Handler<DeleteGroupsRequest, DeleteGroupsResponse> = {
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    return { throttleTimeMs: 0, results: await ctx.services.groups.deleteGroups(req.groupsNames) };
  },
};

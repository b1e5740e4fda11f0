/**
 * ListGroups (key 16), v0-5. Every group this broker coordinates (all of
 * them: single node), including groups of standalone consumers. v4+ filter by
 * state (case-insensitive) and return the state; v5+ filter by type and
 * return it ("classic" for every group here).
 */
import type { ListGroupsRequest } from '../../protocol/generated/messages/list-groups-request.ts';
import type { ListGroupsResponse } from '../../protocol/generated/messages/list-groups-response.ts';
import type { Handler } from './types.ts';

export const listGroupsHandler: Handler<ListGroupsRequest, ListGroupsResponse> = {
  apiKey: 16,
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx) {
    const r = ctx.services.groups.listGroups(req.statesFilter ?? [], req.typesFilter ?? []);
    return { throttleTimeMs: 0, errorCode: r.errorCode, groups: r.groups };
  },
};

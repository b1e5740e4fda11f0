/**
 * SyncGroup (key 14), v0-5. The leader sends every member's assignment; each
 * member gets its own once the leader's assignment is stored. v3+ carries
 * group.instance.id; v5+ carries protocol type and name, checked against the
 * group's (INCONSISTENT_GROUP_PROTOCOL) and echoed back.
 */
import type { SyncGroupRequest } from '../../protocol/generated/messages/sync-group-request.ts';
import type { SyncGroupResponse } from '../../protocol/generated/messages/sync-group-response.ts';
import type { Handler } from './types.ts';

export const syncGroupHandler: Handler<SyncGroupRequest, SyncGroupResponse> = {
  apiKey: 14,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const r = await ctx.services.groups.syncGroup({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId ?? null,
      protocolType: req.protocolType ?? null,
      protocolName: req.protocolName ?? null,
      assignments: req.assignments,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      protocolType: r.protocolType,
      protocolName: r.protocolName,
      assignment: r.assignment,
    };
  },
};

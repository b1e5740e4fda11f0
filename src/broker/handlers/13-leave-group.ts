/**
 * LeaveGroup (key 13), v0-5. v0-2 name one member; its error is the
 * top-level error. v3+ name a batch of members, each by member id and/or
 * group.instance.id (an empty member id with an instance id removes that
 * static member: the admin path), with per-member errors; v5+ carry a reason.
 */
import type { LeaveGroupRequest } from '../../protocol/generated/messages/leave-group-request.ts';
import type { LeaveGroupResponse } from '../../protocol/generated/messages/leave-group-response.ts';
import type { Handler } from './types.ts';

export const leaveGroupHandler: Handler<LeaveGroupRequest, LeaveGroupResponse> = {
  apiKey: 13,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    const leaving =
      v < 3
        ? [{ memberId: req.memberId ?? '', groupInstanceId: null }]
        : (req.members ?? []).map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            reason: m.reason ?? null,
          }));
    const r = await ctx.services.groups.leaveGroup(req.groupId, leaving);
    if (v < 3) {
      const errorCode = r.errorCode !== 0 ? r.errorCode : (r.members[0]?.errorCode ?? 0);
      return { throttleTimeMs: 0, errorCode };
    }
    return { throttleTimeMs: 0, errorCode: r.errorCode, members: r.members };
  },
};

/**
 * Heartbeat (key 12), v0-4. Keeps a member's session alive; answers
 * REBALANCE_IN_PROGRESS while the group prepares a rebalance (the member must
 * rejoin), ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID for
 * members that are not current. v3+ carries group.instance.id.
 */
import type { HeartbeatRequest } from '../../protocol/generated/messages/heartbeat-request.ts';
import type { HeartbeatResponse } from '../../protocol/generated/messages/heartbeat-response.ts';
import type { Handler } from './types.ts';

export const heartbeatHandler: Handler<HeartbeatRequest, HeartbeatResponse> = {
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    const errorCode = await ctx.services.groups.heartbeat({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId ?? null,
    });
    return { throttleTimeMs: 0, errorCode };
  },
};

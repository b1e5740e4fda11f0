/**
 * JoinGroup (key 11), v0-9. v0 has no rebalance timeout (the session timeout
 * is used); v4+ requires a member id: a new dynamic member is answered
 * MEMBER_ID_REQUIRED with its id and joins again (KIP-394); v5+ carries
 * group.instance.id (KIP-345 static membership); protocolName is nullable
 * from v7 (empty string before); v8+ carries a reason; v9+ lets a rejoining
 * static leader skip the assignment (KIP-814). The response waits until the
 * join phase of the rebalance completes.
 */
import type { JoinGroupRequest } from '../../protocol/generated/messages/join-group-request.ts';
import type { JoinGroupResponse } from '../../protocol/generated/messages/join-group-response.ts';
import { formatClientHost } from '../group/describe.ts';
import type { Handler } from './types.ts';

export const joinGroupHandler: Handler<JoinGroupRequest, JoinGroupResponse> = {
  apiKey: 11,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    const rebalanceTimeoutMs =
      v === 0 ? req.sessionTimeoutMs : (req.rebalanceTimeoutMs ?? req.sessionTimeoutMs);
    const r = await ctx.services.groups.joinGroup({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId ?? null,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs,
      protocolType: req.protocolType,
      // Copies: decoded bodies alias the socket's buffers and the group keeps these.
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      clientId: ctx.clientId ?? '',
      clientHost: formatClientHost(ctx.clientHost),
      requireKnownMemberId: v >= 4,
      supportsSkipAssignment: v >= 9,
      reason: req.reason ?? null,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: r.protocolType,
      protocolName: v >= 7 ? r.protocolName : (r.protocolName ?? ''),
      leader: r.leader,
      skipAssignment: r.skipAssignment,
      memberId: r.memberId,
      members: r.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        metadata: m.metadata,
      })),
    };
  },
};

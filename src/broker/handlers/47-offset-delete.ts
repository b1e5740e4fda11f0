/**
 * OffsetDelete (key 47), v0. Deletes committed offsets of a group (KIP-496):
 * GROUP_ID_NOT_FOUND for an unknown group, NON_EMPTY_GROUP for a group with
 * members that is not a consumer group, GROUP_SUBSCRIBED_TO_TOPIC for a topic
 * the members still subscribe to; answered once the tombstones are written.
 */
import type { OffsetDeleteRequest } from '../../protocol/generated/messages/offset-delete-request.ts';
import type { OffsetDeleteResponse } from '../../protocol/generated/messages/offset-delete-response.ts';
import type { Handler } from './types.ts';

export const offsetDeleteHandler: Handler<OffsetDeleteRequest, OffsetDeleteResponse> = {
  apiKey: 47,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const r = await ctx.services.groups.deleteOffsets(req.groupId, req.topics);
    return { errorCode: r.errorCode, throttleTimeMs: 0, topics: r.topics };
  },
};

/**
 * OffsetFetch (key 9), v0-9. v0-7 fetch for one group (v2+ with a top-level
 * error; null topics = every committed offset, v2+); v8+ fetch for several
 * groups at once (KIP-709), each with its own error; v9 adds member id and
 * epoch for KIP-848 consumer groups (not used by classic groups). A partition
 * without a committed offset answers -1 with no error; v5+ return the
 * committed leader epoch. requireStable (v7+) needs no waiting here: there
 * are no pending transactional offsets yet.
 */
import type { OffsetFetchRequest } from '../../protocol/generated/messages/offset-fetch-request.ts';
import type { OffsetFetchResponse } from '../../protocol/generated/messages/offset-fetch-response.ts';
import type { Handler } from './types.ts';

export const offsetFetchHandler: Handler<OffsetFetchRequest, OffsetFetchResponse> = {
  apiKey: 9,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    const v = ctx.apiVersion;
    const groups = ctx.services.groups;
    if (v >= 8) {
      const out = await Promise.all(
        (req.groups ?? []).map(async (g) => {
          const r = await groups.fetchOffsets(g.groupId, g.topics);
          return { groupId: g.groupId, errorCode: r.errorCode, topics: r.topics };
        }),
      );
      return { throttleTimeMs: 0, groups: out };
    }
    const topics = v < 2 ? (req.topics ?? []) : (req.topics ?? null);
    const r = await groups.fetchOffsets(req.groupId ?? '', topics);
    if (v < 2 && r.errorCode !== 0) {
      // No top-level error before v2: every partition carries it.
      return {
        throttleTimeMs: 0,
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({
            partitionIndex: p,
            committedOffset: -1n,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: r.errorCode,
          })),
        })),
      };
    }
    return { throttleTimeMs: 0, errorCode: r.errorCode, topics: r.topics };
  },
};

/**
 * Fetch (key 1), v4-17 (Kafka 4 removed v0-3). v4 adds isolation level, the
 * last stable offset and aborted transactions; v5 the log start offset; v7
 * fetch sessions (KIP-227); v9 currentLeaderEpoch; v11 rackId and
 * preferredReadReplica; v12 flexible encoding, lastFetchedEpoch and tagged
 * diverging epoch / current leader; v13 topic ids instead of names; v15
 * replicaState replaces replicaId; v16 nodeEndpoints for leader hints (KIP-951);
 * v17 replica directory ids. Logic: replica/fetch.ts.
 */
import type { FetchRequest } from '../../protocol/generated/messages/fetch-request.ts';
import type {
  FetchResponse,
  FetchResponse_NodeEndpoint,
} from '../../protocol/generated/messages/fetch-response.ts';
import type { RecordsList } from '../../protocol/primitives/records-list.ts';
import type { Handler } from './types.ts';

export const fetchHandler: Handler<FetchRequest, FetchResponse<Buffer | RecordsList>> = {
  apiKey: 1,
  minVersion: 4,
  maxVersion: 17,
  async handle(req, ctx) {
    const res = await ctx.services.replicas.fetches.fetch(req, {
      apiVersion: ctx.apiVersion,
      signal: ctx.signal,
      responseMemory: ctx.responseMemory,
    });
    if (ctx.apiVersion >= 16) {
      // Endpoints of the leaders named in currentLeader hints.
      const leaders = new Set<number>();
      for (const t of res.responses) {
        for (const p of t.partitions)
          if (p.currentLeader && p.currentLeader.leaderId >= 0) leaders.add(p.currentLeader.leaderId);
      }
      if (leaders.size > 0) {
        const endpoints: FetchResponse_NodeEndpoint[] = [];
        for (const b of ctx.services.brokersFor(ctx.listenerName)) {
          if (leaders.has(b.nodeId))
            endpoints.push({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
        }
        res.nodeEndpoints = endpoints;
      }
    }
    return res;
  },
};

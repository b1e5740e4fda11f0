/** Request bodies for raw Fetch / ListOffsets calls in tests (every field set, so any version encodes). */
import type { FetchRequest } from '../../src/protocol/generated/messages/fetch-request.ts';
import type {
  FetchResponse,
  FetchResponse_PartitionData,
} from '../../src/protocol/generated/messages/fetch-response.ts';
import { ZERO_UUID } from '../../src/protocol/generated/runtime.ts';
import type { RawClient } from './raw-client.ts';

export interface FetchPartitionSpec {
  partition: number;
  offset: number;
  maxBytes?: number;
  currentLeaderEpoch?: number;
}

export interface FetchTopicSpec {
  topic?: string;
  topicId?: string;
  partitions: FetchPartitionSpec[];
}

export interface FetchSpec {
  topics: FetchTopicSpec[];
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  isolationLevel?: number;
  sessionId?: number;
  sessionEpoch?: number;
  forgotten?: { topic?: string; topicId?: string; partitions: number[] }[];
}

export function fetchBody(s: FetchSpec): FetchRequest {
  return {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: s.maxWaitMs ?? 0,
    minBytes: s.minBytes ?? 1,
    maxBytes: s.maxBytes ?? 50 * 1024 * 1024,
    isolationLevel: s.isolationLevel ?? 0,
    sessionId: s.sessionId ?? 0,
    sessionEpoch: s.sessionEpoch ?? -1,
    topics: s.topics.map((t) => ({
      topic: t.topic ?? '',
      topicId: t.topicId ?? ZERO_UUID,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
        fetchOffset: BigInt(p.offset),
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: p.maxBytes ?? 1024 * 1024,
        replicaDirectoryId: ZERO_UUID,
      })),
    })),
    forgottenTopicsData: (s.forgotten ?? []).map((f) => ({
      topic: f.topic ?? '',
      topicId: f.topicId ?? ZERO_UUID,
      partitions: f.partitions,
    })),
    rackId: '',
  };
}

export function fetch(c: RawClient, version: number, s: FetchSpec): Promise<FetchResponse> {
  return c.request<FetchResponse>(1, version, fetchBody(s));
}

/** The partition entry of a fetch response (by topic name, or id for v13+). */
export function part(res: FetchResponse, topic: string, partition: number): FetchResponse_PartitionData {
  for (const t of res.responses) {
    if (t.topic !== topic && t.topicId !== topic) continue;
    for (const p of t.partitions) if (p.partitionIndex === partition) return p;
  }
  throw new Error(`no ${topic}-${partition} in fetch response`);
}

/**
 * What the broker under test can do, so compat cases skip with a reason that
 * names the missing piece instead of failing while that piece is being built.
 * A case runs as soon as the handlers it needs are registered in
 * src/broker/handlers/all.ts (then it must pass).
 */
import { ALL_HANDLERS } from '../../../src/broker/handlers/all.ts';
import { API_CODECS } from '../../../src/protocol/index.ts';

/** API keys by Kafka name, for readable `needs(...)` calls. */
export const API = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  DeleteRecords: 21,
  InitProducerId: 22,
  OffsetForLeaderEpoch: 23,
  DescribeConfigs: 32,
  AlterConfigs: 33,
  CreatePartitions: 37,
  IncrementalAlterConfigs: 44,
} as const;

/** The classic consumer-group protocol (issue 5). */
export const GROUP_APIS = [
  API.FindCoordinator,
  API.JoinGroup,
  API.SyncGroup,
  API.Heartbeat,
  API.LeaveGroup,
  API.OffsetFetch,
  API.OffsetCommit,
];

const registered = new Set(ALL_HANDLERS.map((h) => h.apiKey));

export function apiName(key: number): string {
  return API_CODECS[key]?.name ?? `api ${key}`;
}

/**
 * `false` when every API is registered, else a skip reason naming the missing
 * ones: use as `test('...', { skip: needs(API.Produce, API.Fetch) }, ...)`.
 */
export function needs(...keys: number[]): string | false {
  const missing = keys.filter((k) => !registered.has(k));
  if (missing.length === 0) return false;
  return `broker has no ${missing.map(apiName).join(', ')} handler yet (src/broker/handlers/all.ts)`;
}

/** Combines skip reasons: the first one that applies, else false. */
export function either(...reasons: (string | false | undefined)[]): string | false {
  for (const r of reasons) if (r) return r;
  return false;
}

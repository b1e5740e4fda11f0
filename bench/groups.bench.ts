/**
 * Consumer groups against an in-process broker (memory storage, and file
 * storage for commits), driven by raw protocol clients in this process:
 *
 * - rebalance: N members (3, 50) start together on fresh connections
 *   (FindCoordinator, JoinGroup with the KIP-394 round trip, SyncGroup; the
 *   leader assigns) with group.initial.rebalance.delay.ms = 0; measured from
 *   the first JoinGroup sent to every member holding an assignment of the
 *   same, final generation. Members heartbeat every 10 ms once synced and
 *   rejoin on REBALANCE_IN_PROGRESS, as a client would (with a short
 *   heartbeat interval). Ratio: to one ApiVersions round trip.
 * - commits/s: 8 connections committing one offset each (OffsetCommit v8)
 *   back to back, for 8 standalone groups and for one shared group. Ratio:
 *   to ApiVersions round trips/s with the same 8 connections.
 * - OffsetFetch latency: one connection, one partition, back to back. Ratio:
 *   to the ApiVersions round trip on the same connection.
 * - coordinator-only commits/s: GroupCoordinator.commitOffsets called in
 *   process (8 concurrent loops, 8 groups), no network. Ratio: to appending
 *   the same one-record batch straight to the `__consumer_offsets` partition
 *   log (what a commit must at least do).
 *
 * BENCH_GROUPS_MS sets the measured time of each throughput run (default 1500 ms).
 */

import { encodeRecord } from '../src/broker/group/records.ts';
import { encodeRecordBatch } from '../src/protocol/records/record-batch.ts';
import { type StartBrokerOptions, startBroker, type TestBroker } from '../src/testing/index.ts';
import { RawClient } from '../test/helpers/raw-client.ts';
import { fmt } from './util.ts';

const RUN_MS = Number(process.env.BENCH_GROUPS_MS ?? 1500);
const CONNECTIONS = 8;
const HEARTBEAT_MS = 10;
const SUBSCRIPTION = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0xff, 0xff, 0xff, 0xff]); // v0: ["t"], null user data
const ASSIGNMENT = Buffer.from([
  0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
]);

const apiVersions = (c: RawClient) =>
  c.request(18, 3, { clientSoftwareName: 'bench', clientSoftwareVersion: '1' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Mean seconds per call of `fn`, run back to back for `ms`. */
async function perCall(fn: () => Promise<unknown>, ms: number): Promise<number> {
  for (let i = 0; i < 50; i++) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await fn();
    n++;
  }
  return (performance.now() - start) / 1000 / n;
}

/** Calls per second of `fn(i)` on `k` concurrent loops for `ms`. */
async function throughput(k: number, fn: (i: number) => Promise<unknown>, ms: number): Promise<number> {
  for (let i = 0; i < k; i++) for (let j = 0; j < 20; j++) await fn(i);
  let n = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: k }, async (_, i) => {
      while (performance.now() - start < ms) {
        await fn(i);
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

interface RebalanceRun {
  ms: number;
  generation: number;
}

async function rebalance(b: TestBroker, groupId: string, n: number): Promise<RebalanceRun> {
  const clients = await Promise.all(Array.from({ length: n }, () => RawClient.connect(b.bootstrapServers)));
  const synced = new Map<string, number>();
  let finished = false;
  let finalGeneration = -1;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const check = () => {
    if (finished || synced.size < n) return;
    const gens = new Set(synced.values());
    if (gens.size === 1) {
      finished = true;
      finalGeneration = [...gens][0]!;
      resolveDone();
    }
  };
  const member = async (c: RawClient) => {
    await c.request(10, 3, { key: groupId, keyType: 0 });
    let memberId = '';
    while (!finished) {
      const j = await c.request(11, 7, {
        groupId,
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 30_000,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: SUBSCRIPTION }],
      });
      if (j.errorCode === 79) {
        memberId = j.memberId;
        continue;
      }
      if (j.errorCode !== 0) throw new Error(`JoinGroup error ${j.errorCode}`);
      memberId = j.memberId;
      const assignments =
        j.leader === memberId
          ? j.members.map((m: { memberId: string }) => ({ memberId: m.memberId, assignment: ASSIGNMENT }))
          : [];
      const s = await c.request(14, 5, {
        groupId,
        generationId: j.generationId,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments,
      });
      if (s.errorCode === 27) continue;
      if (s.errorCode !== 0) throw new Error(`SyncGroup error ${s.errorCode}`);
      synced.set(memberId, j.generationId);
      check();
      while (!finished) {
        await sleep(HEARTBEAT_MS);
        if (finished) break;
        const h = await c.request(12, 4, {
          groupId,
          generationId: j.generationId,
          memberId,
          groupInstanceId: null,
        });
        if (h.errorCode === 27) {
          synced.delete(memberId);
          break;
        }
        if (h.errorCode !== 0) throw new Error(`Heartbeat error ${h.errorCode}`);
      }
    }
  };
  const start = performance.now();
  const runs = clients.map((c) => member(c));
  await Promise.race([done, Promise.all(runs)]);
  const ms = performance.now() - start;
  await Promise.allSettled(runs);
  for (const c of clients) c.close();
  return { ms, generation: finalGeneration };
}

async function withBroker<T>(opts: StartBrokerOptions, fn: (b: TestBroker) => Promise<T>): Promise<T> {
  const b = await startBroker({ ...opts, config: { 'group.initial.rebalance.delay.ms': 0, ...opts.config } });
  try {
    await b.broker.topics.create({ name: 't', numPartitions: 1, replicationFactor: 1 });
    return await fn(b);
  } finally {
    await b.stop();
  }
}

export async function run(): Promise<void> {
  await withBroker({ storage: 'memory' }, async (b) => {
    const c = await RawClient.connect(b.bootstrapServers);
    await c.request(10, 3, { key: 'warm-up', keyType: 0 }); // creates __consumer_offsets
    const rtt = await perCall(() => apiVersions(c), 500);
    console.log(`baseline: ApiVersions round trip ${fmt(rtt * 1e6)} µs`);

    for (const n of [3, 50]) {
      const runs: RebalanceRun[] = [];
      for (let i = 0; i < 5; i++) runs.push(await rebalance(b, `bench-rebalance-${n}-${i}`, n));
      const ms = median(runs.map((r) => r.ms));
      console.log(
        `rebalance, ${n} members from cold: ${fmt(ms)} ms to every member assigned (median of 5; ` +
          `final generation ${median(runs.map((r) => r.generation))}) = ${fmt(ms / 1000 / rtt, 0)}x an ApiVersions round trip`,
      );
    }

    const fetchReq = {
      groupId: 'bench-fetch',
      topics: [{ name: 't', partitionIndexes: [0] }],
      requireStable: false,
    };
    await c.request(8, 8, commitBody('bench-fetch', 0n));
    const fetchLat = await perCall(() => c.request(9, 7, fetchReq), RUN_MS);
    console.log(
      `OffsetFetch latency: ${fmt(fetchLat * 1e6)} µs = ${fmt(fetchLat / rtt, 2)}x an ApiVersions round trip`,
    );
    c.close();
  });

  for (const storage of ['memory', 'file'] as const) {
    await withBroker({ storage }, async (b) => {
      const cs = await Promise.all(
        Array.from({ length: CONNECTIONS }, () => RawClient.connect(b.bootstrapServers)),
      );
      await cs[0]!.request(10, 3, { key: 'warm-up', keyType: 0 });
      const base = await throughput(CONNECTIONS, (i) => apiVersions(cs[i]!), RUN_MS);
      let offset = 0n;
      const own = await throughput(
        CONNECTIONS,
        (i) => cs[i]!.request(8, 8, commitBody(`bench-own-${i}`, offset++)),
        RUN_MS,
      );
      const shared = await throughput(
        CONNECTIONS,
        (i) => cs[i]!.request(8, 8, commitBody('bench-shared', offset++)),
        RUN_MS,
      );
      console.log(
        `commits/s (${storage} storage, ${CONNECTIONS} connections): ${fmt(own, 0)} over ${CONNECTIONS} groups ` +
          `(${fmt(own / base, 2)}x ApiVersions/s ${fmt(base, 0)}), ${fmt(shared, 0)} into one group (${fmt(shared / base, 2)}x)`,
      );
      for (const c of cs) c.close();

      // The coordinator alone, and the bare append it has to make.
      const groups = b.broker.groups;
      const direct = await throughput(
        CONNECTIONS,
        (i) =>
          groups.commitOffsets({
            groupId: `bench-own-${i}`,
            generationId: -1,
            memberId: '',
            groupInstanceId: null,
            retentionTimeMs: -1,
            apiVersion: 8,
            topics: commitBody('', offset++).topics,
          }),
        RUN_MS,
      );
      const log = b.broker.replicas.get('__consumer_offsets', 0)!.log;
      const rec = encodeRecord({
        type: 'offset',
        group: 'bench-own-0',
        topic: 't',
        partition: 0,
        value: {
          offset: 1n,
          leaderEpoch: -1,
          metadata: '',
          commitTimestamp: Date.now(),
          expireTimestamp: null,
        },
      });
      const append = await throughput(
        CONNECTIONS,
        () => log.append(encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [rec] })),
        RUN_MS,
      );
      console.log(
        `coordinator-only commits/s (${storage} storage, in process): ${fmt(direct, 0)} = ` +
          `${fmt(direct / append, 2)}x bare appends/s of the same record (${fmt(append, 0)})`,
      );
    });
  }
}

function commitBody(groupId: string, offset: bigint) {
  return {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null },
        ],
      },
    ],
  };
}

/**
 * A coordinator on a manual clock and an in-memory store (records go through
 * the real encode/decode), for state-machine tests without a broker.
 */

import {
  GroupCoordinator,
  type GroupSettings,
  type JoinRequest,
} from '../../../../src/broker/group/coordinator.ts';
import type { JoinResult } from '../../../../src/broker/group/member.ts';
import type { CoordinatorStore } from '../../../../src/broker/group/offsets-topic.ts';
import { partitionForGroup } from '../../../../src/broker/group/partitioner.ts';
import { type CoordinatorRecord, decodeRecord, encodeRecord } from '../../../../src/broker/group/records.ts';
import { ManualScheduler } from '../../../../src/broker/group/scheduler.ts';
import { silentLogger } from '../../../../src/common/logger.ts';
import { KafkaProtocolError } from '../../../../src/protocol/error-codes.ts';
import { encodeConsumerProtocolSubscription } from '../../../../src/protocol/generated/messages/consumer-protocol-subscription.ts';
import { Writer } from '../../../../src/protocol/primitives/writer.ts';

export class MemoryStore implements CoordinatorStore {
  readonly log: { key: Buffer; value: Buffer | null }[] = [];
  /** When set, appends fail with this Kafka error code. */
  failWith: number | null = null;
  appends = 0;
  readonly ready = true;
  async ensureReady(): Promise<void> {}
  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, 50);
  }
  async append(_groupId: string, records: CoordinatorRecord[]): Promise<void> {
    await Promise.resolve();
    if (this.failWith !== null) throw new KafkaProtocolError(this.failWith);
    this.appends++;
    for (const r of records) this.log.push(encodeRecord(r));
  }
  async *load(): AsyncIterable<CoordinatorRecord> {
    for (const e of this.log) {
      const r = decodeRecord(e.key, e.value);
      if (r) yield r;
    }
  }
}

export const DEFAULT_SETTINGS: GroupSettings = {
  initialRebalanceDelayMs: 0,
  minSessionTimeoutMs: 1000,
  maxSessionTimeoutMs: 300_000,
  maxSize: 1000,
  newMemberJoinTimeoutMs: 300_000,
  offsetsRetentionMs: 7 * 24 * 3600_000,
  retentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
};

export function subscription(topics: string[]): Buffer {
  const w = new Writer();
  w.writeInt16(0);
  encodeConsumerProtocolSubscription(w, 0, { topics, userData: null });
  return w.toBuffer();
}

export class Harness {
  readonly sched = new ManualScheduler();
  readonly store: MemoryStore;
  readonly coord: GroupCoordinator;
  readonly topics = new Map<string, number>([['t', 6]]);

  constructor(settings: Partial<GroupSettings> = {}, store = new MemoryStore()) {
    this.store = store;
    this.coord = new GroupCoordinator({
      store,
      settings: { ...DEFAULT_SETTINGS, ...settings },
      log: silentLogger(),
      scheduler: this.sched,
      partitionCount: (t) => this.topics.get(t),
    });
  }

  /** Lets queued work run to completion. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      await this.coord.idle();
    }
  }

  /** Moves the clock (firing timers) and lets the resulting work finish. */
  async advance(ms: number): Promise<void> {
    await this.settle();
    this.sched.advance(ms);
    await this.settle();
    // Timers scheduled by the work just done (a delay of 0, say) fire too.
    for (let i = 0; i < 20 && this.sched.due > 0; i++) {
      this.sched.advance(0);
      await this.settle();
    }
  }

  joinReq(over: Partial<JoinRequest> = {}): JoinRequest {
    return {
      groupId: 'g',
      memberId: '',
      groupInstanceId: null,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription(['t']) }],
      clientId: 'c',
      clientHost: '/127.0.0.1',
      requireKnownMemberId: true,
      supportsSkipAssignment: false,
      ...over,
    };
  }

  /** KIP-394 two-step join; returns the parked JoinGroup promise. */
  async startJoin(over: Partial<JoinRequest> = {}): Promise<{ memberId: string; join: Promise<JoinResult> }> {
    let memberId = over.memberId ?? '';
    if (memberId === '' && (over.groupInstanceId ?? null) === null && over.requireKnownMemberId !== false) {
      const first = await this.coord.joinGroup(this.joinReq(over));
      if (first.errorCode !== 79) throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`);
      memberId = first.memberId;
    }
    const join = this.coord.joinGroup(this.joinReq({ ...over, memberId }));
    await this.settle();
    return { memberId, join };
  }

  heartbeat(memberId: string, generationId: number, groupInstanceId: string | null = null): Promise<number> {
    return this.coord.heartbeat({ groupId: 'g', generationId, memberId, groupInstanceId });
  }

  sync(
    memberId: string,
    generationId: number,
    assignments: { memberId: string; assignment: Buffer }[] = [],
    instance: string | null = null,
  ) {
    return this.coord.syncGroup({
      groupId: 'g',
      generationId,
      memberId,
      groupInstanceId: instance,
      protocolType: null,
      protocolName: null,
      assignments,
    });
  }

  commit(over: Partial<Parameters<GroupCoordinator['commitOffsets']>[0]> = {}, offset = 10n, partition = 0) {
    return this.coord.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      topics: [
        {
          name: 't',
          partitions: [
            {
              partitionIndex: partition,
              committedOffset: offset,
              committedLeaderEpoch: 3,
              committedMetadata: 'm',
            },
          ],
        },
      ],
      ...over,
    });
  }

  async committed(partition = 0, groupId = 'g'): Promise<bigint> {
    const r = await this.coord.fetchOffsets(groupId, [{ name: 't', partitionIndexes: [partition] }]);
    return r.topics[0]!.partitions[0]!.committedOffset;
  }
}

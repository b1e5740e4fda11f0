/**
 * The classic group coordinator (Kafka's group coordinator for classic
 * groups): membership and rebalancing (membership.ts, rebalance.ts), plus
 * committed offsets (commit, fetch, delete, expiry), describe / list /
 * delete, and loading everything back from `__consumer_offsets` on start-up.
 *
 * Every change to a group runs in that group's serial queue (serial.ts), so
 * concurrent requests never interleave across an await. Group metadata and
 * offsets are appended to `__consumer_offsets` (offsets-topic.ts) before the
 * request that caused them is answered.
 */
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import type { Logger } from '../../common/logger.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import type { TopicManager } from '../topics/topic-manager.ts';
import { type DescribedGroup, describeGroup, type ListedGroup, listedGroup } from './describe.ts';
import { ClassicGroup, GROUP_STATES } from './group.ts';
import { GroupMember } from './member.ts';
import { GroupMembership } from './membership.ts';
import {
  expiredOffsets,
  type FetchedTopic,
  fetchOffsets,
  getOffset,
  putOffset,
  validateOffsetCommit,
} from './offsets.ts';
import { appendErrorToCommitError, OffsetsTopicStore } from './offsets-topic.ts';
import type { CoordinatorRecord } from './records.ts';
import type { TimerHandle } from './scheduler.ts';
import { type CommitRequest, type CommitResult, groupSettingsFrom } from './types.ts';

export type { CoordinatorDeps } from './rebalance.ts';
export type {
  CommitRequest,
  CommitResult,
  GroupSettings,
  JoinRequest,
  LeaveResult,
  SyncRequest,
} from './types.ts';
export { groupSettingsFrom, joinError } from './types.ts';

export class GroupCoordinator extends GroupMembership {
  private retentionTimer: TimerHandle | null = null;

  /** Loads groups and offsets from `__consumer_offsets` (if it exists) and starts offset expiry. */
  async startup(): Promise<void> {
    this.loading = true;
    try {
      let n = 0;
      for await (const r of this.store.load()) {
        this.replay(r);
        n++;
      }
      for (const g of this.groups.values()) {
        g.subscribedTopics = g.computeSubscribedTopics();
        for (const m of g.members.values()) this.rescheduleHeartbeat(g, m);
      }
      if (n > 0) this.log.info({ groups: this.groups.size, records: n }, 'loaded consumer groups');
    } finally {
      this.loading = false;
    }
    this.scheduleRetention();
  }

  /** Answers every parked JoinGroup/SyncGroup with NOT_COORDINATOR, cancels timers, waits for queued work. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.retentionTimer?.cancel();
    for (const g of this.groups.values()) this.unload(g);
    await this.queue.drain();
    for (const g of this.groups.values()) this.unload(g);
  }

  /** Resolves once all queued group work has finished (tests). */
  idle(): Promise<void> {
    return this.queue.drain();
  }

  private replay(r: CoordinatorRecord): void {
    if (r.type === 'offset') {
      let g = this.groups.get(r.group);
      if (!g) {
        if (r.value === null) return;
        g = new ClassicGroup(r.group, null);
        this.groups.set(r.group, g);
      }
      putOffset(g, r.topic, r.partition, r.value);
      return;
    }
    const old = this.groups.get(r.group);
    if (r.value === null) {
      this.groups.delete(r.group);
      return;
    }
    const v = r.value;
    const g = new ClassicGroup(
      r.group,
      v.currentStateTimestamp === undefined || v.currentStateTimestamp < 0n
        ? null
        : Number(v.currentStateTimestamp),
    );
    g.generationId = v.generation;
    g.protocolType = v.protocolType === '' ? null : v.protocolType;
    g.protocolName = v.protocol;
    for (const mm of v.members) {
      const m = new GroupMember({
        memberId: mm.memberId,
        groupInstanceId: mm.groupInstanceId ?? null,
        clientId: mm.clientId,
        clientHost: mm.clientHost,
        rebalanceTimeoutMs:
          mm.rebalanceTimeout === undefined || mm.rebalanceTimeout < 0
            ? mm.sessionTimeout
            : mm.rebalanceTimeout,
        sessionTimeoutMs: mm.sessionTimeout,
        protocolType: v.protocolType,
        protocols: v.protocol === null ? [] : [{ name: v.protocol, metadata: Buffer.from(mm.subscription) }],
      });
      m.assignment = Buffer.from(mm.assignment);
      g.add(m);
    }
    g.leaderId =
      v.leader !== null && g.members.has(v.leader) ? v.leader : (g.members.keys().next().value ?? null);
    g.state = g.members.size > 0 ? 'Stable' : 'Empty';
    if (old) for (const [k, o] of old.offsets) g.offsets.set(k, o);
    this.groups.set(r.group, g);
  }

  async commitOffsets(req: CommitRequest): Promise<CommitResult> {
    const all = (code: number): CommitResult =>
      req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })),
      }));
    const avail = await this.availability(req.groupId);
    if (avail !== ErrorCode.NONE) return all(avail);
    return this.run(req.groupId, async () => {
      if (this.stopped) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      const now = this.now();
      let group = this.groups.get(req.groupId);
      let created = false;
      if (!group) {
        if (req.generationId >= 0) {
          return all(req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
        }
        // A standalone consumer (or the admin client) commits without joining: a "simple" group.
        group = new ClassicGroup(req.groupId, now);
        created = true;
      }
      const err = validateOffsetCommit(group, req.memberId, req.groupInstanceId, req.generationId);
      if (err !== ErrorCode.NONE) return all(err);
      const member = group.member(req.memberId);
      if (member && req.generationId >= 0) this.rescheduleHeartbeat(group, member);
      const expire = req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : null;
      const records: CoordinatorRecord[] = [];
      const out: CommitResult = [];
      const accepted: { partitionIndex: number; errorCode: number }[] = [];
      for (const t of req.topics) {
        const partitions: { partitionIndex: number; errorCode: number }[] = [];
        out.push({ name: t.name, partitions });
        const count = this.partitionCount(t.name);
        for (const p of t.partitions) {
          const metadata = p.committedMetadata ?? '';
          let code: number = ErrorCode.NONE;
          if (count === undefined || p.partitionIndex < 0 || p.partitionIndex >= count) {
            code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          } else if (Buffer.byteLength(metadata) > this.settings.offsetMetadataMaxBytes) {
            code = ErrorCode.OFFSET_METADATA_TOO_LARGE;
          } else {
            records.push({
              type: 'offset',
              group: req.groupId,
              topic: t.name,
              partition: p.partitionIndex,
              value: {
                offset: p.committedOffset,
                leaderEpoch: p.committedLeaderEpoch,
                metadata,
                commitTimestamp: now,
                expireTimestamp: expire,
              },
            });
          }
          const r = { partitionIndex: p.partitionIndex, errorCode: code };
          partitions.push(r);
          if (code === ErrorCode.NONE) accepted.push(r);
        }
      }
      if (records.length === 0) return out;
      const appendErr = await this.persist(req.groupId, records, appendErrorToCommitError);
      if (appendErr !== ErrorCode.NONE) {
        for (const r of accepted) r.errorCode = appendErr;
        return out;
      }
      if (created) this.groups.set(req.groupId, group);
      for (const r of records) if (r.type === 'offset') putOffset(group, r.topic, r.partition, r.value);
      return out;
    });
  }

  async fetchOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
  ): Promise<{ errorCode: number; topics: FetchedTopic[] }> {
    const avail = await this.availability(groupId);
    if (avail !== ErrorCode.NONE) return { errorCode: avail, topics: [] };
    // A read of state that only changes synchronously: no queue needed, and it sees every acknowledged commit.
    const group = this.groups.get(groupId);
    return { errorCode: ErrorCode.NONE, topics: fetchOffsets(group, topics) };
  }

  async deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: { partitionIndex: number }[] }[],
  ): Promise<{ errorCode: number; topics: CommitResult }> {
    const avail = await this.availability(groupId);
    if (avail !== ErrorCode.NONE) return { errorCode: avail, topics: [] };
    return this.run(groupId, async () => {
      const group = this.groups.get(groupId);
      if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
      if (!group.is('Empty') && group.protocolType !== 'consumer') {
        return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
      }
      const records: CoordinatorRecord[] = [];
      const out: CommitResult = topics.map((t) => {
        const count = this.partitionCount(t.name);
        return {
          name: t.name,
          partitions: t.partitions.map((p) => {
            let code: number = ErrorCode.NONE;
            if (count === undefined || p.partitionIndex < 0 || p.partitionIndex >= count) {
              code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            } else if (group.isSubscribedToTopic(t.name)) {
              code = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
            } else if (getOffset(group, t.name, p.partitionIndex)) {
              records.push({
                type: 'offset',
                group: groupId,
                topic: t.name,
                partition: p.partitionIndex,
                value: null,
              });
            }
            return { partitionIndex: p.partitionIndex, errorCode: code };
          }),
        };
      });
      const err = records.length > 0 ? await this.persist(groupId, records) : ErrorCode.NONE;
      if (err !== ErrorCode.NONE) return { errorCode: err, topics: [] };
      for (const r of records) if (r.type === 'offset') putOffset(group, r.topic, r.partition, null);
      return { errorCode: ErrorCode.NONE, topics: out };
    });
  }

  describeGroups(groupIds: string[]): DescribedGroup[] {
    return groupIds.map((id) => {
      if (this.stopped || this.loading) {
        return {
          ...describeGroup(id, undefined),
          errorCode: this.stopped
            ? ErrorCode.COORDINATOR_NOT_AVAILABLE
            : ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        };
      }
      return describeGroup(id, this.groups.get(id));
    });
  }

  /** Groups, filtered by state (case-insensitive) and type ("classic"). Throws nothing; bad filters match nothing. */
  listGroups(statesFilter: string[], typesFilter: string[]): { errorCode: number; groups: ListedGroup[] } {
    if (this.stopped) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    if (this.loading) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const out: ListedGroup[] = [];
    for (const g of this.groups.values()) {
      if (g.is('Dead')) continue;
      if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
      if (types.size > 0 && !types.has('classic')) continue;
      out.push(listedGroup(g));
    }
    return { errorCode: ErrorCode.NONE, groups: out };
  }

  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
    const out: { groupId: string; errorCode: number }[] = [];
    for (const groupId of [...new Set(groupIds)]) {
      const avail = await this.availability(groupId);
      if (avail !== ErrorCode.NONE) {
        out.push({ groupId, errorCode: avail });
        continue;
      }
      const errorCode = await this.run(groupId, () => this.deleteGroup(groupId));
      out.push({ groupId, errorCode });
    }
    return out;
  }

  private async deleteGroup(groupId: string): Promise<number> {
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    const records: CoordinatorRecord[] = [...group.offsets.values()].map((o) => ({
      type: 'offset' as const,
      group: groupId,
      topic: o.topic,
      partition: o.partition,
      value: null,
    }));
    records.push({ type: 'group', group: groupId, value: null });
    const err = await this.persist(groupId, records);
    if (err !== ErrorCode.NONE) return err;
    this.unload(group);
    group.transitionTo('Dead', this.now());
    this.groups.delete(groupId);
    this.log.info({ group: groupId }, 'group deleted');
    return ErrorCode.NONE;
  }

  private scheduleRetention(): void {
    if (this.stopped) return;
    this.retentionTimer = this.scheduler.schedule(this.settings.retentionCheckIntervalMs, () => {
      this.cleanupExpired()
        .catch((e) => this.log.error({ err: e }, 'offset expiry failed'))
        .finally(() => this.scheduleRetention());
    });
  }

  /** Removes expired offsets, and empty groups left with none (Kafka's cleanupGroupMetadata). */
  async cleanupExpired(): Promise<number> {
    let removed = 0;
    for (const groupId of [...this.groups.keys()]) {
      if (this.stopped) break;
      removed += await this.run(groupId, async () => {
        const group = this.groups.get(groupId);
        if (!group || this.stopped) return 0;
        const now = this.now();
        const expired = expiredOffsets(group, now, this.settings.offsetsRetentionMs);
        const records: CoordinatorRecord[] = expired.map((e) => ({
          type: 'offset',
          group: groupId,
          ...e,
          value: null,
        }));
        const deleteGroup =
          group.is('Empty') && group.offsets.size === expired.length && group.pendingMembers.size === 0;
        if (deleteGroup) records.push({ type: 'group', group: groupId, value: null });
        if (records.length === 0) return 0;
        const err = await this.persist(groupId, records);
        if (err !== ErrorCode.NONE) return 0;
        for (const e of expired) putOffset(group, e.topic, e.partition, null);
        if (deleteGroup) {
          this.unload(group);
          group.transitionTo('Dead', now);
          this.groups.delete(groupId);
        }
        if (expired.length > 0)
          this.log.info({ group: groupId, offsets: expired.length }, 'expired committed offsets');
        return expired.length;
      });
    }
    return removed;
  }

  /** Group states Kafka names (for validating ListGroups filters in callers). */
  static readonly STATES = GROUP_STATES;
}

/** The coordinator as the broker composes it: stored in `__consumer_offsets` of this broker. */
export function createGroupCoordinator(deps: {
  topics: TopicManager;
  replicas: ReplicaManager;
  config: BrokerConfig;
  log: Logger;
}): GroupCoordinator {
  return new GroupCoordinator({
    store: new OffsetsTopicStore(deps),
    settings: groupSettingsFrom(deps.config),
    log: deps.log,
    partitionCount: (topic) => deps.topics.get(topic)?.partitions.length,
  });
}

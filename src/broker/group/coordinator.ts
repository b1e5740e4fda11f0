/**
 * The classic group coordinator (Kafka's GroupMetadataManager for classic
 * groups, plus the offset side): JoinGroup / SyncGroup / Heartbeat /
 * LeaveGroup, offset commit / fetch / delete, describe / list / delete.
 *
 * Every change to a group runs in that group's serial queue (serial.ts), so
 * concurrent joins never interleave across an await. A JoinGroup or
 * SyncGroup that has to wait for the rest of the group leaves the queue and
 * parks on a waiter the rebalance completes later. Group metadata and
 * offsets are appended to `__consumer_offsets` (offsets-topic.ts) before the
 * request that caused them is answered, and read back on start-up.
 */
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import type { Logger } from '../../common/logger.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { GroupMetadataValue } from '../../protocol/generated/records/group-metadata-value.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';
import type { TopicManager } from '../topics/topic-manager.ts';
import { type DescribedGroup, describeGroup, type ListedGroup, listedGroup } from './describe.ts';
import { ClassicGroup, GROUP_STATES } from './group.ts';
import { EMPTY_ASSIGNMENT, GroupMember, type JoinResult, type Protocol, type SyncResult } from './member.ts';
import {
  expiredOffsets,
  type FetchedTopic,
  fetchOffsets,
  getOffset,
  putOffset,
  validateMember,
  validateOffsetCommit,
} from './offsets.ts';
import { type CoordinatorStore, OffsetsTopicStore } from './offsets-topic.ts';
import type { CoordinatorRecord } from './records.ts';
import { type Scheduler, SystemScheduler, type TimerHandle } from './scheduler.ts';
import { KeyedSerialQueue } from './serial.ts';

export interface GroupSettings {
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxSize: number;
  /** How long a new member's pending JoinGroup may wait (Kafka's 5 minutes). */
  newMemberJoinTimeoutMs: number;
  offsetsRetentionMs: number;
  retentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
}

export function groupSettingsFrom(config: BrokerConfig): GroupSettings {
  const opt = (k: string, dflt: number) => {
    try {
      return config.int(k);
    } catch {
      return dflt;
    }
  };
  return {
    initialRebalanceDelayMs: config.int('group.initial.rebalance.delay.ms'),
    minSessionTimeoutMs: config.int('group.min.session.timeout.ms'),
    maxSessionTimeoutMs: config.int('group.max.session.timeout.ms'),
    maxSize: config.int('group.max.size'),
    newMemberJoinTimeoutMs: 5 * 60 * 1000,
    offsetsRetentionMs: config.int('offsets.retention.minutes') * 60_000,
    retentionCheckIntervalMs: config.int('offsets.retention.check.interval.ms'),
    offsetMetadataMaxBytes: opt('offset.metadata.max.bytes', 4096),
  };
}

export interface CoordinatorDeps {
  store: CoordinatorStore;
  settings: GroupSettings;
  log: Logger;
  scheduler?: Scheduler;
  /** Partition count of a topic, or undefined when it does not exist (offset commits check it). */
  partitionCount(topic: string): number | undefined;
}

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  clientId: string;
  clientHost: string;
  /** v4+: a new dynamic member first gets its id with MEMBER_ID_REQUIRED (KIP-394). */
  requireKnownMemberId: boolean;
  /** v9+: a rejoining static leader may skip the assignment (KIP-814). */
  supportsSkipAssignment: boolean;
  reason?: string | null;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface CommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** v2-4 retention time, -1 for the broker default. */
  retentionTimeMs: number;
  apiVersion: number;
  topics: {
    name: string;
    partitions: {
      partitionIndex: number;
      committedOffset: bigint;
      committedLeaderEpoch: number;
      committedMetadata: string | null;
    }[];
  }[];
}

export type CommitResult = { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];

export interface LeaveResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

type Wait<T> = { wait: T | Promise<T> };

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
const done = <T>(v: T): Wait<T> => ({ wait: v });

export function joinError(errorCode: number, memberId: string): JoinResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

const syncError = (errorCode: number): SyncResult => ({
  errorCode,
  protocolType: null,
  protocolName: null,
  assignment: EMPTY_ASSIGNMENT,
});

function isProtocolInconsistent(given: string | null, current: string | null): boolean {
  return given !== null && current !== null && given !== current;
}

export class GroupCoordinator {
  readonly groups = new Map<string, ClassicGroup>();
  private readonly queue = new KeyedSerialQueue();
  private readonly store: CoordinatorStore;
  private readonly settings: GroupSettings;
  private readonly log: Logger;
  private readonly scheduler: Scheduler;
  private readonly partitionCount: (topic: string) => number | undefined;
  private stopped = false;
  private loading = false;
  private retentionTimer: TimerHandle | null = null;

  constructor(deps: CoordinatorDeps) {
    this.store = deps.store;
    this.settings = deps.settings;
    this.log = deps.log;
    this.scheduler = deps.scheduler ?? new SystemScheduler();
    this.partitionCount = deps.partitionCount;
  }

  private now(): number {
    return this.scheduler.now();
  }

  // ------------------------------------------------------------ lifecycle

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

  private unload(g: ClassicGroup): void {
    g.joinTimer?.cancel();
    g.syncTimer?.cancel();
    for (const t of g.pendingMembers.values()) t?.cancel();
    for (const m of g.members.values()) {
      m.cancelHeartbeat();
      m.completeJoin(joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
      m.completeSync(syncError(ErrorCode.NOT_COORDINATOR));
    }
  }

  /** Resolves once all queued group work has finished (tests). */
  idle(): Promise<void> {
    return this.queue.drain();
  }

  /** Whether this coordinator can serve `groupId` now: 0, or the error code to answer with. */
  async availability(groupId: string): Promise<number> {
    if (this.stopped) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this.loading) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    try {
      await this.store.ensureReady();
    } catch (e) {
      return e instanceof KafkaProtocolError ? e.code : ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    void groupId; // single node: every partition of the offsets topic is led here
    return this.stopped ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.NONE;
  }

  private run<T>(groupId: string, fn: () => T | Promise<T>): Promise<T> {
    return this.queue.run(groupId, fn);
  }

  /** A timer whose callback runs in the group's queue, only while the group is still the live one. */
  private timer(group: ClassicGroup, ms: number, fn: (h: TimerHandle) => void | Promise<void>): TimerHandle {
    const h: TimerHandle = this.scheduler.schedule(ms, () => {
      if (this.stopped) return;
      this.run(group.groupId, () => {
        if (this.stopped || this.groups.get(group.groupId) !== group) return;
        return fn(h);
      }).catch((e) => this.log.error({ err: e, group: group.groupId }, 'group timer task failed'));
    });
    return h;
  }

  // ------------------------------------------------------------ persistence

  private groupRecord(group: ClassicGroup, assignment?: Map<string, Buffer>): CoordinatorRecord {
    const protocol = group.protocolName;
    const value: GroupMetadataValue = {
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol,
      leader: group.leaderId,
      currentStateTimestamp: BigInt(group.currentStateTimestamp ?? -1),
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: protocol === null ? EMPTY_ASSIGNMENT : m.metadataFor(protocol),
        assignment: assignment?.get(m.memberId) ?? m.assignment,
      })),
    };
    return { type: 'group', group: group.groupId, value };
  }

  /** Appends records for a group; resolves to 0 or the coordinator error code. */
  private async persist(groupId: string, records: CoordinatorRecord[]): Promise<number> {
    try {
      await this.store.append(groupId, records, this.now());
      return ErrorCode.NONE;
    } catch (e) {
      if (e instanceof KafkaProtocolError) return e.code;
      this.log.error({ err: e, group: groupId }, 'persisting group state failed');
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    }
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

  // ------------------------------------------------------------ membership helpers

  private rescheduleHeartbeat(
    group: ClassicGroup,
    member: GroupMember,
    timeoutMs = member.sessionTimeoutMs,
  ): void {
    member.cancelHeartbeat();
    const id = member.memberId;
    member.heartbeatTimer = this.timer(group, timeoutMs, (h) => {
      const m = group.member(id);
      if (!m || m.heartbeatTimer !== h) return;
      m.heartbeatTimer = null;
      return this.expireHeartbeat(group, m);
    });
  }

  private async expireHeartbeat(group: ClassicGroup, member: GroupMember): Promise<void> {
    if (group.is('Dead')) return;
    // Members parked in JoinGroup/SyncGroup are covered by the rebalance timeout instead; new members are not.
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) return;
    this.log.info({ group: group.groupId, member: member.memberId }, 'member session expired; removing it');
    this.dropMember(group, member);
    if (group.is('Stable') || group.is('CompletingRebalance')) {
      await this.maybePrepareRebalanceOrCompleteJoin(group, `session expiry of ${member.memberId}`);
    } else if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) {
      await this.completeJoin(group);
    }
  }

  private async expirePendingMember(group: ClassicGroup, memberId: string): Promise<void> {
    if (!group.pendingMembers.has(memberId)) return;
    group.remove(memberId);
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) await this.completeJoin(group);
  }

  /** Removes a member, answering anything it still waits for with UNKNOWN_MEMBER_ID. */
  private dropMember(group: ClassicGroup, member: GroupMember): void {
    member.completeJoin(joinError(ErrorCode.UNKNOWN_MEMBER_ID, ''));
    member.completeSync(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(member.memberId);
  }

  private setJoinTimer(group: ClassicGroup, ms: number, fn: () => Promise<void>): void {
    group.joinTimer?.cancel();
    group.joinTimer = this.timer(group, ms, (h) => {
      if (group.joinTimer !== h) return;
      group.joinTimer = null;
      return fn();
    });
  }

  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.settings.maxSize;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (group.member(memberId)?.isAwaitingJoin ?? false) || group.numAwaitingJoin() < max;
      default:
        return group.members.has(memberId) || group.size < max;
    }
  }

  private currentJoinResult(group: ClassicGroup, member: GroupMember, withMembers: boolean): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId: member.memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  // ------------------------------------------------------------ JoinGroup

  async joinGroup(req: JoinRequest): Promise<JoinResult> {
    if (req.groupId === '') return joinError(ErrorCode.INVALID_GROUP_ID, req.memberId);
    if (
      req.sessionTimeoutMs < this.settings.minSessionTimeoutMs ||
      req.sessionTimeoutMs > this.settings.maxSessionTimeoutMs
    ) {
      return joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId);
    }
    const avail = await this.availability(req.groupId);
    if (avail !== ErrorCode.NONE) return joinError(avail, req.memberId);
    const res = await this.run(req.groupId, () => this.join(req));
    return res.wait;
  }

  private async join(req: JoinRequest): Promise<Wait<JoinResult>> {
    if (this.stopped) return done(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, req.memberId));
    const isUnknown = req.memberId === '';
    let group = this.groups.get(req.groupId);
    let created = false;
    if (!group) {
      if (!isUnknown) return done(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      group = new ClassicGroup(req.groupId, this.now());
      this.groups.set(req.groupId, group);
      created = true;
    }
    let out: Wait<JoinResult>;
    if (!this.acceptJoiningMember(group, req.memberId)) {
      const m = group.member(req.memberId);
      if (m) this.dropMember(group, m);
      else group.remove(req.memberId);
      out = done(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, ''));
    } else if (isUnknown) {
      out = await this.joinNewMember(group, req);
    } else {
      out = await this.joinExistingMember(group, req);
    }
    // A group created by a join that did not take is not kept.
    if (
      created &&
      group.is('Empty') &&
      group.size === 0 &&
      group.pendingMembers.size === 0 &&
      group.offsets.size === 0
    ) {
      this.groups.delete(req.groupId);
    }
    return out;
  }

  private async joinNewMember(group: ClassicGroup, req: JoinRequest): Promise<Wait<JoinResult>> {
    if (group.is('Dead')) return done(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, ''));
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return done(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, ''));
    }
    const newId = group.generateMemberId(req.clientId, req.groupInstanceId);
    if (req.groupInstanceId !== null) {
      const existing = group.staticMemberId(req.groupInstanceId);
      if (existing !== undefined) return this.updateStaticMember(group, req, existing, newId);
      return this.addMemberAndRebalance(group, req, newId);
    }
    if (req.requireKnownMemberId) {
      const t = this.timer(group, req.sessionTimeoutMs, () => this.expirePendingMember(group, newId));
      group.pendingMembers.set(newId, t);
      return done(joinError(ErrorCode.MEMBER_ID_REQUIRED, newId));
    }
    return this.addMemberAndRebalance(group, req, newId);
  }

  private async joinExistingMember(group: ClassicGroup, req: JoinRequest): Promise<Wait<JoinResult>> {
    const memberId = req.memberId;
    if (group.is('Dead')) return done(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId));
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return done(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
    }
    if (group.isPendingMember(memberId)) {
      if (req.groupInstanceId !== null) return done(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
      return this.addMemberAndRebalance(group, req, memberId);
    }
    const err = validateMember(group, memberId, req.groupInstanceId);
    if (err !== ErrorCode.NONE) return done(joinError(err, memberId));
    const member = group.member(memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, req, `${memberId} rejoins`);
      case 'CompletingRebalance':
        // Same metadata: probably a lost JoinGroup response; answer with the current generation.
        if (member.matches(req.protocols)) {
          return done(this.currentJoinResult(group, member, group.isLeader(memberId)));
        }
        return this.updateMemberAndRebalance(group, member, req, `${memberId} changed its metadata`);
      case 'Stable':
        // The leader rejoining forces a rebalance (it may have seen metadata change); so does changed metadata.
        if (group.isLeader(memberId) || !member.matches(req.protocols)) {
          return this.updateMemberAndRebalance(group, member, req, `${memberId} rejoins a stable group`);
        }
        return done(this.currentJoinResult(group, member, false));
      default:
        return done(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    }
  }

  private parkJoin(member: GroupMember): Promise<JoinResult> {
    const { promise, resolve } = deferred<JoinResult>();
    // A second JoinGroup from the same member (a retry on another connection) supersedes the first.
    member.completeJoin(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    member.joinWaiter = resolve;
    return promise;
  }

  private updateMember(member: GroupMember, req: JoinRequest): void {
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
  }

  private async updateMemberAndRebalance(
    group: ClassicGroup,
    member: GroupMember,
    req: JoinRequest,
    reason: string,
  ): Promise<Wait<JoinResult>> {
    this.updateMember(member, req);
    const wait = this.parkJoin(member);
    await this.maybePrepareRebalanceOrCompleteJoin(group, reason);
    return { wait };
  }

  private async addMemberAndRebalance(
    group: ClassicGroup,
    req: JoinRequest,
    memberId: string,
  ): Promise<Wait<JoinResult>> {
    const member = new GroupMember({
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
    });
    member.isNew = true;
    if (group.is('PreparingRebalance') && group.previousState === 'Empty') group.newMemberAdded = true;
    const wait = this.parkJoin(member);
    group.add(member);
    // A parked new member cannot heartbeat; time out its JoinGroup instead (it retries if still alive).
    this.rescheduleHeartbeat(group, member, this.settings.newMemberJoinTimeoutMs);
    await this.maybePrepareRebalanceOrCompleteJoin(group, `new member ${memberId}`);
    return { wait };
  }

  /** KIP-345: a known group.instance.id rejoins with an unknown member id; it takes over the old member's slot. */
  private async updateStaticMember(
    group: ClassicGroup,
    req: JoinRequest,
    oldId: string,
    newId: string,
  ): Promise<Wait<JoinResult>> {
    const instanceId = req.groupInstanceId!;
    const currentLeader = group.leaderId;
    const member = group.replaceStaticMember(instanceId, oldId, newId);
    this.rescheduleHeartbeat(group, member);
    const old = {
      protocols: member.protocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    this.updateMember(member, req);
    const wait = this.parkJoin(member);
    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== group.selectProtocol()) {
          await this.maybePrepareRebalanceOrCompleteJoin(
            group,
            `static member ${instanceId} changed protocols`,
          );
          return { wait };
        }
        // No rebalance: persist the new member id, then hand back the current generation.
        const err = await this.persist(group.groupId, [this.groupRecord(group)]);
        if (err !== ErrorCode.NONE) {
          member.joinWaiter = null;
          member.protocols = old.protocols;
          member.rebalanceTimeoutMs = old.rebalanceTimeoutMs;
          member.sessionTimeoutMs = old.sessionTimeoutMs;
          const reverted = group.replaceStaticMember(instanceId, newId, oldId);
          this.rescheduleHeartbeat(group, reverted);
          return done({
            ...joinError(err, ''),
            generationId: group.generationId,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            leader: currentLeader ?? '',
          });
        }
        if (req.supportsSkipAssignment) {
          const isLeader = group.isLeader(newId);
          member.completeJoin({
            ...this.currentJoinResult(group, member, isLeader),
            skipAssignment: isLeader,
          });
        } else {
          // Older clients must not run the assignment: name the old leader id so the member acts as a follower.
          member.completeJoin({
            ...this.currentJoinResult(group, member, false),
            leader: currentLeader ?? '',
          });
        }
        return { wait };
      }
      case 'CompletingRebalance':
        // The leader may already be assigning to the old member id: rebalance again.
        await this.prepareRebalance(
          group,
          `static member ${instanceId} rejoined while completing a rebalance`,
        );
        return { wait };
      case 'PreparingRebalance':
        await this.maybeCompleteJoinPhase(group);
        return { wait };
      default:
        member.joinWaiter = null;
        return done(joinError(ErrorCode.UNKNOWN_MEMBER_ID, ''));
    }
  }

  // ------------------------------------------------------------ rebalance

  private async maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup, reason: string): Promise<void> {
    if (group.canRebalance()) await this.prepareRebalance(group, reason);
    else await this.maybeCompleteJoinPhase(group);
  }

  private async prepareRebalance(group: ClassicGroup, reason: string): Promise<void> {
    if (group.is('CompletingRebalance'))
      this.resetAndPropagateAssignment(group, ErrorCode.REBALANCE_IN_PROGRESS);
    group.pendingSyncMembers.clear();
    group.syncTimer?.cancel();
    group.syncTimer = null;
    const initial = group.is('Empty');
    if (initial) {
      // A new group waits group.initial.rebalance.delay.ms for more members, extended while they keep coming.
      const delay = this.settings.initialRebalanceDelayMs;
      const remaining = Math.max(group.rebalanceTimeoutMs() - delay, 0);
      this.setJoinTimer(group, delay, () => this.tryCompleteInitialRebalance(group, delay, remaining));
    }
    group.transitionTo('PreparingRebalance', this.now());
    this.log.info(
      { group: group.groupId, generation: group.generationId, reason },
      'preparing to rebalance group',
    );
    if (!initial) await this.maybeCompleteJoinElseSchedule(group);
  }

  private async maybeCompleteJoinElseSchedule(group: ClassicGroup): Promise<void> {
    if (group.hasAllMembersJoined()) await this.completeJoin(group);
    else this.setJoinTimer(group, group.rebalanceTimeoutMs(), () => this.completeJoin(group));
  }

  private async tryCompleteInitialRebalance(
    group: ClassicGroup,
    delayMs: number,
    remainingMs: number,
  ): Promise<void> {
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const nextDelay = Math.min(this.settings.initialRebalanceDelayMs, remainingMs);
      const nextRemaining = Math.max(remainingMs - delayMs, 0);
      this.setJoinTimer(group, nextDelay, () =>
        this.tryCompleteInitialRebalance(group, nextDelay, nextRemaining),
      );
    } else {
      await this.completeJoin(group);
    }
  }

  private async maybeCompleteJoinPhase(group: ClassicGroup): Promise<void> {
    if (!group.is('PreparingRebalance')) return;
    if (group.previousState === 'Empty') return; // the initial rebalance completes on its timer
    if (!group.hasAllMembersJoined()) return;
    await this.completeJoin(group);
  }

  /**
   * Ends the join phase: drops dynamic members that did not rejoin, starts the
   * next generation, answers every parked JoinGroup (the leader gets all
   * members' metadata) and waits for their SyncGroups.
   */
  private async completeJoin(group: ClassicGroup): Promise<void> {
    group.joinTimer?.cancel();
    group.joinTimer = null;
    if (!group.is('PreparingRebalance')) return;
    for (const m of group.notYetRejoinedMembers()) {
      if (!m.isStatic) this.dropMember(group, m);
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined are left: wait for them (or their session expiry).
      this.setJoinTimer(group, group.rebalanceTimeoutMs(), () => this.completeJoin(group));
      return;
    }
    group.initNextGeneration(this.now());
    if (group.is('Empty')) {
      this.log.info({ group: group.groupId, generation: group.generationId }, 'group is now empty');
      const err = await this.persist(group.groupId, [this.groupRecord(group)]);
      if (err !== ErrorCode.NONE)
        this.log.warn({ group: group.groupId, err }, 'storing the empty group failed');
      return;
    }
    this.log.info(
      {
        group: group.groupId,
        generation: group.generationId,
        members: group.size,
        protocol: group.protocolName,
      },
      'group rebalanced; awaiting assignment',
    );
    for (const m of group.members.values()) {
      m.completeJoin(this.currentJoinResult(group, m, group.isLeader(m.memberId)));
      this.rescheduleHeartbeat(group, m);
      m.isNew = false;
      group.pendingSyncMembers.add(m.memberId);
    }
    const generation = group.generationId;
    group.syncTimer?.cancel();
    group.syncTimer = this.timer(group, group.rebalanceTimeoutMs(), (h) => {
      if (group.syncTimer !== h) return;
      group.syncTimer = null;
      return this.expirePendingSync(group, generation);
    });
  }

  /** Members of the new generation that never sent SyncGroup are removed, and the group rebalances. */
  private async expirePendingSync(group: ClassicGroup, generation: number): Promise<void> {
    if (generation !== group.generationId) return;
    if (!(group.is('CompletingRebalance') || group.is('Stable'))) return;
    if (group.pendingSyncMembers.size === 0) return;
    const late = [...group.pendingSyncMembers];
    for (const id of late) {
      const m = group.member(id);
      if (m) this.dropMember(group, m);
    }
    await this.prepareRebalance(group, `members ${late.join(', ')} did not sync in time`);
  }

  private resetAndPropagateAssignment(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const m of group.members.values()) {
      const answered = m.completeSync({
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: m.assignment,
      });
      if (answered) this.rescheduleHeartbeat(group, m);
    }
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0 || !(group.is('CompletingRebalance') || group.is('Stable'))) {
      group.syncTimer?.cancel();
      group.syncTimer = null;
    }
  }

  // ------------------------------------------------------------ SyncGroup

  async syncGroup(req: SyncRequest): Promise<SyncResult> {
    if (req.groupId === '') return syncError(ErrorCode.INVALID_GROUP_ID);
    const avail = await this.availability(req.groupId);
    if (avail !== ErrorCode.NONE) return syncError(avail);
    const res = await this.run(req.groupId, () => this.sync(req));
    return res.wait;
  }

  private async sync(req: SyncRequest): Promise<Wait<SyncResult>> {
    const group = this.groups.get(req.groupId);
    if (!group || group.size === 0) return done(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is('Dead')) return done(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    const err = validateMember(group, req.memberId, req.groupInstanceId);
    if (err !== ErrorCode.NONE) return done(syncError(err));
    if (req.generationId !== group.generationId) return done(syncError(ErrorCode.ILLEGAL_GENERATION));
    if (
      isProtocolInconsistent(req.protocolType, group.protocolType) ||
      isProtocolInconsistent(req.protocolName, group.protocolName)
    ) {
      return done(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const member = group.member(req.memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        return done(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance': {
        const { promise, resolve } = deferred<SyncResult>();
        member.completeSync(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.syncWaiter = resolve;
        this.removePendingSyncMember(group, member.memberId);
        if (group.isLeader(member.memberId)) await this.storeAssignment(group, req);
        return { wait: promise };
      }
      case 'Stable':
        this.removePendingSyncMember(group, member.memberId);
        return done({
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        });
      default:
        return done(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  /** The leader's SyncGroup: persist the assignment, then hand each member its part. */
  private async storeAssignment(group: ClassicGroup, req: SyncRequest): Promise<void> {
    const assignment = new Map<string, Buffer>();
    for (const a of req.assignments) assignment.set(a.memberId, Buffer.from(a.assignment));
    for (const id of group.members.keys()) if (!assignment.has(id)) assignment.set(id, EMPTY_ASSIGNMENT);
    const err = await this.persist(group.groupId, [this.groupRecord(group, assignment)]);
    if (!group.is('CompletingRebalance') || req.generationId !== group.generationId) return;
    if (err !== ErrorCode.NONE) {
      this.resetAndPropagateAssignment(group, err);
      await this.maybePrepareRebalanceOrCompleteJoin(group, `storing the assignment failed (${err})`);
      return;
    }
    for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, ErrorCode.NONE);
    group.transitionTo('Stable', this.now());
    this.log.info({ group: group.groupId, generation: group.generationId }, 'group is stable');
  }

  // ------------------------------------------------------------ Heartbeat, LeaveGroup

  async heartbeat(req: {
    groupId: string;
    generationId: number;
    memberId: string;
    groupInstanceId: string | null;
  }): Promise<number> {
    if (req.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const avail = await this.availability(req.groupId);
    if (avail !== ErrorCode.NONE) return avail;
    return this.run(req.groupId, () => {
      const group = this.groups.get(req.groupId);
      if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
      const err = validateMember(group, req.memberId, req.groupInstanceId);
      if (err !== ErrorCode.NONE) return err;
      if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
      const member = group.member(req.memberId)!;
      switch (group.state) {
        case 'Empty':
          return ErrorCode.UNKNOWN_MEMBER_ID;
        case 'PreparingRebalance':
          this.rescheduleHeartbeat(group, member);
          return ErrorCode.REBALANCE_IN_PROGRESS;
        default:
          this.rescheduleHeartbeat(group, member);
          return ErrorCode.NONE;
      }
    });
  }

  async leaveGroup(
    groupId: string,
    leaving: { memberId: string; groupInstanceId: string | null; reason?: string | null }[],
  ): Promise<LeaveResult> {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const avail = await this.availability(groupId);
    if (avail !== ErrorCode.NONE) return { errorCode: avail, members: [] };
    return this.run(groupId, async () => {
      const group = this.groups.get(groupId);
      const result = (l: (typeof leaving)[number], errorCode: number) => ({
        memberId: l.memberId,
        groupInstanceId: l.groupInstanceId,
        errorCode,
      });
      if (!group) {
        return { errorCode: 0, members: leaving.map((l) => result(l, ErrorCode.UNKNOWN_MEMBER_ID)) };
      }
      if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
      const members: LeaveResult['members'] = [];
      let anyLeft = false;
      for (const l of leaving) {
        let id: string | undefined;
        let err: number = ErrorCode.NONE;
        if (l.memberId === '') {
          // Admin removal of a static member by instance id.
          id = l.groupInstanceId !== null ? group.staticMemberId(l.groupInstanceId) : undefined;
          if (id === undefined) err = ErrorCode.UNKNOWN_MEMBER_ID;
        } else if (group.isPendingMember(l.memberId)) {
          group.remove(l.memberId);
          members.push(result(l, ErrorCode.NONE));
          continue;
        } else {
          err = validateMember(group, l.memberId, l.groupInstanceId);
          id = l.memberId;
        }
        if (err === ErrorCode.NONE && id !== undefined) {
          this.log.info(
            { group: groupId, member: id, reason: l.reason ?? undefined },
            'member left the group',
          );
          this.dropMember(group, group.member(id)!);
          anyLeft = true;
        }
        members.push(result(l, err));
      }
      if (anyLeft) {
        if (group.is('Stable') || group.is('CompletingRebalance')) {
          await this.maybePrepareRebalanceOrCompleteJoin(group, 'members left');
        } else if (group.is('PreparingRebalance')) {
          await this.maybeCompleteJoinPhase(group);
        }
      }
      return { errorCode: ErrorCode.NONE, members };
    });
  }

  // ------------------------------------------------------------ offsets

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
      let appendErr = await this.persist(req.groupId, records);
      if (appendErr === ErrorCode.UNKNOWN_SERVER_ERROR) appendErr = ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
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

  // ------------------------------------------------------------ describe, list, delete

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

  // ------------------------------------------------------------ offset expiry

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

/**
 * The rebalance machinery of the classic group coordinator (Kafka's
 * GroupMetadataManager): preparing a rebalance, completing the join phase
 * (new generation, leader, protocol), waiting for SyncGroups, propagating the
 * assignment, and the timers that drive it (session expiry, rebalance and
 * sync timeouts, the delayed initial rebalance). Requests come in through
 * membership.ts; every method here runs inside the group's serial queue.
 */
import type { Logger } from '../../common/logger.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { GroupMetadataValue } from '../../protocol/generated/records/group-metadata-value.ts';
import type { ClassicGroup } from './group.ts';
import { EMPTY_ASSIGNMENT, type GroupMember, type JoinResult } from './member.ts';
import { appendErrorToCoordinatorError, type CoordinatorStore } from './offsets-topic.ts';
import type { CoordinatorRecord } from './records.ts';
import { type Scheduler, SystemScheduler, type TimerHandle } from './scheduler.ts';
import { KeyedSerialQueue } from './serial.ts';
import { type GroupSettings, joinError, syncError } from './types.ts';

export interface CoordinatorDeps {
  store: CoordinatorStore;
  settings: GroupSettings;
  log: Logger;
  scheduler?: Scheduler;
  /** Partition count of a topic, or undefined when it does not exist (offset commits check it). */
  partitionCount(topic: string): number | undefined;
}

export abstract class RebalanceEngine {
  readonly groups = new Map<string, ClassicGroup>();
  protected readonly queue = new KeyedSerialQueue();
  protected readonly store: CoordinatorStore;
  protected readonly settings: GroupSettings;
  protected readonly log: Logger;
  protected readonly scheduler: Scheduler;
  protected readonly partitionCount: (topic: string) => number | undefined;
  protected stopped = false;
  protected loading = false;

  constructor(deps: CoordinatorDeps) {
    this.store = deps.store;
    this.settings = deps.settings;
    this.log = deps.log;
    this.scheduler = deps.scheduler ?? new SystemScheduler();
    this.partitionCount = deps.partitionCount;
  }

  protected now(): number {
    return this.scheduler.now();
  }

  protected run<T>(groupId: string, fn: () => T | Promise<T>): Promise<T> {
    return this.queue.run(groupId, fn);
  }

  /** A timer whose callback runs in the group's queue, only while the group is still the live one. */
  protected timer(
    group: ClassicGroup,
    ms: number,
    fn: (h: TimerHandle) => void | Promise<void>,
  ): TimerHandle {
    const h: TimerHandle = this.scheduler.schedule(ms, () => {
      if (this.stopped) return;
      this.run(group.groupId, () => {
        if (this.stopped || this.groups.get(group.groupId) !== group) return;
        return fn(h);
      }).catch((e) => this.log.error({ err: e, group: group.groupId }, 'group timer task failed'));
    });
    return h;
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

  protected unload(g: ClassicGroup): void {
    g.joinTimer?.cancel();
    g.syncTimer?.cancel();
    for (const t of g.pendingMembers.values()) t?.cancel();
    for (const m of g.members.values()) {
      m.cancelHeartbeat();
      m.completeJoin(joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
      m.completeSync(syncError(ErrorCode.NOT_COORDINATOR));
    }
  }

  protected groupRecord(group: ClassicGroup, assignment?: Map<string, Buffer>): CoordinatorRecord {
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

  /** Appends records for a group; resolves to 0 or the append's error code mapped by `map`. */
  protected async persist(
    groupId: string,
    records: CoordinatorRecord[],
    map: (code: number) => number = appendErrorToCoordinatorError,
  ): Promise<number> {
    try {
      await this.store.append(groupId, records, this.now());
      return ErrorCode.NONE;
    } catch (e) {
      if (e instanceof KafkaProtocolError) return map(e.code);
      this.log.error({ err: e, group: groupId }, 'persisting group state failed');
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    }
  }

  protected rescheduleHeartbeat(
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

  protected async expireHeartbeat(group: ClassicGroup, member: GroupMember): Promise<void> {
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

  protected async expirePendingMember(group: ClassicGroup, memberId: string): Promise<void> {
    if (!group.pendingMembers.has(memberId)) return;
    group.remove(memberId);
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) await this.completeJoin(group);
  }

  /** Removes a member, answering anything it still waits for with UNKNOWN_MEMBER_ID. */
  protected dropMember(group: ClassicGroup, member: GroupMember): void {
    member.completeJoin(joinError(ErrorCode.UNKNOWN_MEMBER_ID, ''));
    member.completeSync(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(member.memberId);
  }

  protected setJoinTimer(group: ClassicGroup, ms: number, fn: () => Promise<void>): void {
    group.joinTimer?.cancel();
    group.joinTimer = this.timer(group, ms, (h) => {
      if (group.joinTimer !== h) return;
      group.joinTimer = null;
      return fn();
    });
  }

  protected currentJoinResult(group: ClassicGroup, member: GroupMember, withMembers: boolean): JoinResult {
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

  protected async maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup, reason: string): Promise<void> {
    if (group.canRebalance()) await this.prepareRebalance(group, reason);
    else await this.maybeCompleteJoinPhase(group);
  }

  protected async prepareRebalance(group: ClassicGroup, reason: string): Promise<void> {
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

  protected async maybeCompleteJoinElseSchedule(group: ClassicGroup): Promise<void> {
    if (group.hasAllMembersJoined()) await this.completeJoin(group);
    else this.setJoinTimer(group, group.rebalanceTimeoutMs(), () => this.completeJoin(group));
  }

  protected async tryCompleteInitialRebalance(
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

  protected async maybeCompleteJoinPhase(group: ClassicGroup): Promise<void> {
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
  protected async completeJoin(group: ClassicGroup): Promise<void> {
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
  protected async expirePendingSync(group: ClassicGroup, generation: number): Promise<void> {
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

  protected resetAndPropagateAssignment(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, errorCode);
  }

  protected propagateAssignment(group: ClassicGroup, errorCode: number): void {
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

  protected removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0 || !(group.is('CompletingRebalance') || group.is('Stable'))) {
      group.syncTimer?.cancel();
      group.syncTimer = null;
    }
  }
}

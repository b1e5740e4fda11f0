/**
 * The member-facing requests of the classic group coordinator: JoinGroup
 * (KIP-394 member ids, KIP-345 static members, KIP-814 skip-assignment),
 * SyncGroup, Heartbeat, LeaveGroup. Each runs in its group's serial queue; a
 * JoinGroup or SyncGroup that must wait for the rest of the group leaves the
 * queue and parks on a waiter that the rebalance (rebalance.ts) completes.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import { ClassicGroup } from './group.ts';
import { EMPTY_ASSIGNMENT, GroupMember, type JoinResult, type SyncResult } from './member.ts';
import { validateMember } from './offsets.ts';
import { RebalanceEngine } from './rebalance.ts';
import {
  deferred,
  done,
  isProtocolInconsistent,
  type JoinRequest,
  joinError,
  type LeaveResult,
  type SyncRequest,
  syncError,
  type Wait,
} from './types.ts';

export class GroupMembership extends RebalanceEngine {
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

  async syncGroup(req: SyncRequest): Promise<SyncResult> {
    if (req.groupId === '') return syncError(ErrorCode.INVALID_GROUP_ID);
    const avail = await this.availability(req.groupId);
    if (avail !== ErrorCode.NONE) return syncError(avail);
    const res = await this.run(req.groupId, () => this.sync(req));
    return res.wait;
  }

  private async sync(req: SyncRequest): Promise<Wait<SyncResult>> {
    if (this.stopped) return done(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
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
}

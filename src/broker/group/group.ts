/**
 * The state of one classic group (Kafka's ClassicGroup): members, pending
 * members (KIP-394), static members (KIP-345), generation, chosen protocol,
 * leader, and the group's committed offsets. Pure state: the coordinator
 * (coordinator.ts) drives the transitions and owns timers and persistence.
 *
 *   Empty -> PreparingRebalance -> CompletingRebalance -> Stable
 *                ^-------------------------|------------------|
 *   any -> Dead (deleted or unloaded)
 */
import { randomUUID } from 'node:crypto';
import { decodeConsumerProtocolSubscription } from '../../protocol/generated/messages/consumer-protocol-subscription.ts';
import { Reader } from '../../protocol/primitives/reader.ts';
import { GroupMember, type Protocol } from './member.ts';
import type { TimerHandle } from './scheduler.ts';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = [
  'Empty',
  'PreparingRebalance',
  'CompletingRebalance',
  'Stable',
  'Dead',
];

const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Set only by v2-4 commits that gave a retention time. */
  expireTimestamp: number | null;
}

export const offsetKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ClassicGroup {
  readonly groupId: string;
  state: GroupState = 'Empty';
  previousState: GroupState = 'Empty';
  /** When the group entered its current state (persisted as currentStateTimestamp). */
  currentStateTimestamp: number | null;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, GroupMember>();
  /** group.instance.id -> member id */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined (with their expiry timers). */
  readonly pendingMembers = new Map<string, TimerHandle | null>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** The initial (delayed) rebalance saw a new member join. */
  newMemberAdded = false;
  subscribedTopics: Set<string> | null = null;
  readonly offsets = new Map<string, CommittedOffset & { topic: string; partition: number }>();
  joinTimer: TimerHandle | null = null;
  syncTimer: TimerHandle | null = null;

  constructor(groupId: string, now: number | null) {
    this.groupId = groupId;
    this.currentStateTimestamp = now;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState, now: number): void {
    if (!VALID_PREVIOUS[state].includes(this.state)) {
      throw new Error(`group ${this.groupId}: illegal transition ${this.state} -> ${state}`);
    }
    this.previousState = this.state;
    this.state = state;
    this.currentStateTimestamp = now;
  }

  canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.state);
  }

  get size(): number {
    return this.members.size;
  }

  get isEmptyOfMembers(): boolean {
    return this.members.size === 0;
  }

  member(id: string): GroupMember | undefined {
    return this.members.get(id);
  }

  isLeader(id: string): boolean {
    return this.leaderId === id;
  }

  isPendingMember(id: string): boolean {
    return this.pendingMembers.has(id);
  }

  staticMemberId(instanceId: string): string | undefined {
    return this.staticMembers.get(instanceId);
  }

  generateMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`;
  }

  add(member: GroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.leaderId ??= member.memberId;
    this.pendingMembers.get(member.memberId)?.cancel();
    this.pendingMembers.delete(member.memberId);
  }

  remove(memberId: string): GroupMember | undefined {
    const pendingTimer = this.pendingMembers.get(memberId);
    if (this.pendingMembers.delete(memberId)) pendingTimer?.cancel();
    const m = this.members.get(memberId);
    if (!m) return undefined;
    m.cancelHeartbeat();
    this.members.delete(memberId);
    if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === memberId) {
      this.staticMembers.delete(m.groupInstanceId);
    }
    this.pendingSyncMembers.delete(memberId);
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    return m;
  }

  /** Gives a static member's slot a new member id (KIP-345 rejoin with an unknown member id). */
  replaceStaticMember(instanceId: string, oldId: string, newId: string): GroupMember {
    const m = this.members.get(oldId);
    if (!m) throw new Error(`static member ${instanceId} (${oldId}) is not in group ${this.groupId}`);
    // The old instance is fenced: anything it still waits for fails.
    m.completeJoin({
      errorCode: 82, // FENCED_INSTANCE_ID
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId: oldId,
      members: [],
    });
    m.completeSync({ errorCode: 82, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    m.cancelHeartbeat();
    this.members.delete(oldId);
    m.memberId = newId;
    this.members.set(newId, m);
    this.staticMembers.set(instanceId, newId);
    if (this.leaderId === oldId) this.leaderId = newId;
    if (this.pendingSyncMembers.delete(oldId)) this.pendingSyncMembers.add(newId);
    return m;
  }

  numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isAwaitingJoin) n++;
    return n;
  }

  hasAllMembersJoined(): boolean {
    return this.numAwaitingJoin() === this.members.size && this.pendingMembers.size === 0;
  }

  notYetRejoinedMembers(): GroupMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  /** Largest rebalance timeout of the members (how long a join phase may take). */
  rebalanceTimeoutMs(): number {
    let t = 0;
    for (const m of this.members.values()) t = Math.max(t, m.rebalanceTimeoutMs);
    return t;
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    let out: Set<string> | null = null;
    for (const m of this.members.values()) {
      const names = new Set(m.protocols.map((p) => p.name));
      if (out === null) out = names;
      else for (const n of out) if (!names.has(n)) out.delete(n);
    }
    return out ?? new Set();
  }

  /** Whether a member with these protocols may join (Kafka's supportsProtocols). */
  supportsProtocols(protocolType: string, protocols: Protocol[]): boolean {
    if (this.is('Empty') && this.members.size === 0) return protocolType !== '' && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    if (this.members.size === 0) return protocols.length > 0;
    const candidates = this.candidateProtocols();
    return protocols.some((p) => candidates.has(p.name));
  }

  /**
   * The protocol for the next generation: each member votes for its most
   * preferred protocol that every member supports; most votes wins (ties go
   * to the leader's preference order).
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    if (candidates.size === 0) throw new Error(`group ${this.groupId}: no protocol shared by all members`);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      if (v !== undefined) votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    const leader = this.leaderId ? this.members.get(this.leaderId) : undefined;
    const order = (leader ?? [...this.members.values()][0]!).protocols.map((p) => p.name);
    let best: string | undefined;
    let bestVotes = -1;
    for (const name of order) {
      const n = votes.get(name) ?? 0;
      if (candidates.has(name) && n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best!;
  }

  /** If the leader has not rejoined, hands leadership to a member that has. False if none has. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', now);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', now);
    }
    this.pendingSyncMembers.clear();
  }

  /** Topics the members subscribe to (consumer protocol only; null when unknown). */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    try {
      for (const m of this.members.values()) {
        for (const t of decodeSubscriptionTopics(m.metadataFor(this.protocolName))) topics.add(t);
      }
    } catch {
      return null;
    }
    return topics;
  }

  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics?.has(topic) ?? false;
  }

  /** Members with their metadata for the chosen protocol (the leader's JoinGroup response). */
  currentMemberMetadata(): { memberId: string; groupInstanceId: string | null; metadata: Buffer }[] {
    const protocol = this.protocolName ?? '';
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(protocol),
    }));
  }
}

/** Topic names in a ConsumerProtocolSubscription (int16 version, then the struct). */
export function decodeSubscriptionTopics(metadata: Buffer): string[] {
  const r = new Reader(metadata);
  const version = r.readInt16();
  if (version < 0) throw new Error(`bad subscription version ${version}`);
  return decodeConsumerProtocolSubscription(r, Math.min(version, 3)).topics;
}

export { GroupMember };

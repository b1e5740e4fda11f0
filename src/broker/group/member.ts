/**
 * A member of a classic group: what it sent in its last JoinGroup, its
 * assignment, and the JoinGroup/SyncGroup responses it is waiting for.
 */
import type { TimerHandle } from './scheduler.ts';

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  /** Filled for the leader only: every member's metadata for the chosen protocol. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export const EMPTY_ASSIGNMENT: Buffer = Buffer.alloc(0);

export class GroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  protocols: Protocol[];
  assignment: Buffer = EMPTY_ASSIGNMENT;
  /** Joined during the current rebalance and not yet through a completed join (KIP-394 timeout applies). */
  isNew = false;
  joinWaiter: ((r: JoinResult) => void) | null = null;
  syncWaiter: ((r: SyncResult) => void) | null = null;
  heartbeatTimer: TimerHandle | null = null;

  constructor(opts: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    protocols: Protocol[];
  }) {
    this.memberId = opts.memberId;
    this.groupInstanceId = opts.groupInstanceId;
    this.clientId = opts.clientId;
    this.clientHost = opts.clientHost;
    this.rebalanceTimeoutMs = opts.rebalanceTimeoutMs;
    this.sessionTimeoutMs = opts.sessionTimeoutMs;
    this.protocolType = opts.protocolType;
    this.protocols = opts.protocols;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }
  get isAwaitingJoin(): boolean {
    return this.joinWaiter !== null;
  }
  get isAwaitingSync(): boolean {
    return this.syncWaiter !== null;
  }

  /** Same protocols, in the same order, with the same metadata. */
  matches(protocols: Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every(
      (p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata),
    );
  }

  metadataFor(protocol: string): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY_ASSIGNMENT;
  }

  /** The member's most preferred protocol among `candidates`. */
  vote(candidates: Set<string>): string | undefined {
    return this.protocols.find((p) => candidates.has(p.name))?.name;
  }

  completeJoin(r: JoinResult): boolean {
    const w = this.joinWaiter;
    if (!w) return false;
    this.joinWaiter = null;
    w(r);
    return true;
  }

  completeSync(r: SyncResult): boolean {
    const w = this.syncWaiter;
    if (!w) return false;
    this.syncWaiter = null;
    w(r);
    return true;
  }

  cancelHeartbeat(): void {
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = null;
  }
}

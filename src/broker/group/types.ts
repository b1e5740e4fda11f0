/**
 * Settings, requests and results shared by the layers of the group
 * coordinator (rebalance.ts, membership.ts, coordinator.ts).
 */
import type { BrokerConfig } from '../../common/config/broker-config.ts';
import { EMPTY_ASSIGNMENT, type JoinResult, type Protocol, type SyncResult } from './member.ts';

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
  return {
    initialRebalanceDelayMs: config.int('group.initial.rebalance.delay.ms'),
    minSessionTimeoutMs: config.int('group.min.session.timeout.ms'),
    maxSessionTimeoutMs: config.int('group.max.session.timeout.ms'),
    maxSize: config.int('group.max.size'),
    newMemberJoinTimeoutMs: 5 * 60 * 1000,
    offsetsRetentionMs: config.int('offsets.retention.minutes') * 60_000,
    retentionCheckIntervalMs: config.int('offsets.retention.check.interval.ms'),
    offsetMetadataMaxBytes: config.int('offset.metadata.max.bytes'),
  };
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

export type Wait<T> = { wait: T | Promise<T> };

export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
export const done = <T>(v: T): Wait<T> => ({ wait: v });

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

export const syncError = (errorCode: number): SyncResult => ({
  errorCode,
  protocolType: null,
  protocolName: null,
  assignment: EMPTY_ASSIGNMENT,
});

export function isProtocolInconsistent(given: string | null, current: string | null): boolean {
  return given !== null && current !== null && given !== current;
}

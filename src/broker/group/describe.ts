/**
 * The operator's view of a group: DescribeGroups (members with the metadata
 * and assignment exactly as they sent them, while Stable) and ListGroups.
 */
import type { ClassicGroup } from './group.ts';

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

const NONE = Buffer.alloc(0);

/** Kafka's GroupSummary: a group that does not exist is described as Dead, with no error. */
export function describeGroup(groupId: string, group: ClassicGroup | undefined): DescribedGroup {
  if (!group) {
    return { errorCode: 0, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
  }
  const stable = group.is('Stable');
  const protocol = stable ? (group.protocolName ?? '') : '';
  return {
    errorCode: 0,
    groupId,
    groupState: group.state,
    protocolType: group.protocolType ?? '',
    protocolData: protocol,
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberMetadata: stable ? m.metadataFor(protocol) : NONE,
      memberAssignment: stable ? m.assignment : NONE,
    })),
  };
}

export function listedGroup(g: ClassicGroup): ListedGroup {
  return {
    groupId: g.groupId,
    protocolType: g.protocolType ?? '',
    groupState: g.state,
    groupType: 'classic',
  };
}

/** The client host as Kafka reports it in DescribeGroups: "/" + the address (InetAddress.toString()). */
export function formatClientHost(remoteAddress: string): string {
  const h = remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
  return `/${h}`;
}

/** Group operations (READ, DELETE, DESCRIBE) as a bit field, when no authorizer is configured. */
export const ALL_GROUP_OPERATIONS = [3, 6, 8].reduce((a, op) => a | (1 << op), 0);

/**
 * Consumer-group members of any client for the group suites: kafkajs in this
 * process, confluent-kafka-python (librdkafka) and kafka-python as child
 * processes (test/compat/python/group_member.py) that can be stopped cleanly
 * or SIGKILLed. Plus checks that read the broker itself: the group's state
 * and generation, and every generation's assignment as stored in
 * `__consumer_offsets`.
 */
import type { ChildProcess } from 'node:child_process';
import kafkajsPkg from 'kafkajs';
import { OFFSETS_TOPIC } from '../../../src/broker/group/offsets-topic.ts';
import { decodeRecord } from '../../../src/broker/group/records.ts';
import { decodeConsumerProtocolAssignment } from '../../../src/protocol/generated/messages/consumer-protocol-assignment.ts';
import { Reader } from '../../../src/protocol/primitives/reader.ts';
import { decodeRecordBatch } from '../../../src/protocol/records/record-batch.ts';
import type { TestBroker } from './broker.ts';
import { waitFor } from './broker.ts';
import { spawnPy } from './debian.ts';
import type { Kafka } from './kafkajs.ts';

const { PartitionAssigners } = kafkajsPkg;

export interface Member {
  readonly name: string;
  /** "partition:offset" of every record processed. */
  readonly read: string[];
  /** Current assignment (partitions of the one topic). */
  assigned: number[];
  /** Every revocation (eager: everything; cooperative: only what moves). */
  readonly revoked: number[][];
  /** Last committed next-offset per partition (python members with commit "sync-each"). */
  readonly committed: Map<number, number>;
  /** Clean stop: commits and leaves the group (static members do not leave). */
  stop(): Promise<void>;
  /** Crash: SIGKILL, no LeaveGroup, no commit; resolves once the process is gone and its output read. */
  kill(): Promise<void>;
}

export interface PyMemberOptions {
  client: 'confluent' | 'kafka-python';
  bootstrap: string;
  topic: string;
  group: string;
  assignor?: string;
  instanceId?: string;
  sessionTimeoutMs?: number;
  commit?: 'sync-each' | 'auto' | 'none';
  seconds?: number;
}

/** A python member; resolves once it has subscribed. */
export async function pyMember(name: string, o: PyMemberOptions): Promise<Member> {
  let ready = false;
  const m = {
    name,
    read: [] as string[],
    assigned: [] as number[],
    revoked: [] as number[][],
    committed: new Map<number, number>(),
  };
  const { child, done } = spawnPy(
    'group_member.py',
    {
      client: o.client,
      bootstrap: o.bootstrap,
      topic: o.topic,
      group: o.group,
      assignor: o.assignor ?? 'range',
      instance_id: o.instanceId,
      session_timeout_ms: o.sessionTimeoutMs ?? 10_000,
      commit: o.commit ?? 'auto',
      seconds: o.seconds ?? 120,
      client_id: name,
    },
    (line) => {
      let ev: { ev: string; [k: string]: unknown };
      try {
        ev = JSON.parse(line);
      } catch {
        return;
      }
      if (ev.ev === 'ready') ready = true;
      else if (ev.ev === 'assigned' || ev.ev === 'revoked') {
        m.assigned = ev.all as number[];
        if (ev.ev === 'revoked') m.revoked.push(ev.partitions as number[]);
      } else if (ev.ev === 'msg') m.read.push(`${ev.p}:${ev.o}`);
      else if (ev.ev === 'committed') m.committed.set(ev.p as number, ev.o as number);
    },
  );
  const proc: ChildProcess = child;
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  await waitFor(`${name} subscribed`, () => ready || exited, 20_000);
  if (!ready) throw new Error(`${name} exited before subscribing: ${(await done).stderr.slice(-2000)}`);
  return Object.assign(m, {
    async stop() {
      if (exited) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await done;
      clearTimeout(t);
    },
    async kill() {
      proc.kill('SIGKILL');
      await done;
    },
  });
}

/** A kafkajs member in this process; `assignor` 'roundrobin' advertises kafkajs' round robin under librdkafka's name. */
export async function kafkajsMember(
  name: string,
  kafka: Kafka,
  topic: string,
  groupId: string,
  opts: { assignor?: 'roundrobin'; sessionTimeout?: number } = {},
): Promise<Member> {
  const partitionAssigners =
    opts.assignor === 'roundrobin'
      ? [
          (cfg: Parameters<typeof PartitionAssigners.roundRobin>[0]) => ({
            ...PartitionAssigners.roundRobin(cfg),
            name: 'roundrobin',
          }),
        ]
      : undefined;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: opts.sessionTimeout ?? 10_000,
    heartbeatInterval: 200,
    maxWaitTimeInMs: 100,
    ...(partitionAssigners ? { partitionAssigners } : {}),
  });
  const m = {
    name,
    read: [] as string[],
    assigned: [] as number[],
    revoked: [] as number[][],
    committed: new Map<number, number>(),
  };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    m.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      m.read.push(`${partition}:${message.offset}`);
    },
  });
  return Object.assign(m, {
    stop: () => consumer.disconnect(),
    async kill() {
      throw new Error('kafkajs members run in this process; kill a python member instead');
    },
  });
}

/** Produces `perPartition` records to each of `partitions` partitions (values "tag-p-i"). */
export async function produceSpread(
  kafka: Kafka,
  topic: string,
  partitions: number,
  perPartition: number,
  tag: string,
) {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let p = 0; p < partitions; p++) {
      await producer.send({
        topic,
        messages: Array.from({ length: perPartition }, (_, i) => ({
          partition: p,
          value: `${tag}-${p}-${i}`,
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** The group as the broker holds it. */
export function groupState(b: TestBroker, groupId: string) {
  const g = b.broker.groups.groups.get(groupId);
  return { state: g?.state ?? 'Dead', generation: g?.generationId ?? -1, members: g?.size ?? 0 };
}

/** Waits until the broker's group is Stable with these members, whose assignments split the partitions. */
export async function waitBalanced(
  b: TestBroker,
  groupId: string,
  members: Member[],
  partitions: number,
  timeoutMs = 30_000,
) {
  await waitFor(
    `group ${groupId} stable and balanced over ${members.map((m) => m.name).join(', ')}`,
    () => {
      const g = groupState(b, groupId);
      if (g.state !== 'Stable' || g.members !== members.length) return false;
      const all = members.flatMap((m) => m.assigned).sort((x, y) => x - y);
      return (
        members.every((m) => m.assigned.length > 0) &&
        JSON.stringify(all) === JSON.stringify(Array.from({ length: partitions }, (_, i) => i))
      );
    },
    timeoutMs,
    100,
  );
}

/** How many times each "partition:offset" was processed, over all members. */
export function readCounts(members: Member[]): Map<string, number> {
  const count = new Map<string, number>();
  for (const m of members) for (const k of m.read) count.set(k, (count.get(k) ?? 0) + 1);
  return count;
}

export function offsetsRange(partitions: number, from: number, to: number): string[] {
  const out: string[] = [];
  for (let p = 0; p < partitions; p++) for (let o = from; o < to; o++) out.push(`${p}:${o}`);
  return out;
}

/**
 * Every generation's assignment of `groupId` as the coordinator stored it
 * (GroupMetadata records in `__consumer_offsets`): generation -> member -> partitions of `topic`.
 */
export async function storedAssignments(
  b: TestBroker,
  groupId: string,
  topic: string,
): Promise<Map<number, Map<string, number[]>>> {
  const out = new Map<number, Map<string, number[]>>();
  const n = b.broker.topics.get(OFFSETS_TOPIC)!.partitions.length;
  for (let p = 0; p < n; p++) {
    const log = b.broker.replicas.get(OFFSETS_TOPIC, p)?.log;
    if (!log) continue;
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const r = await log.read(offset, 1 << 20);
      if (r.batches.length === 0) break;
      for (const batch of r.batches) {
        for (const rec of decodeRecordBatch(batch).records) {
          const d = rec.key ? decodeRecord(rec.key, rec.value) : null;
          if (d?.type !== 'group' || d.group !== groupId || !d.value) continue;
          const members = new Map<string, number[]>();
          for (const m of d.value.members) {
            if (m.assignment.length === 0) {
              members.set(m.memberId, []);
              continue;
            }
            const rd = new Reader(m.assignment);
            const version = rd.readInt16();
            const a = decodeConsumerProtocolAssignment(rd, Math.min(version, 3));
            members.set(
              m.memberId,
              a.assignedPartitions.filter((t) => t.topic === topic).flatMap((t) => t.partitions),
            );
          }
          out.set(d.value.generation, members);
        }
      }
      offset = r.nextOffset;
    }
  }
  return out;
}

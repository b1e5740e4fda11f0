/**
 * A throwaway single-node Kafka stand-in for capturing requests from clients that
 * librdkafka's mock cannot serve (it rejects ApiVersions v3+, which
 * @platformatic/kafka requires). It answers from the Kafka JSON specs through
 * spec-codec.ts, at every version the spec lists, for the APIs below. Only the
 * client's REQUESTS recorded against it are golden; its responses are not stored.
 *
 * Usage: node stub-broker.ts MESSAGES_DIR [--max-seconds S] topic...
 * Prints "127.0.0.1:PORT" on stdout; exits on stdin EOF, SIGTERM or the deadline.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { loadSpecs, type MessageSpec, SpecCodec, versionBounds } from './spec-codec.ts';

const args = process.argv.slice(2);
const messagesDir = args.shift()!;
let maxSeconds = 600;
const topicNames: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--max-seconds') maxSeconds = Number(args[++i]);
  else topicNames.push(args[i]!);
}

const specs = loadSpecs(messagesDir);
type Obj = Record<string, unknown>;

interface Api {
  key: number;
  name: string;
  req: SpecCodec;
  resp: SpecCodec;
  reqSpec: MessageSpec;
  min: number;
  max: number;
}
const apis = new Map<number, Api>();
const HANDLED = [
  'Produce',
  'Fetch',
  'ListOffsets',
  'Metadata',
  'OffsetCommit',
  'OffsetFetch',
  'FindCoordinator',
  'JoinGroup',
  'Heartbeat',
  'LeaveGroup',
  'SyncGroup',
  'ApiVersions',
  'InitProducerId',
  'AddPartitionsToTxn',
  'EndTxn',
];
for (const name of HANDLED) {
  const reqSpec = specs.get(`${name}Request`)!;
  const [min, max] = versionBounds(reqSpec.validVersions);
  apis.set(reqSpec.apiKey!, {
    key: reqSpec.apiKey!,
    name,
    req: new SpecCodec(reqSpec),
    resp: new SpecCodec(specs.get(`${name}Response`)!),
    reqSpec,
    min,
    max,
  });
}

// ---- in-memory state: one partition per topic ----
interface Partition {
  batches: { offset: bigint; bytes: Buffer }[];
  next: bigint;
}
const topics = new Map<string, { id: Buffer; part: Partition }>();
const topic = (name: string) => {
  let t = topics.get(name);
  if (!t) {
    t = { id: randomBytes(16), part: { batches: [], next: 0n } };
    topics.set(name, t);
  }
  return t;
};
for (const n of topicNames) topic(n);
const byId = (id: Buffer) => [...topics].find(([, t]) => t.id.equals(id))?.[0];
const committed = new Map<string, bigint>();
let port = 0;
const self = () => ({ nodeId: 1, host: '127.0.0.1', port, rack: null });

function append(name: string, records: Buffer): bigint {
  const p = topic(name).part;
  const base = p.next;
  let o = 0;
  while (o + 61 <= records.length) {
    const len = records.readInt32BE(o + 8);
    const b = Buffer.from(records.subarray(o, o + 12 + len));
    b.writeBigInt64BE(p.next, 0);
    p.batches.push({ offset: p.next, bytes: b });
    p.next += BigInt(b.readInt32BE(57));
    o += 12 + len;
  }
  return base;
}

function fetchFrom(name: string, offset: bigint): Buffer {
  const p = topic(name).part;
  return Buffer.concat(
    p.batches.filter((b) => b.offset + BigInt(b.bytes.readInt32BE(57)) > offset).map((b) => b.bytes),
  );
}

// ---- handlers: request body -> response body ----
function handle(api: Api, v: number, r: Obj): Obj | null {
  const list = (x: unknown) => (x ?? []) as Obj[];
  switch (api.name) {
    case 'ApiVersions':
      return {
        errorCode: 0,
        apiKeys: [...apis.values()].map((a) => ({ apiKey: a.key, minVersion: a.min, maxVersion: a.max })),
        throttleTimeMs: 0,
      };
    case 'Metadata': {
      const want = r.topics === null ? [...topics.keys()] : list(r.topics).map((t) => t.name as string);
      return {
        brokers: [self()],
        clusterId: 'golden-stub',
        controllerId: 1,
        topics: want.map((name) => ({
          errorCode: 0,
          name,
          topicId: topic(name).id,
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: 0,
              replicaNodes: [1],
              isrNodes: [1],
              offlineReplicas: [],
            },
          ],
          topicAuthorizedOperations: -2147483648,
        })),
        clusterAuthorizedOperations: -2147483648,
      };
    }
    case 'Produce': {
      const responses = list(r.topicData).map((t) => ({
        name: t.name,
        partitionResponses: list(t.partitionData).map((p) => ({
          index: p.index,
          errorCode: 0,
          baseOffset: append(t.name as string, p.records as Buffer),
          logAppendTimeMs: -1n,
          logStartOffset: 0n,
        })),
      }));
      return r.acks === 0 ? null : { responses, throttleTimeMs: 0 };
    }
    case 'InitProducerId':
      return { errorCode: 0, producerId: 4242n, producerEpoch: 0 };
    case 'FindCoordinator':
      return v >= 4
        ? { coordinators: (r.coordinatorKeys as string[]).map((key) => ({ key, ...self(), errorCode: 0 })) }
        : { errorCode: 0, ...self() };
    case 'JoinGroup': {
      const memberId = (r.memberId as string) || `golden-member-${randomBytes(4).toString('hex')}`;
      const proto = list(r.protocols)[0]!;
      return {
        errorCode: 0,
        generationId: 1,
        protocolType: r.protocolType,
        protocolName: proto.name,
        leader: memberId,
        memberId,
        members: [{ memberId, groupInstanceId: r.groupInstanceId ?? null, metadata: proto.metadata }],
      };
    }
    case 'SyncGroup': {
      const mine = list(r.assignments).find((a) => a.memberId === r.memberId);
      return {
        errorCode: 0,
        protocolType: r.protocolType ?? null,
        protocolName: r.protocolName ?? null,
        assignment: (mine?.assignment as Buffer) ?? Buffer.alloc(0),
      };
    }
    case 'Heartbeat':
      return { errorCode: 0 };
    case 'LeaveGroup':
      return {
        errorCode: 0,
        members: list(r.members).map((m) => ({ memberId: m.memberId, groupInstanceId: null, errorCode: 0 })),
      };
    case 'OffsetCommit':
      return {
        topics: list(r.topics).map((t) => ({
          name: t.name,
          partitions: list(t.partitions).map((p) => {
            committed.set(`${r.groupId}/${t.name}/${p.partitionIndex}`, p.committedOffset as bigint);
            return { partitionIndex: p.partitionIndex, errorCode: 0 };
          }),
        })),
      };
    case 'OffsetFetch': {
      const answer = (groupId: string, ts: Obj[] | null) =>
        (ts ?? [...topics.keys()].map((name) => ({ name, partitionIndexes: [0] }))).map((t) => ({
          name: t.name,
          partitions: ((t.partitionIndexes as number[]) ?? [0]).map((i) => ({
            partitionIndex: i,
            committedOffset: committed.get(`${groupId}/${t.name}/${i}`) ?? -1n,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: 0,
          })),
        }));
      if (v >= 8) {
        return {
          groups: list(r.groups).map((g) => ({
            groupId: g.groupId,
            topics: answer(g.groupId as string, g.topics as Obj[] | null),
            errorCode: 0,
          })),
        };
      }
      return { topics: answer(r.groupId as string, r.topics as Obj[] | null), errorCode: 0 };
    }
    case 'ListOffsets':
      return {
        topics: list(r.topics).map((t) => ({
          name: t.name,
          partitions: list(t.partitions).map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: 0,
            timestamp: -1n,
            offset: p.timestamp === -2n ? 0n : topic(t.name as string).part.next,
            leaderEpoch: 0,
          })),
        })),
      };
    case 'Fetch':
      return {
        errorCode: 0,
        sessionId: 0,
        responses: list(r.topics).map((t) => {
          const name = (t.topic as string) || byId(t.topicId as Buffer) || '';
          return {
            topic: name,
            topicId: t.topicId ?? Buffer.alloc(16),
            partitions: list(t.partitions).map((p) => ({
              partitionIndex: p.partition,
              errorCode: 0,
              highWatermark: topic(name).part.next,
              lastStableOffset: topic(name).part.next,
              logStartOffset: 0n,
              abortedTransactions: [],
              preferredReadReplica: -1,
              records: fetchFrom(name, p.fetchOffset as bigint),
            })),
          };
        }),
      };
    case 'AddPartitionsToTxn':
      return {
        resultsByTopicV3AndBelow: list(r.v3AndBelowTopics).map((t) => ({
          name: t.name,
          resultsByPartition: (t.partitions as number[]).map((i) => ({
            partitionIndex: i,
            partitionErrorCode: 0,
          })),
        })),
      };
    case 'EndTxn':
      return { errorCode: 0 };
  }
  return null;
}

function frameOf(corr: number, api: Api, v: number, body: Buffer): Buffer {
  const flexHeader = api.resp.isFlexible(v) && api.key !== 18;
  const head = Buffer.alloc(flexHeader ? 5 : 4);
  head.writeInt32BE(corr, 0);
  const size = Buffer.alloc(4);
  size.writeInt32BE(head.length + body.length);
  return Buffer.concat([size, head, body]);
}

function onRequest(sock: Socket, frame: Buffer): void {
  const key = frame.readInt16BE(0);
  const v = frame.readInt16BE(2);
  const corr = frame.readInt32BE(4);
  const idLen = frame.readInt16BE(8);
  let o = 10 + Math.max(idLen, 0);
  const api = apis.get(key);
  if (!api) {
    console.error(`stub: unhandled api key ${key} v${v}; closing the connection`);
    sock.destroy();
    return;
  }
  if (key === 18 && (v < api.min || v > api.max)) {
    const b = Buffer.alloc(12);
    b.writeInt16BE(35, 0);
    b.writeInt32BE(1, 2);
    b.writeInt16BE(18, 6);
    b.writeInt16BE(api.min, 8);
    b.writeInt16BE(api.max, 10);
    sock.write(frameOf(corr, api, 0, b));
    return;
  }
  if (api.req.isFlexible(v)) {
    // request header v2: skip its tagged fields
    let n = 0;
    let mul = 1;
    for (;;) {
      const x = frame[o++]!;
      n += (x & 0x7f) * mul;
      if ((x & 0x80) === 0) break;
      mul *= 128;
    }
    for (let i = 0; i < n; i++) {
      while (frame[o++]! & 0x80);
      let len = 0;
      let m = 1;
      for (;;) {
        const x = frame[o++]!;
        len += (x & 0x7f) * m;
        if ((x & 0x80) === 0) break;
        m *= 128;
      }
      o += len;
    }
  }
  const body = api.req.decode(frame, v, o).value;
  const reply = () => {
    const resp = handle(api, v, body);
    if (resp) sock.write(frameOf(corr, api, v, api.resp.encode(resp, v)));
  };
  // An empty fetch waits a little, like a long poll, so clients do not spin.
  if (api.name === 'Fetch' && !topicsHaveData(body))
    setTimeout(reply, Math.min(Number(body.maxWaitMs ?? 0), 300));
  else reply();
}

function topicsHaveData(r: Obj): boolean {
  for (const t of (r.topics ?? []) as Obj[]) {
    const name = (t.topic as string) || byId(t.topicId as Buffer) || '';
    for (const p of (t.partitions ?? []) as Obj[]) {
      if ((p.fetchOffset as bigint) < topic(name).part.next) return true;
    }
  }
  return false;
}

const server = createServer((sock) => {
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
      const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
      buf = buf.subarray(4 + frame.length);
      try {
        onRequest(sock, frame);
      } catch (e) {
        console.error(`stub: ${(e as Error).stack}`);
        sock.destroy();
      }
    }
  });
  sock.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  port = (server.address() as { port: number }).port;
  process.stdout.write(`127.0.0.1:${port}\n`);
});
const stop = () => process.exit(0);
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
setTimeout(stop, maxSeconds * 1000).unref();

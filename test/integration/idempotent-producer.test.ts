/**
 * The idempotent producer: InitProducerId, duplicate detection over the last
 * 5 batches, sequence and epoch errors, producer state rebuilt from the log
 * across a restart, producer id uniqueness across restarts, expiry; then
 * kafkajs with `idempotent: true` through a proxy that drops a produce
 * response while the broker restarts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import { ErrorCode } from '../../src/protocol/error-codes.ts';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { batch, produce, readPartition } from '../helpers/produce.ts';
import { RawClient } from '../helpers/raw-client.ts';

const { Kafka, logLevel } = kafkajs;
const INIT_PRODUCER_ID = 22;

async function initProducerId(c: RawClient, body: Record<string, unknown> = {}, version = 4) {
  return c.request(INIT_PRODUCER_ID, version, {
    transactionalId: null,
    transactionTimeoutMs: 60000,
    producerId: -1n,
    producerEpoch: -1,
    ...body,
  });
}

const idem = (pid: bigint, epoch: number, seq: number, n = 1, tag = 'r') =>
  batch(
    Array.from({ length: n }, (_, i) => ({
      key: Buffer.from(`k${seq + i}`),
      value: Buffer.from(`${tag}${seq + i}`),
    })),
    { producerId: pid, producerEpoch: epoch, baseSequence: seq },
  );

describe('InitProducerId', () => {
  let b: TestBroker;
  let c: RawClient;
  before(async () => {
    b = await startBroker();
    c = await RawClient.connect(b.bootstrapServers);
  });
  after(async () => {
    c?.close();
    await b?.stop();
  });

  test('null transactional id: a fresh producer id with epoch 0 every time, at every version', async () => {
    const seen = new Set<bigint>();
    for (const v of [0, 1, 2, 3, 4, 5]) {
      const r = await initProducerId(c, {}, v);
      assert.equal(r.errorCode, 0);
      assert.equal(r.producerEpoch, 0);
      assert.ok(r.producerId >= 0n);
      assert.ok(!seen.has(r.producerId));
      seen.add(r.producerId);
    }
    // KIP-360 fields with no transactional id: Kafka still hands out a new id (the client bumps epochs itself)
    const given = await initProducerId(c, { producerId: 0n, producerEpoch: 3 });
    assert.equal(given.errorCode, 0);
    assert.equal(given.producerEpoch, 0);
    assert.ok(!seen.has(given.producerId));
  });

  test('invalid combinations and transactional ids', async () => {
    assert.equal(
      (await initProducerId(c, { producerId: 5n, producerEpoch: -1 })).errorCode,
      ErrorCode.INVALID_REQUEST,
    );
    assert.equal(
      (await initProducerId(c, { producerId: -1n, producerEpoch: 2 })).errorCode,
      ErrorCode.INVALID_REQUEST,
    );
    assert.equal((await initProducerId(c, { transactionalId: '' })).errorCode, ErrorCode.INVALID_REQUEST);
    const txn = await initProducerId(c, { transactionalId: 'txn-1' });
    assert.equal(txn.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.equal(txn.producerId, -1n);
  });

  test('producer ids never repeat across restarts', async () => {
    const before = (await initProducerId(c)).producerId;
    c.close();
    await b.restart();
    c = await RawClient.connect(b.bootstrapServers);
    const afterRestart = (await initProducerId(c)).producerId;
    assert.ok(afterRestart > before, `${afterRestart} after ${before}`);
  });
});

describe('idempotent produce', () => {
  let b: TestBroker;
  let c: RawClient;
  const leo = (t: string) => b.broker.replicas.get(t, 0)!.log.logEndOffset;
  before(async () => {
    b = await startBroker();
    await b.broker.topics.create({ name: 'idem', numPartitions: 1, replicationFactor: 1 });
    c = await RawClient.connect(b.bootstrapServers);
  });
  after(async () => {
    c?.close();
    await b?.stop();
  });

  test('duplicates of the last 5 batches get their original offsets; gaps and stale epochs are refused', async () => {
    const pid = (await initProducerId(c)).producerId;
    const offsets: bigint[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await produce(c, 'idem', idem(pid, 0, i * 2, 2));
      assert.equal(r.errorCode, 0);
      offsets.push(r.baseOffset);
    }
    const end = leo('idem');
    // retries of batches 1..5 (the last five): same offsets, nothing appended
    for (let i = 1; i < 6; i++) {
      const r = await produce(c, 'idem', idem(pid, 0, i * 2, 2));
      assert.equal(r.errorCode, 0);
      assert.equal(r.baseOffset, offsets[i]);
      assert.equal(r.logStartOffset, 0n);
    }
    assert.equal(leo('idem'), end);
    // batch 0 fell out of the window
    assert.equal(
      (await produce(c, 'idem', idem(pid, 0, 0, 2))).errorCode,
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    // a gap
    const gap = await produce(c, 'idem', idem(pid, 0, 13, 1));
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.match(gap.errorMessage, /Out of order sequence number/);
    // a new epoch must start at 0
    assert.equal(
      (await produce(c, 'idem', idem(pid, 1, 12, 1))).errorCode,
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    assert.equal((await produce(c, 'idem', idem(pid, 1, 0, 1))).errorCode, 0);
    // the old epoch is fenced now
    assert.equal((await produce(c, 'idem', idem(pid, 0, 12, 1))).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(leo('idem'), end + 1);
  });

  test('state survives a restart: a retry after restart is a duplicate, the next sequence continues', async () => {
    const pid = (await initProducerId(c)).producerId;
    const first = await produce(c, 'idem', idem(pid, 0, 0, 3));
    const second = await produce(c, 'idem', idem(pid, 0, 3, 2));
    assert.equal(second.errorCode, 0);
    const end = leo('idem');
    c.close();
    await b.restart();
    c = await RawClient.connect(b.bootstrapServers);
    const retry = await produce(c, 'idem', idem(pid, 0, 3, 2));
    assert.equal(retry.errorCode, 0);
    assert.equal(retry.baseOffset, second.baseOffset);
    const retryFirst = await produce(c, 'idem', idem(pid, 0, 0, 3));
    assert.equal(retryFirst.baseOffset, first.baseOffset);
    assert.equal(leo('idem'), end);
    assert.equal(
      (await produce(c, 'idem', idem(pid, 0, 6, 1))).errorCode,
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    const next = await produce(c, 'idem', idem(pid, 0, 5, 1));
    assert.equal(next.errorCode, 0);
    assert.equal(Number(next.baseOffset), end);
  });

  test('idle producers expire (producer.id.expiration.ms); then any sequence is accepted again, as in Kafka', async () => {
    const pid = (await initProducerId(c)).producerId;
    await produce(c, 'idem', idem(pid, 0, 0, 1));
    const p = b.broker.replicas.get('idem', 0)!;
    const state = await b.broker.appender.producerState(p);
    assert.ok(state.get(Number(pid)));
    const removed = b.broker.appender.expireProducers(
      Date.now() + b.broker.config.int('producer.id.expiration.ms'),
    );
    assert.ok(removed >= 1);
    assert.equal(state.get(Number(pid)), undefined);
    assert.equal((await produce(c, 'idem', idem(pid, 0, 40, 1))).errorCode, 0);
  });

  test('state follows the log: producers below a moved log start are forgotten, a truncation rebuilds', async () => {
    await b.broker.topics.create({ name: 'idem-trim', numPartitions: 1, replicationFactor: 1 });
    const p = b.broker.replicas.get('idem-trim', 0)!;
    const pid = (await initProducerId(c)).producerId;
    assert.equal((await produce(c, 'idem-trim', idem(pid, 0, 0, 2))).errorCode, 0);
    const pid2 = (await initProducerId(c)).producerId;
    assert.equal((await produce(c, 'idem-trim', idem(pid2, 0, 0, 1))).errorCode, 0); // offset 2
    assert.equal((await produce(c, 'idem-trim', idem(pid2, 0, 1, 1))).errorCode, 0); // offset 3
    // truncation below pid2's last batch (as a follower would): its batch at offset 3 is gone
    await p.log.truncateTo(3);
    p.log.highWatermark = 3;
    const again = await produce(c, 'idem-trim', idem(pid2, 0, 1, 1));
    assert.equal(again.errorCode, 0);
    assert.equal(again.baseOffset, 3n, 'appended again, not answered as a duplicate of a truncated batch');
    // DeleteRecords past pid's data: its state goes, so any sequence is accepted (Kafka 2.5+)
    await p.log.deleteRecordsBefore(2);
    assert.equal((await produce(c, 'idem-trim', idem(pid, 0, 9, 1))).errorCode, 0);
    assert.equal(
      (await produce(c, 'idem-trim', idem(pid2, 0, 3, 1))).errorCode,
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
  });

  test('pipelined appends from several producers and connections: each batch exactly once, in send order', async () => {
    await b.broker.topics.create({ name: 'idem-pipe', numPartitions: 1, replicationFactor: 1 });
    const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(b.bootstrapServers)));
    try {
      const pids = await Promise.all(clients.map(async (cl) => (await initProducerId(cl)).producerId));
      const sends: Promise<{ errorCode: number }>[] = [];
      for (let i = 0; i < 30; i++) {
        for (let k = 0; k < clients.length; k++) {
          const records = idem(pids[k]!, 0, i * 2, 2, `p${k}-`);
          sends.push(produce(clients[k]!, 'idem-pipe', records));
          if (i % 7 === 3) sends.push(produce(clients[k]!, 'idem-pipe', records)); // a pipelined retry
        }
      }
      const res = await Promise.all(sends);
      assert.ok(res.every((r) => r.errorCode === 0));
      const recs = await readPartition(b, 'idem-pipe', 0);
      assert.equal(recs.length, 30 * 2 * clients.length);
      for (let k = 0; k < clients.length; k++) {
        const mine = recs.filter((r) => r.value!.startsWith(`p${k}-`)).map((r) => r.value);
        assert.deepEqual(
          mine,
          Array.from({ length: 60 }, (_, i) => `p${k}-${i}`),
        );
      }
    } finally {
      for (const cl of clients) cl.close();
    }
  });
});

describe('kafkajs idempotent producer across a broker restart', () => {
  let b: TestBroker;
  let proxy: FaultProxy;
  before(async () => {
    let brokerPort = 0;
    proxy = await FaultProxy.start(() => brokerPort);
    b = await startBroker({ config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` } });
    brokerPort = b.port;
    await b.broker.topics.create({ name: 'idem-kjs', numPartitions: 2, replicationFactor: 1 });
  });
  after(async () => {
    await proxy?.stop();
    await b?.stop();
  });

  test('a produce whose response is lost while the broker restarts is retried without duplicates', async () => {
    let restarting: Promise<void> | null = null;
    proxy.onResponse = (apiKey, n) => (apiKey === 0 && n === 4 ? 'drop-and-close' : 'pass');
    proxy.onDropped = () => {
      restarting ??= b.restart();
    };
    const kafka = new Kafka({
      clientId: 'idem-kjs',
      brokers: [`127.0.0.1:${proxy.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 300 },
    });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    try {
      for (let i = 0; i < 10; i++) {
        await producer.send({
          topic: 'idem-kjs',
          messages: Array.from({ length: 10 }, (_, j) => ({
            value: `m${i * 10 + j}`,
            partition: (i + j) % 2,
          })),
        });
      }
      assert.ok(restarting, 'the fault fired');
      await restarting;
    } finally {
      await producer.disconnect();
    }
    const all: string[] = [];
    for (const part of [0, 1]) {
      const recs = await readPartition(b, 'idem-kjs', part);
      const values = recs.map((r) => r.value!);
      assert.equal(new Set(values).size, values.length, `duplicates in partition ${part}`);
      const nums = values.map((v) => Number(v.slice(1)));
      assert.deepEqual(
        nums,
        [...nums].sort((x, y) => x - y),
        `order in partition ${part}`,
      );
      all.push(...values);
    }
    assert.equal(all.length, 100);
  });
});

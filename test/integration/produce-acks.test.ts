/**
 * acks=all and the ISR: min.insync.replicas against the ISR size
 * (NOT_ENOUGH_REPLICAS, nothing appended), and the wait for the high
 * watermark when the ISR has followers (simulated here by editing the
 * partition's ISR in memory, as the replication issue will do for real).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.ts';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { batch, PRODUCE, produceBody } from '../helpers/produce.ts';
import { RawClient } from '../helpers/raw-client.ts';

describe('acks=all and the ISR', () => {
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

  const send = async (topic: string, acks: number, timeoutMs = 5000) => {
    const body = { ...produceBody(topic, batch(), acks), timeoutMs };
    return (await c.request(PRODUCE, 9, body)).responses[0].partitionResponses[0];
  };

  test('min.insync.replicas above the replication factor is capped by it (Kafka effectiveMinIsr)', async () => {
    await b.broker.topics.create({
      name: 'acks-rf1',
      numPartitions: 1,
      replicationFactor: 1,
      configs: { 'min.insync.replicas': '2' },
    });
    assert.equal((await send('acks-rf1', -1)).errorCode, 0);
  });

  test('ISR smaller than min.insync.replicas: NOT_ENOUGH_REPLICAS for acks=all only, nothing appended', async () => {
    await b.broker.topics.create({
      name: 'acks-isr',
      numPartitions: 1,
      replicationFactor: 1,
      configs: { 'min.insync.replicas': '2' },
    });
    const self = b.broker.nodeId;
    const info = b.broker.topics.get('acks-isr')!.partitions[0]!;
    info.replicas = [self, self + 100];
    info.isr = [self];
    const log = b.broker.replicas.get('acks-isr', 0)!.log;
    const r = await send('acks-isr', -1);
    assert.equal(r.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
    assert.equal(log.logEndOffset, 0);
    assert.equal((await send('acks-isr', 1)).errorCode, 0);
    assert.equal(log.logEndOffset, 1);
    assert.equal(log.highWatermark, 1, 'ISR {self}: the high watermark follows the append');
  });

  test('with a follower in the ISR, acks=all waits for the high watermark (or times out)', async () => {
    await b.broker.topics.create({ name: 'acks-wait', numPartitions: 1, replicationFactor: 1 });
    const self = b.broker.nodeId;
    const info = b.broker.topics.get('acks-wait')!.partitions[0]!;
    info.replicas = [self, self + 100];
    info.isr = [self, self + 100];
    const p = b.broker.replicas.get('acks-wait', 0)!;
    const timedOut = await send('acks-wait', -1, 200);
    assert.equal(timedOut.errorCode, ErrorCode.REQUEST_TIMED_OUT);
    assert.equal(p.log.logEndOffset, 1, 'appended locally; the outcome is unknown to the client');
    assert.equal(p.log.highWatermark, 0);
    const waiting = send('acks-wait', -1, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    // the follower catches up: the replication path moves the high watermark and signals
    p.log.highWatermark = p.log.logEndOffset;
    p.notifyAppended();
    const r = await waiting;
    assert.equal(r.errorCode, 0);
    assert.equal(r.baseOffset, 1n);
    // acks=1 does not wait
    assert.equal((await send('acks-wait', 1, 10_000)).errorCode, 0);
  });
});

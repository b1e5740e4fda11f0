/**
 * confluent-kafka-python (librdkafka) against a Samsa broker started by this
 * file. Needs the Debian packages (scripts/install-debian-clients.sh); runs
 * under `npm run test:compat`. Cases skip, naming the missing handler, until
 * the broker registers what they need.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  brokerFor,
  createTopicDirect,
  startBroker,
  type TestBroker,
  uniqueTopic,
  waitFor,
} from '../helpers/broker.ts';
import { py, requirePythonModule, spawnPy } from '../helpers/debian.ts';
import { startProxy } from '../helpers/proxy.ts';
import {
  assertExactlyOnce,
  assertRecords,
  CODECS,
  makeRecords,
  type ReadRecord,
} from '../helpers/records.ts';

const S = 'confluent_ops.py';

describe('confluent-kafka-python', () => {
  let b: TestBroker;
  let bootstrap: string;
  before(async () => {
    requirePythonModule('confluent_kafka');
    b = await startBroker();
    bootstrap = b.bootstrapServers;
  });
  after(() => b?.stop());

  test('metadata: the broker and its topics', async () => {
    const topic = uniqueTopic('cf-md');
    await createTopicDirect(b, topic, 3);
    const md = await py(S, { op: 'list_topics', bootstrap });
    assert.deepEqual(md.brokers, [b.broker.nodeId]);
    assert.deepEqual(md.topics[topic].partitions, [0, 1, 2]);
    assert.equal(md.topics[topic].error, null);
  });

  test('create, describe and delete topics', async () => {
    const topic = uniqueTopic('cf-admin');
    const created = await py(S, {
      op: 'create_topics',
      bootstrap,
      topics: [{ name: topic, partitions: 3, configs: { 'retention.ms': '3600000' } }],
    });
    assert.deepEqual(created.results[topic], { ok: true, error: null });
    const again = await py(S, { op: 'create_topics', bootstrap, topics: [{ name: topic, partitions: 1 }] });
    assert.equal(again.results[topic].error, 'TOPIC_ALREADY_EXISTS');
    const md = await py(S, { op: 'list_topics', bootstrap, topic });
    assert.deepEqual(md.topics[topic].partitions, [0, 1, 2]);
    const deleted = await py(S, { op: 'delete_topics', bootstrap, topics: [topic] });
    assert.deepEqual(deleted.results[topic], { ok: true, error: null });
    await waitFor('topic gone from metadata', async () => {
      const m = await py(S, { op: 'list_topics', bootstrap });
      return !(topic in m.topics);
    });
    const missing = await py(S, { op: 'delete_topics', bootstrap, topics: [topic] });
    assert.equal(missing.results[topic].error, 'UNKNOWN_TOPIC_OR_PART');
  });

  for (const codec of CODECS) {
    test(`produce with keys and headers (${codec}) and consume from the beginning`, async () => {
      const topic = uniqueTopic(`cf-${codec}`);
      await createTopicDirect(b, topic, 1);
      const records = makeRecords(30, `cf-${codec}`);
      const p = await py(S, { op: 'produce', bootstrap, topic, partition: 0, codec, records });
      assert.equal(p.undelivered, 0);
      assert.deepEqual(
        p.delivered.filter((d: { error: string | null }) => d.error),
        [],
      );
      assert.deepEqual(
        p.delivered.map((d: { offset: number }) => d.offset),
        records.map((_, i) => i),
      );
      const c = await py(S, { op: 'consume', bootstrap, topic, offset: 'beginning', count: records.length });
      assert.deepEqual(c.errors, []);
      assertRecords(c.records as ReadRecord[], records);
    });
  }

  test('consume from an offset', async () => {
    const topic = uniqueTopic('cf-offset');
    await createTopicDirect(b, topic, 1);
    const records = makeRecords(12, 'cf-offset');
    await py(S, { op: 'produce', bootstrap, topic, partition: 0, records });
    const c = await py(S, { op: 'consume', bootstrap, topic, offset: 7, count: 5 });
    assertRecords(c.records as ReadRecord[], records.slice(7), 7);
  });

  test('ListOffsets by timestamp (offsets_for_times)', async () => {
    const topic = uniqueTopic('cf-times');
    await createTopicDirect(b, topic, 1);
    const t0 = Date.now() - 60_000;
    const records = makeRecords(5, 'cf-times').map((r, i) => ({ ...r, timestamp: t0 + i * 1000 }));
    // One record per request, so each is its own batch and timestamps are per batch too.
    for (const r of records) await py(S, { op: 'produce', bootstrap, topic, partition: 0, records: [r] });
    const r = await py(S, {
      op: 'offsets_for_times',
      bootstrap,
      topic,
      timestamps: [t0 - 5000, t0, t0 + 1500, t0 + 4000, t0 + 10_000],
    });
    assert.deepEqual(
      r.offsets.map((o: { offset: number }) => o.offset),
      [0, 0, 2, 4, -1],
    );
    assert.deepEqual([r.low, r.high], [0, 5]);
    const c = await py(S, { op: 'consume', bootstrap, topic, offset: 'beginning', count: 5 });
    assertRecords(c.records as ReadRecord[], records);
  });

  test('DeleteRecords', {
    skip: 'confluent-kafka-python 1.7.0 (Debian) has no AdminClient.delete_records',
  }, () => {});

  test('describe and alter topic and broker configs', async () => {
    const topic = uniqueTopic('cf-configs');
    await createTopicDirect(b, topic, 1);
    const d = await py(S, { op: 'describe_configs', bootstrap, resource: 'topic', name: topic });
    assert.equal(d.configs['cleanup.policy']?.value, 'delete');
    assert.equal(d.configs['retention.ms']?.is_default, true);
    await py(S, {
      op: 'alter_configs',
      bootstrap,
      resource: 'topic',
      name: topic,
      configs: { 'retention.ms': '7200000', 'max.message.bytes': '2000000' },
    });
    const d2 = await py(S, { op: 'describe_configs', bootstrap, resource: 'topic', name: topic });
    assert.equal(d2.configs['retention.ms'].value, '7200000');
    assert.equal(d2.configs['retention.ms'].is_default, false);
    assert.equal(d2.configs['max.message.bytes'].value, '2000000');
    const brokerCfg = await py(S, {
      op: 'describe_configs',
      bootstrap,
      resource: 'broker',
      name: String(b.broker.nodeId),
    });
    assert.ok(
      brokerCfg.configs['log.retention.hours'] || brokerCfg.configs['num.partitions'],
      'broker configs listed',
    );
  });

  test('idempotent producer retries across a lost response and a broker restart without duplicates', {
    timeout: 120_000,
  }, async (t) => {
    // All traffic through a proxy that can swallow responses: batches reach the
    // broker and are appended, the producer never hears back and resends them.
    let brokerPort = 0;
    const proxy = await startProxy(() => brokerPort);
    t.after(() => proxy.close());
    // File storage: restart() reopens the log from disk, so producer state must be recovered, not kept in memory.
    const rb = await brokerFor(t, {
      storage: 'file',
      config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` },
    });
    brokerPort = rb.port;
    const topic = uniqueTopic('cf-idem');
    await createTopicDirect(rb, topic, 1);
    const via = `127.0.0.1:${proxy.port}`;
    let phase = 0;
    const count = 400;
    let faultDone: Promise<void> = Promise.resolve();
    const run = spawnPy(
      S,
      { op: 'idempotent_stream', bootstrap: via, topic, count, interval: 0.005 },
      (line) => {
        const m = JSON.parse(line);
        if (m.sent === undefined || phase !== 0 || m.sent < 100) return;
        phase = 1;
        faultDone = (async () => {
          proxy.dropResponses = true;
          // Hold the drop until at least one response was swallowed (bounded), then a little longer.
          for (let i = 0; i < 100 && proxy.droppedBytes === 0; i++)
            await new Promise((r) => setTimeout(r, 50));
          await new Promise((r) => setTimeout(r, 400));
          await rb.restart();
          proxy.cut();
          proxy.dropResponses = false;
        })();
      },
    );
    t.after(() => run.child.kill('SIGKILL'));
    const res = await run.done;
    await faultDone;
    assert.equal(res.code, 0, `producer failed: ${res.stderr.slice(-3000)}`);
    assert.equal(phase, 1, 'the fault was injected');
    assert.ok(proxy.droppedBytes > 0, 'a response was lost');
    const out = JSON.parse(res.stdout.trim().split('\n').at(-1)!);
    const errors = out.delivered.filter((d: { error: string | null }) => d.error);
    assert.deepEqual(errors, []);
    assert.equal(out.undelivered, 0);
    const acked = out.delivered.map((d: { value: string }) => d.value);
    assert.equal(acked.length, count);
    const c = await py(S, {
      op: 'consume',
      bootstrap: via,
      topic,
      offset: 'beginning',
      count: count + 50,
      timeout: 8,
    });
    assertExactlyOnce(
      c.records.map((r: ReadRecord) => r.value),
      acked,
    );
  });
});

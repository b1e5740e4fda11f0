/**
 * STO-PowerLoss (RELIABILITY.md E.22), single broker: an in-process broker
 * with file storage whose file operations go through a power-loss shim
 * (PowerLossIO: only what was fsynced survives; creates and renames only
 * once their directory was fsynced). Under idempotent acks=all producers
 * (two kafkajs, one librdkafka with 5 in flight) and an assign-mode
 * librdkafka consumer, the test pulls the plug (every file operation fails
 * from then on and unsynced data is dropped from the files), stops that
 * broker and starts a new one on the same dir and port, several times.
 *
 * fsync mode (samsa.log.fsync.before.ack=true), pass:
 *  - nothing acknowledged is lost: the queue checker passes with unseen = 0
 *    and no loss excused;
 *  - nothing a consumer read is lost either (reads stop at durable data).
 * page-cache mode (the default; the topic flushes every 300 ms so that cuts
 * fall between a flushed prefix and an unsynced tail), pass:
 *  - loss is limited to unsynced data: each partition survives at least up to
 *    its recovery point (flushed offset) at the cut; what is lost is a suffix
 *    (recorded as truncate notes; the checker finds nothing else);
 *  - the recovered log is CRC-clean, contiguous and continues where the
 *    surviving prefix ended.
 *
 * Default: 3 power cuts per mode, ~15 s each. SAMSA_FAULT_LONG=1: 10.
 * Run: node --test test/fault/sto-power-loss.test.ts
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { FileLogEngine } from '../../src/storage/file/engine.ts';
import { startBroker, type TestBroker } from '../../src/testing/index.ts';
import { checkQueue, formatResult } from '../support/checker/queue-checker.ts';
import { FaultRun, LONG } from '../support/harness/fault-run.ts';
import { KafkajsRecordingProducer, kafkajsDrain } from '../support/harness/kafkajs-clients.ts';
import {
  assertContinues,
  type PartitionScan,
  partitionDir,
  scanPartition,
} from '../support/harness/log-files.ts';
import { PowerCutIO } from '../support/harness/power-cut.ts';
import { type PythonClient, pythonClientSkip, startPythonClient } from '../support/harness/python-client.ts';
import { createTopic } from '../support/harness/raw-ops.ts';
import { randInt } from '../support/harness/rng.ts';

const TOPIC = 'power';
const PARTITIONS = [0, 1, 2];
const CUTS = LONG ? 10 : 3;

const skip = pythonClientSkip();

async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<undefined>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function scenario(t: TestContext, fsync: boolean) {
  const run = FaultRun.create(t, fsync ? 'sto-power-loss-fsync' : 'sto-power-loss-pagecache');
  const dir = run.dataDir('b0');
  const config = { 'samsa.log.fsync.before.ack': fsync };
  let io = new PowerCutIO();
  let tb: TestBroker = await startBroker({ storage: 'file', dir, config, io });
  run.defer(() => tb.stop().catch(() => {}));
  const port = tb.port;
  const bootstrap = tb.bootstrapServers;
  await createTopic(bootstrap, TOPIC, PARTITIONS.length, {
    // small segments: cuts also catch segment rolls (new files whose directory entry is not yet synced)
    'segment.bytes': String(16 * 1024),
    'index.interval.bytes': '1024',
    // page cache: a timed flush now and then, so cuts land between a flushed prefix and an unsynced tail
    ...(fsync ? {} : { 'flush.ms': '300' }),
  });

  const kjs = [1, 2].map(
    (pid) => new KafkajsRecordingProducer(run, { bootstrap, topic: TOPIC, partitions: PARTITIONS, pid }),
  );
  for (const p of kjs) p.start();
  const pyArgs = (pid: number) =>
    ({
      role: 'produce',
      bootstrap,
      topic: TOPIC,
      partitions: PARTITIONS,
      pid,
      rate: 300,
      maxSeconds: 600,
    }) as const;
  let py: PythonClient = startPythonClient(run, pyArgs(100));
  const pyClients = [py];
  const consumer = startPythonClient(run, {
    role: 'consume',
    bootstrap,
    topic: TOPIC,
    partitions: PARTITIONS,
    pid: 1,
    maxSeconds: 600,
  });

  let lastScans = new Map<number, PartitionScan>();
  let bootIndex = 0; // history position when the current broker started
  let lostAcked = 0;
  let droppedBytes = 0;
  const cuts: { at: number; lost: boolean }[] = [];
  for (let round = 0; round < CUTS; round++) {
    const before = run.history.ops.length;
    await new Promise((r) => setTimeout(r, randInt(run.rand, 700, 1500)));
    assert.ok(run.history.ops.length > before, `clients made progress in round ${round}`);
    if (py.child.exitCode !== null) {
      const s = await py.done.catch((e) => ({ error: String(e) }));
      run.log(`python producer ended: ${JSON.stringify(s).slice(0, 300)}; starting another`);
      py = startPythonClient(run, pyArgs(100 + pyClients.length));
      pyClients.push(py);
    }

    // the cut: note what was flushed, then nothing more reaches the disk
    const engine = tb.broker.engine as FileLogEngine;
    const flushed = new Map(
      PARTITIONS.map((p) => [
        p,
        (engine.getInternalLog(TOPIC, p) as { recoveryPoint: number }).recoveryPoint,
      ]),
    );
    const leo = new Map(PARTITIONS.map((p) => [p, engine.getInternalLog(TOPIC, p)!.logEndOffset]));
    const dropped = io.cut();
    droppedBytes += dropped.truncatedBytes;
    run.log(
      `round ${round}: power cut; flushed ${[...flushed.values()].join('/')}, log ends ${[...leo.values()].join('/')}; dropped ${dropped.truncatedBytes} bytes, undid ${dropped.undone} directory operations`,
    );
    await bounded(
      tb.stop().catch((e) => run.log(`stopping the powered-off broker: ${(e as Error).message}`)),
      15_000,
      'stopping the powered-off broker',
    );

    let lostThisRound = false;
    const scans = new Map<number, PartitionScan>();
    for (const p of PARTITIONS) {
      const scan = scanPartition(partitionDir(dir, TOPIC, p));
      scans.set(p, scan);
      const prev = lastScans.get(p);
      // what the previous boot recovered was made durable before this boot acknowledged anything new
      if (prev)
        assert.ok(
          scan.validEnd >= prev.validEnd,
          `round ${round}, partition ${p}: below the previous recovered end`,
        );
      assert.ok(
        scan.validEnd >= flushed.get(p)!,
        `round ${round}, partition ${p}: survived up to ${scan.validEnd}, below the flushed offset ${flushed.get(p)}`,
      );
      if (scan.validEnd >= leo.get(p)!) continue;
      // a lost suffix: what was acknowledged or read there
      const key = `${TOPIC}/${p}`;
      const values = new Set<string>();
      let acked = 0;
      for (const op of run.history.ops) {
        if (op.type === 'invoke') continue;
        for (const m of op.mops ?? []) {
          if (m.key !== key || m.offset === undefined || m.offset < scan.validEnd) continue;
          values.add(m.value);
          if (m.f === 'send' && op.type === 'ok' && op.index >= bootIndex) acked++;
        }
      }
      run.log(
        `round ${round}: partition ${p} lost offsets ${scan.validEnd}..${leo.get(p)! - 1} (${acked} acknowledged records)`,
      );
      if (fsync) {
        assert.equal(
          acked,
          0,
          `fsync mode: round ${round}, partition ${p} lost ${acked} acknowledged records`,
        );
        const read = [...values].length;
        assert.equal(
          read,
          0,
          `fsync mode: round ${round}, partition ${p}: consumers had read ${read} lost records`,
        );
        continue;
      }
      lostAcked += acked;
      if (values.size === 0) continue;
      lostThisRound = true;
      const seeked = consumer.waitStatus((s) => s.status === 'seeked' && s.partition === p);
      consumer.send(`seek ${p}`);
      await seeked;
      run.history.note('nemesis', 'truncate', {
        key,
        offset: scan.validEnd,
        values: [...values],
        note: `power loss in round ${round}`,
      });
    }
    lastScans = scans;
    cuts.push({ at: Date.now(), lost: lostThisRound });

    io = new PowerCutIO();
    bootIndex = run.history.ops.length;
    tb = await startBroker({ storage: 'file', dir, config, io, port });
    run.log(`round ${round}: restarted`);
  }

  await new Promise((r) => setTimeout(r, 800));
  await Promise.all(kjs.map((p) => p.stop()));
  const pySummary = await py.stop().catch((e) => ({ error: String(e) }));
  const consSummary = await consumer.stop();
  assert.equal(consSummary.offsetResets, 0, 'the consumer never found its position out of range');
  const drain = startPythonClient(run, {
    role: 'drain',
    bootstrap,
    topic: TOPIC,
    partitions: PARTITIONS,
    pid: 1,
    maxSeconds: 60,
  });
  await drain.wait(90_000);
  await kafkajsDrain(run, bootstrap, TOPIC, PARTITIONS, 1);
  await tb.stop();
  for (const p of PARTITIONS) {
    const scan = scanPartition(partitionDir(dir, TOPIC, p));
    assert.equal(
      scan.stop,
      undefined,
      `partition ${p} clean after a clean stop: ${JSON.stringify(scan.stop)}`,
    );
    assertContinues(lastScans.get(p)!, scan, `final, partition ${p}`);
  }

  // producers may give up (fatal OUT_OF_ORDER_SEQUENCE / replaced) only after a cut that lost acknowledged data
  const giveUps = [
    ...pyClients
      .flatMap((c) => c.statuses)
      .filter((s) => s.status === 'fatal')
      .map((s) => ({ at: s.at as number, error: String(s.error) })),
    ...kjs.flatMap((p) => p.replacements),
  ];
  for (const g of giveUps) {
    const c = cuts.findLast((x) => x.at <= g.at);
    assert.ok(c?.lost, `a producer gave up after a cut that lost nothing: ${g.error}`);
  }

  const result = run.check(checkQueue(run.history.ops));
  t.diagnostic(formatResult(result));
  t.diagnostic(
    `${fsync ? 'fsync' : 'page-cache'} mode: ${CUTS} cuts, ${droppedBytes} unsynced bytes dropped, ${lostAcked} acknowledged records lost; kafkajs acked ${kjs.map((p) => p.acked).join('/')} (replaced ${kjs.map((p) => p.replacements.length).join('/')}), librdkafka producers ${pyClients.length}, last ${JSON.stringify(pySummary).slice(0, 200)}`,
  );
  assert.ok(result.valid, formatResult(result));
  if (fsync) assert.equal(result.stats.destroyed, 0, 'fsync mode: nothing acknowledged or read was lost');
  assert.ok(result.stats.acknowledged > 500, `enough load: ${result.stats.acknowledged} acknowledged`);
}

test(
  'STO-PowerLoss, fsync before ack: power cuts lose nothing acknowledged',
  { skip, timeout: LONG ? 600_000 : 120_000 },
  (t) => scenario(t, true),
);

test(
  'STO-PowerLoss, page cache: power cuts lose only unsynced data and leave a valid log',
  {
    skip,
    timeout: LONG ? 600_000 : 120_000,
  },
  (t) => scenario(t, false),
);

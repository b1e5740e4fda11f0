/**
 * STO-TornTail (RELIABILITY.md E.19), single broker: a real `samsa start`
 * process (file storage) is SIGKILLed mid-write under idempotent acks=all
 * producers (two kafkajs, one librdkafka with 5 in flight) and an assign-mode
 * librdkafka consumer. After each kill the test damages the files in turn:
 * cuts the active segment inside its last batch, appends 0-4 KiB of garbage,
 * deletes or zeroes the .index/.timeindex files, corrupts the recovery-point
 * and leader-epoch checkpoints, and cuts a tail again under a well-formed
 * recovery-point checkpoint that claims everything is flushed. Then it
 * restarts the broker.
 *
 * Pass:
 *  - the broker starts (bounded);
 *  - recovery ends the log exactly at the last fully valid batch: the next
 *    offline scan (at the next kill, and after a clean stop at the end) finds
 *    the valid prefix the test computed before the restart, byte-identical
 *    (offsets, epochs, CRCs), and the log continuing contiguously from its end;
 *  - every offset below that end fetches the right value right after the
 *    restart (exact-offset fetches: the indexes were rebuilt);
 *  - the queue checker passes: no duplicates from resumed idempotent
 *    producers, no inconsistent offsets, nothing acknowledged lost except
 *    what the test itself cut away (recorded as `truncate` notes), unseen = 0
 *    after the final drain.
 *
 * Default: 5 kill rounds (one per damage kind), ~15 s. SAMSA_FAULT_LONG=1: 20 rounds, ~45 s.
 * Run: node --test test/fault/sto-torn-tail.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkQueue, formatResult } from '../support/checker/queue-checker.ts';
import { FaultRun, LONG } from '../support/harness/fault-run.ts';
import { KafkajsRecordingProducer, kafkajsDrain } from '../support/harness/kafkajs-clients.ts';
import {
  appendGarbage,
  assertContinues,
  corruptCheckpoints,
  type Damage,
  damageIndexes,
  lyingRecoveryPoint,
  type PartitionScan,
  partitionDir,
  scannedValues,
  scanPartition,
  truncateInsideLastBatch,
} from '../support/harness/log-files.ts';
import { type PythonClient, pythonClientSkip, startPythonClient } from '../support/harness/python-client.ts';
import { createTopic, fetchAt, offsetsOf, withClient } from '../support/harness/raw-ops.ts';
import { pick, randInt } from '../support/harness/rng.ts';

const TOPIC = 'torn';
const PARTITIONS = [0, 1, 2];
const KINDS = ['truncate', 'garbage', 'indexes', 'checkpoints', 'truncate+lying-checkpoint'] as const;
const ROUNDS = LONG ? 20 : KINDS.length;

const skip = pythonClientSkip();

test('STO-TornTail: SIGKILL mid-write, torn tails, garbage, lost indexes, corrupt checkpoints', {
  skip,
  timeout: LONG ? 600_000 : 120_000,
}, async (t) => {
  const run = FaultRun.create(t, 'sto-torn-tail');
  const broker = await run.startSamsa('b0');
  const dataDir = run.dataDir('b0');
  await createTopic(broker.bootstrap, TOPIC, PARTITIONS.length, {
    'segment.bytes': String(64 * 1024),
    'index.interval.bytes': '1024',
  });
  const bootstrap = broker.bootstrap;

  const kjs = [1, 2].map(
    (pid) => new KafkajsRecordingProducer(run, { bootstrap, topic: TOPIC, partitions: PARTITIONS, pid }),
  );
  for (const p of kjs) p.start();
  let py: PythonClient = startPythonClient(run, {
    role: 'produce',
    bootstrap,
    topic: TOPIC,
    partitions: PARTITIONS,
    pid: 100,
    rate: 300,
    maxSeconds: 600,
  });
  let pyPid = 100;
  const pyClients = [py];
  const pyStatuses = () => pyClients.flatMap((c) => c.statuses);
  const consumer = startPythonClient(run, {
    role: 'consume',
    bootstrap,
    topic: TOPIC,
    partitions: PARTITIONS,
    pid: 1,
    maxSeconds: 600,
  });

  let lastScans = new Map<number, PartitionScan>();
  const restartMs: number[] = [];
  /** Restart times and whether that round destroyed acknowledged data. */
  const restarts: { at: number; kind: string; destroyed: boolean }[] = [];
  const roundBefore = (at: number) => restarts.findLast((r) => r.at <= at);
  const damages: (Damage & { round: number })[] = [];
  let probed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const before = run.history.ops.length;
    await new Promise((r) => setTimeout(r, randInt(run.rand, 700, 1500)));
    assert.ok(run.history.ops.length > before, `clients made progress in round ${round}`);
    // a librdkafka producer that hit a fatal error (after its acknowledged batch was cut) is replaced
    if (py.child.exitCode !== null) {
      const s = await py.done.catch((e) => ({ error: String(e) }));
      run.log(`python producer p${pyPid} ended: ${JSON.stringify(s).slice(0, 300)}; starting p${pyPid + 1}`);
      py = startPythonClient(run, {
        role: 'produce',
        bootstrap,
        topic: TOPIC,
        partitions: PARTITIONS,
        pid: ++pyPid,
        rate: 300,
        maxSeconds: 600,
      });
      pyClients.push(py);
    }

    await broker.kill('SIGKILL');
    run.log(`round ${round}: SIGKILL`);
    // what the restarted broker kept last time must still be there, and continue cleanly
    for (const p of PARTITIONS) {
      const now = scanPartition(partitionDir(dataDir, TOPIC, p));
      const prev = lastScans.get(p);
      if (prev) assertContinues(prev, now, `round ${round}, partition ${p}`);
      if (now.stop) {
        // SIGKILL can cut a write short (a torn final batch); anything else past the valid
        // end (garbage, a bad CRC) means recovery kept bytes it should have dropped
        run.log(`round ${round}: partition ${p} after SIGKILL: ${JSON.stringify(now.stop)}`);
        assert.match(now.stop.reason, /present|less than a batch header/, `round ${round}, partition ${p}`);
        assert.equal(
          now.stop.segment,
          now.segments.at(-1),
          `round ${round}, partition ${p}: torn in the last segment`,
        );
      }
    }

    const kind = KINDS[round % KINDS.length]!;
    const victim = pick(run.rand, PARTITIONS);
    for (const p of PARTITIONS) {
      const dir = partitionDir(dataDir, TOPIC, p);
      let d: Damage | undefined;
      if (kind.startsWith('truncate') && p === victim) d = truncateInsideLastBatch(dir, run.rand);
      if (kind === 'garbage' && p === victim) d = appendGarbage(dir, run.rand);
      if (kind === 'indexes') d = damageIndexes(dir, run.rand);
      if (kind === 'checkpoints') d = corruptCheckpoints(dataDir, dir, run.rand);
      if (!d) continue;
      damages.push({ ...d, round });
      run.log(`round ${round}: partition ${p}: ${d.kind}: ${d.detail}`);
      if (d.destroyedFrom !== undefined) {
        // the consumer may sit past the new end: move it back (recorded), as an
        // application told about the loss would; its stale prefetched copies are dropped
        const seeked = consumer.waitStatus((s) => s.status === 'seeked' && s.partition === p);
        consumer.send(`seek ${p}`);
        await seeked;
        run.history.note('nemesis', 'truncate', {
          key: `${TOPIC}/${p}`,
          offset: d.destroyedFrom,
          values: d.destroyedValues ?? [],
          note: d.detail,
        });
      }
    }
    if (kind === 'truncate+lying-checkpoint') {
      const d = lyingRecoveryPoint(dataDir, partitionDir(dataDir, TOPIC, victim));
      damages.push({ ...d, round });
      run.log(`round ${round}: ${d.kind}: ${d.detail}`);
    }
    const scans = new Map(PARTITIONS.map((p) => [p, scanPartition(partitionDir(dataDir, TOPIC, p))]));
    lastScans = scans;

    restarts.push({
      at: Date.now(),
      kind,
      destroyed: damages.some((d) => d.destroyedFrom !== undefined && d.round === round),
    });
    const ms = await broker.start();
    restartMs.push(ms);
    run.log(`round ${round}: restarted in ${ms} ms`);

    // right after the restart: the valid prefix is served exactly, the indexes rebuilt
    await withClient(bootstrap, async (c) => {
      for (const p of PARTITIONS) {
        const scan = scans.get(p)!;
        const { earliest, latest } = await offsetsOf(bootstrap, TOPIC, p);
        assert.equal(earliest, 0, `partition ${p} log start`);
        assert.ok(
          latest >= scan.validEnd,
          `partition ${p}: end ${latest} below the valid end ${scan.validEnd}`,
        );
        const values = scannedValues(scan);
        const sample = new Set([0, scan.validEnd - 1]);
        for (let i = 0; i < 40; i++) sample.add(randInt(run.rand, 0, Math.max(0, scan.validEnd - 1)));
        for (const off of sample) {
          if (off < 0 || off >= scan.validEnd) continue;
          const got = await fetchAt(c, TOPIC, p, off);
          assert.equal(got.errorCode, 0, `fetch ${p}@${off}`);
          assert.ok(
            got.firstBatchBase !== undefined && got.firstBatchBase <= off,
            `fetch ${p}@${off}: first batch`,
          );
          assert.equal(got.value, values.get(off), `fetch ${p}@${off}: value`);
          probed++;
        }
      }
    });
  }

  // heal and drain
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
  const drainSummary = await drain.wait(90_000);
  await kafkajsDrain(run, bootstrap, TOPIC, PARTITIONS, 1);

  // a clean stop, then the final offline scan: contiguous, CRC-clean, continuing the last valid prefix
  await broker.stop();
  for (const p of PARTITIONS) {
    const scan = scanPartition(partitionDir(dataDir, TOPIC, p));
    assert.equal(
      scan.stop,
      undefined,
      `partition ${p} clean after a clean stop: ${JSON.stringify(scan.stop)}`,
    );
    assertContinues(lastScans.get(p)!, scan, `final, partition ${p}`);
  }

  // Producers may give up only where the test destroyed data they had acknowledged
  // (librdkafka: fatal OUT_OF_ORDER_SEQUENCE "rewound sequence"; kafkajs: a failed send).
  const giveUps = [
    ...pyStatuses()
      .filter((s) => s.status === 'fatal')
      .map((s) => ({ at: s.at as number, error: String(s.error) })),
    ...kjs.flatMap((p) => p.replacements),
  ];
  for (const g of giveUps) {
    const r = roundBefore(g.at);
    assert.ok(
      r?.destroyed,
      `a producer gave up after a ${r?.kind ?? 'no'} round that destroyed nothing: ${g.error}`,
    );
  }

  const result = run.check(checkQueue(run.history.ops));
  t.diagnostic(formatResult(result));
  t.diagnostic(
    `rounds ${ROUNDS}; restarts ${restartMs.join(', ')} ms; exact-offset fetches ${probed}; kafkajs acked ${kjs.map((p) => p.acked).join('/')} (producers replaced ${kjs.map((p) => p.replacements.length).join('/')}; librdkafka producers ${pyClients.length}); python ${JSON.stringify(pySummary).slice(0, 300)}; consumer ${JSON.stringify(consSummary).slice(0, 200)}; drain ${JSON.stringify(drainSummary).slice(0, 300)}`,
  );
  assert.ok(result.valid, formatResult(result));
  assert.ok(result.stats.acknowledged > 1000, `enough load: ${result.stats.acknowledged} acknowledged`);
});

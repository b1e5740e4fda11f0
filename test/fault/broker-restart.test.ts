/**
 * Restart under load (issue 4, "Restart tests"): a real `samsa start` child
 * process with file storage is SIGKILLed and restarted several times while a
 * kafkajs idempotent producer writes with acks=all. Everything acknowledged
 * must be read back exactly once, and nothing at all may appear twice.
 *
 * Run: node --test test/fault/broker-restart.test.ts (not in the default
 * `npm test`: it starts processes and takes ~15 s).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeResponseFrame, encodeRequestFrame } from '../../src/protocol/index.ts';
import { kafkajs, kafkajsRead } from '../compat/helpers/kafkajs.ts';
import { assertExactlyOnce } from '../compat/helpers/records.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SAMSA = join(ROOT, 'bin', 'samsa.js');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** One ApiVersions round trip: true when the broker answers. */
function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        try {
          const res = decodeResponseFrame(18, 0, buf.subarray(4, 4 + buf.readInt32BE(0)));
          done(res.body.errorCode === 0);
        } catch {
          done(false);
        }
      }
    });
    sock.connect(port, '127.0.0.1', () => {
      const frame = encodeRequestFrame(
        { requestApiKey: 18, requestApiVersion: 0, correlationId: 1, clientId: 'probe' },
        {},
      );
      const size = Buffer.alloc(4);
      size.writeInt32BE(frame.length);
      sock.write(Buffer.concat([size, frame]));
    });
  });
}

interface BrokerProc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startSamsa(port: number, dir: string): BrokerProc {
  const child = spawn(
    process.execPath,
    [
      SAMSA,
      'start',
      '--dev',
      '--set',
      `listeners=PLAINTEXT://127.0.0.1:${port}`,
      '--set',
      `log.dirs=${dir}`,
      '--set',
      'num.partitions=3',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitReady(p: BrokerProc, port: number, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (p.child.exitCode !== null) throw new Error(`samsa exited with ${p.child.exitCode}:\n${p.output()}`);
    if (await probe(port)) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`samsa not ready after ${timeoutMs} ms:\n${p.output()}`);
}

/** Rejects with `what` (and the broker's recent output) when `p` takes longer than `ms`. */
async function bounded<T>(p: Promise<T>, ms: number, what: string, output: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no result after ${ms} ms\nbroker output:\n${output().slice(-4000)}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

test('SIGKILL under acks=all idempotent load: every acknowledged record is read back exactly once', {
  timeout: 120_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-restart-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  let broker = startSamsa(port, dir);
  t.after(async () => {
    broker.child.kill('SIGKILL');
    await broker.exited;
  });
  await waitReady(broker, port);
  const bootstrap = `127.0.0.1:${port}`;
  const topic = 'restart-under-load';
  const kafka = kafkajs(bootstrap, {
    requestTimeout: 3000,
    retry: { retries: 100, initialRetryTime: 100, maxRetryTime: 500 },
  });
  const admin = kafka.admin();
  await bounded(
    (async () => {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
      await admin.disconnect();
    })(),
    15_000,
    'creating the topic',
    () => broker.output(),
  );

  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  t.after(() => producer.disconnect());
  const acked: string[] = [];
  let stop = false;
  let sent = 0;
  let failure: unknown = null;
  const load = (async () => {
    for (let i = 0; !stop; i++) {
      const values = Array.from({ length: 20 }, (_, j) => `r-${i}-${j}`);
      sent += values.length;
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: values.map((value, j) => ({ key: `k${j % 5}`, value, partition: (i + j) % 3 })),
        });
      } catch (e) {
        // An idempotent kafkajs producer that gives up cannot safely continue (its
        // sequence bookkeeping may then hide records): stop, and fail below.
        failure = e;
        return;
      }
      acked.push(...values);
    }
  })();

  const kills = 4;
  const restartMs: number[] = [];
  for (let k = 0; k < kills; k++) {
    const before = acked.length;
    await new Promise((r) => setTimeout(r, 600 + 200 * k));
    assert.ok(acked.length > before, `producer made progress before kill ${k + 1} (failure: ${failure})`);
    broker.child.kill('SIGKILL');
    await broker.exited;
    broker = startSamsa(port, dir);
    restartMs.push(await waitReady(broker, port));
    if (process.env.SAMSA_TEST_DEBUG)
      console.error(`kill ${k + 1}: restarted in ${restartMs.at(-1)} ms, acked ${acked.length}`);
  }
  await new Promise((r) => setTimeout(r, 800));
  stop = true;
  await bounded(load, 30_000, `producer stuck after the last restart (acked ${acked.length})`, () =>
    broker.output(),
  );
  assert.equal(
    failure,
    null,
    `producer gave up: ${failure}\nbroker output:\n${broker.output().slice(-4000)}`,
  );
  t.diagnostic(
    `acked ${acked.length} of ${sent} sent across ${kills} SIGKILLs; restarts took ${restartMs.join(', ')} ms`,
  );

  const read: (string | null)[] = [];
  for (const partition of [0, 1, 2]) {
    const r = await bounded(
      kafkajsRead(bootstrap, topic, { partition, from: 'beginning', timeoutMs: 20_000 }),
      30_000,
      `reading back partition ${partition}`,
      () => broker.output(),
    );
    for (const rec of r.records) read.push(rec.value);
    assert.equal(
      r.records.length,
      r.highWatermark - Math.max(0, r.logStartOffset),
      `no gaps in partition ${partition}`,
    );
  }
  assertExactlyOnce(read, acked);
});

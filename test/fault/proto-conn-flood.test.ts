/**
 * PROTO-FrameLimits-and-ConnFlood (RELIABILITY.md F.23), the connection
 * flood at scale against a real `samsa start` process (the frame-limit cases
 * and a 2,000-connection in-process flood are in
 * test/hostile/broker-frames.test.ts):
 *  - 5,000 idle connections, 1,000 of which start a request and stall
 *    (a size prefix and 10 bytes of a 1,000-byte frame);
 *  - max.connections = 5,000 + CANARY_SLACK: connections past it are closed
 *    at once, within 1 s; a freed slot is reused;
 *  - broker RSS grows by less than 64 MiB for the flood;
 *  - a kafkajs canary (Metadata + acks=all Produce every 50 ms, connected
 *    before the flood) sees 0 errors, and with the flood held its p99 stays
 *    under 2x its baseline (+25 ms for scheduling noise); its p99 during the
 *    connect burst is reported.
 * The SASL half of the plan (1k half-finished SASL handshakes, > 512 KiB
 * before authentication) waits for the security issue: the broker has no
 * SASL listener yet.
 *
 * The test process holds the client ends, so it needs an fd limit above
 * 5,000 (`ulimit -n`); with a lower limit it floods with what the limit
 * allows and says so. SAMSA_FLOOD_CONNECTIONS changes the count.
 * Run: node --test test/fault/proto-conn-flood.test.ts (~15 s).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { test } from 'node:test';
import { kafkajs } from '../compat/helpers/kafkajs.ts';
import { FaultRun } from '../support/harness/fault-run.ts';
import { createTopic } from '../support/harness/raw-ops.ts';

const MiB = 1024 * 1024;
const WANTED = Number(process.env.SAMSA_FLOOD_CONNECTIONS ?? 5000);
const STALLED = 1000;
/** Connections the canary (kafkajs admin + producer) may hold beside the flood. */
const CANARY_SLACK = 10;
const EXTRA = 200;
const RSS_GROWTH_BOUND_MIB = 64;

function softFdLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function rssOf(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+)/m.exec(s)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

function fdsOf(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

class FloodConn {
  readonly sock = new Socket();
  openedAt = 0;
  closedAt = 0;
  constructor() {
    this.sock.on('error', () => {});
    this.sock.on('close', () => {
      this.closedAt = Date.now();
    });
  }
  static open(port: number): Promise<FloodConn> {
    const c = new FloodConn();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connect timed out')), 10_000);
      c.sock.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      c.sock.connect(port, '127.0.0.1', () => {
        clearTimeout(t);
        c.openedAt = Date.now();
        resolve(c);
      });
    });
  }
  get closed(): boolean {
    return this.closedAt !== 0;
  }
}

function p99(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('PROTO-ConnFlood: 5,000 idle connections against a samsa process, max.connections enforced, canary unharmed', {
  timeout: 180_000,
}, async (t) => {
  // Each flood connection is one fd here (the broker's ends are in the child).
  const limit = softFdLimit();
  const count = Math.min(WANTED, Number.isFinite(limit) ? limit - EXTRA - 300 : WANTED);
  if (count < WANTED) {
    t.diagnostic(
      `fd limit ${limit}: flooding with ${count} connections instead of ${WANTED} (raise ulimit -n)`,
    );
  }
  const max = count + CANARY_SLACK;
  const run = FaultRun.create(t, 'proto-conn-flood');
  const broker = await run.startSamsa('b0', { sets: { 'max.connections': max } });
  const pid = broker.pid!;
  const topic = 'flood-canary';
  await createTopic(broker.bootstrap, topic, 1);

  // The canary connects before the flood and keeps its connections.
  const kafka = kafkajs(broker.bootstrap, { requestTimeout: 10_000 });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await admin.connect();
  await producer.connect();
  const canary = { ok: 0, errors: [] as string[], phase: 'baseline', stop: false };
  const latencies: Record<string, number[]> = { baseline: [], connecting: [], held: [], extra: [] };
  const canaryLoop = (async () => {
    for (let i = 0; !canary.stop; i++) {
      const t0 = performance.now();
      try {
        await admin.fetchTopicMetadata({ topics: [topic] });
        await producer.send({ topic, acks: -1, messages: [{ value: `canary-${i}` }] });
        canary.ok++;
        latencies[canary.phase]!.push(performance.now() - t0);
      } catch (e) {
        canary.errors.push(`${canary.phase}: ${e}`);
      }
      await sleep(50);
    }
  })();
  run.defer(async () => {
    canary.stop = true;
    await canaryLoop;
    await admin.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
  });
  await sleep(1500);
  const rssBefore = rssOf(pid);
  const fdsBefore = fdsOf(pid);
  canary.phase = 'connecting';

  const conns: FloodConn[] = [];
  run.defer(() => {
    for (const c of conns) c.sock.destroy();
  });
  const t0 = Date.now();
  for (let i = 0; i < count; i += 250) {
    const n = Math.min(250, count - i);
    conns.push(...(await Promise.all(Array.from({ length: n }, () => FloodConn.open(broker.port)))));
  }
  const connectMs = Date.now() - t0;
  // 1,000 of them start a request and stall.
  const stall = Buffer.alloc(14);
  stall.writeInt32BE(1000, 0);
  for (const c of conns.slice(0, STALLED)) c.sock.write(stall);
  await sleep(1000);
  const rssFlood = rssOf(pid);
  const fdsFlood = fdsOf(pid);
  const closedEarly = conns.filter((c) => c.closed).length;
  // The broker may still be accepting what the kernel already connected: the
  // steady state starts after that second.
  canary.phase = 'held';
  await sleep(2000); // the canary runs on while 5,000 connections are held
  canary.phase = 'extra';

  // Past max.connections: the broker closes the extra connections at once.
  const extra: FloodConn[] = [];
  for (let i = 0; i < EXTRA; i++) {
    const c = await FloodConn.open(broker.port).catch(() => null);
    if (c) extra.push(c);
  }
  run.defer(() => {
    for (const c of extra) c.sock.destroy();
  });
  await sleep(1000);
  const refused = extra.filter((c) => c.closed);
  const slowestRefusal = Math.max(0, ...refused.map((c) => c.closedAt - c.openedAt));
  const keptExtra = extra.length - refused.length;

  // Freed slots are reused: drop 100 flood connections, and 100 new ones stay.
  for (const c of conns.slice(STALLED, STALLED + 100)) c.sock.destroy();
  await sleep(500);
  const again: FloodConn[] = [];
  for (let i = 0; i < 100; i++) again.push(await FloodConn.open(broker.port));
  run.defer(() => {
    for (const c of again) c.sock.destroy();
  });
  await sleep(500);
  const againKept = again.filter((c) => !c.closed).length;

  canary.stop = true;
  await canaryLoop;
  const stillOpen = conns.slice(0, STALLED).filter((c) => !c.closed).length;
  const grew = (rssFlood - rssBefore) / MiB;
  t.diagnostic(
    `${count} connections in ${connectMs} ms (${STALLED} with a stalled partial request); broker RSS ${(rssBefore / MiB).toFixed(0)} -> ${(rssFlood / MiB).toFixed(0)} MiB (+${grew.toFixed(1)} MiB, ${((rssFlood - rssBefore) / count / 1024).toFixed(1)} KiB per connection), fds ${fdsBefore} -> ${fdsFlood}`,
  );
  t.diagnostic(
    `max.connections ${max}: ${refused.length}/${EXTRA} extra connections closed by the broker (slowest ${slowestRefusal} ms), ${keptExtra} kept (canary slack); after freeing 100, ${againKept}/100 new ones kept`,
  );
  t.diagnostic(
    `canary: ${canary.ok} ok, ${canary.errors.length} errors; p99 ${Object.entries(latencies)
      .map(([k, v]) => `${k} ${p99(v).toFixed(1)} ms (${v.length})`)
      .join(', ')}`,
  );

  assert.equal(closedEarly, 0, 'flood connections within max.connections stay open');
  assert.equal(stillOpen, STALLED, 'stalled requests wait for connections.max.idle.ms');
  // The canary holds between 1 and CANARY_SLACK connections, so between
  // EXTRA - CANARY_SLACK and EXTRA - 1 extra ones must be refused.
  assert.ok(
    refused.length >= EXTRA - CANARY_SLACK + 1 && refused.length <= EXTRA,
    `${refused.length} of ${EXTRA} connections past max.connections refused`,
  );
  assert.ok(slowestRefusal < 1000, `refused within 1 s (slowest ${slowestRefusal} ms)`);
  assert.ok(againKept >= 100 - CANARY_SLACK, `freed slots reused (${againKept}/100)`);
  assert.ok(grew < RSS_GROWTH_BOUND_MIB, `broker RSS grew ${grew.toFixed(1)} MiB for ${count} connections`);
  assert.deepEqual(canary.errors, []);
  // The plan's "p99 under 2x baseline", for the steady state with the flood
  // held (the connect burst itself is reported, not bounded); 25 ms of
  // absolute slack because on a shared 2-core machine a p99 over a few dozen
  // samples is one unlucky scheduling delay.
  const base = p99(latencies.baseline!);
  const held = p99(latencies.held!);
  assert.ok(
    held < 2 * base + 25,
    `canary p99 ${held.toFixed(1)} ms with the flood held, baseline ${base.toFixed(1)} ms`,
  );
  assert.ok(
    latencies.held!.length > 0 && latencies.extra!.length > 0,
    'the canary made progress during the flood',
  );
  assert.ok(broker.alive);
});

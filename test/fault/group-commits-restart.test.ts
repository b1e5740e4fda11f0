/**
 * Committed offsets across broker crashes (issue 5, "a restart loses no
 * acknowledged commit"): a real `samsa start` child process with file
 * storage is SIGKILLed three times while clients commit offsets back to back
 * for 4 groups (one commit in flight per group). After each restart,
 * OffsetFetch returns for every group either its last acknowledged commit or
 * the one that was in flight when the broker died: never anything older.
 *
 * Run: node --test test/fault/group-commits-restart.test.ts (not in the
 * default `npm test`: it starts processes and takes ~15 s).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../helpers/raw-client.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SAMSA = join(ROOT, 'bin', 'samsa.js');
const GROUPS = 4;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function startSamsa(port: number, dir: string): { child: ChildProcess; output: () => string } {
  const child = spawn(
    process.execPath,
    [SAMSA, 'start', '--dev', '--set', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--set', `log.dirs=${dir}`],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  return { child, output: () => out };
}

async function connectWhenReady(
  port: number,
  p: { child: ChildProcess; output: () => string },
): Promise<RawClient> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    if (p.child.exitCode !== null) throw new Error(`samsa exited with ${p.child.exitCode}:\n${p.output()}`);
    try {
      const c = await RawClient.connect(`127.0.0.1:${port}`, 1000);
      c.timeoutMs = 3000;
      const r = await c.request(10, 3, { key: 'probe', keyType: 0 });
      if (r.errorCode === 0) return c;
      c.close();
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`samsa not ready:\n${p.output()}`);
}

const commitBody = (groupId: string, offset: bigint) => ({
  groupId,
  generationIdOrMemberEpoch: -1,
  memberId: '',
  groupInstanceId: null,
  topics: [
    {
      name: 't',
      partitions: [
        { partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null },
      ],
    },
  ],
});

test('SIGKILL while committing: after every restart OffsetFetch has each acknowledged commit', {
  timeout: 120_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-group-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  let broker = startSamsa(port, dir);
  t.after(() => broker.child.kill('SIGKILL'));
  let admin = await connectWhenReady(port, broker);
  const created = await admin.request(19, 4, {
    topics: [{ name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.equal(created.topics[0].errorCode, 0);

  const acked = new Array<bigint>(GROUPS).fill(-1n);
  const inFlight = new Array<bigint | null>(GROUPS).fill(null);
  for (let round = 0; round < 3; round++) {
    const clients = await Promise.all(
      Array.from({ length: GROUPS }, () => RawClient.connect(`127.0.0.1:${port}`)),
    );
    let running = true;
    const loops = clients.map(async (c, g) => {
      c.timeoutMs = 3000;
      while (running) {
        const next = acked[g]! + 1n;
        inFlight[g] = next;
        try {
          const r = await c.request(8, 8, commitBody(`g${g}`, next));
          if (r.topics[0].partitions[0].errorCode === 0) acked[g] = next;
        } catch {
          return; // the broker died under this request
        }
      }
    });
    await new Promise((r) => setTimeout(r, 700 + Math.random() * 800));
    broker.child.kill('SIGKILL');
    await new Promise((r) => broker.child.once('exit', r));
    running = false;
    await Promise.all(loops);
    for (const c of clients) c.close();
    admin.close();

    broker = startSamsa(port, dir);
    admin = await connectWhenReady(port, broker);
    for (let g = 0; g < GROUPS; g++) {
      const r = await admin.request(9, 7, {
        groupId: `g${g}`,
        topics: [{ name: 't', partitionIndexes: [0] }],
        requireStable: false,
      });
      const got = r.topics[0].partitions[0].committedOffset as bigint;
      assert.ok(
        got === acked[g] || got === inFlight[g],
        `round ${round}, group g${g}: committed ${got}, last acknowledged ${acked[g]}, in flight ${inFlight[g]}`,
      );
      acked[g] = got;
      inFlight[g] = null;
    }
    assert.ok(
      acked.every((a) => a > 0n),
      `no commits acknowledged in round ${round}: ${acked}`,
    );
  }
  admin.close();
});

/**
 * Crash tests with real processes (RELIABILITY.md section E): a child
 * appends deterministic batches and is SIGKILLed mid-append, again and
 * again; between runs the test sometimes damages the files as a torn write
 * or bad disk would. After every restart the log must be exactly a prefix
 * of the generated sequence, end at the last valid batch, and hold every
 * acknowledged batch that the damage did not destroy.
 *
 * SAMSA_STORAGE_LONG=1 runs 40 kill rounds per mode instead of 6.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FileLogEngine } from '../../../src/storage/file/engine.ts';
import { tempDir } from '../../unit/storage/helpers.ts';
import { genBatch, seqOf, TOPIC } from './workload.ts';

const CHILD = fileURLToPath(new URL('./writer-child.ts', import.meta.url));
const ROUNDS = process.env.SAMSA_STORAGE_LONG ? 40 : 6;
const SEGMENT_BYTES = 64 * 1024;

interface RunResult {
  acked: Map<number, number>; // seq -> base offset
}

/** Starts the writer, waits for `acks` acknowledgements (bounded), then SIGKILLs it. */
async function runAndKill(dir: string, fsync: boolean, acks: number): Promise<RunResult> {
  const child: ChildProcess = spawn(
    process.execPath,
    [CHILD, dir, fsync ? '1' : '0', String(SEGMENT_BYTES)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const acked = new Map<number, number>();
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`writer too slow; stderr: ${stderr}`)), 30_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`writer exited early (${code}): ${stderr}`));
      });
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = /^ack (\d+) (\d+)$/.exec(line);
          if (m) acked.set(Number(m[1]), Number(m[2]));
          if (acked.size >= acks) {
            clearTimeout(timer);
            resolve();
            return;
          }
          nl = buf.indexOf('\n');
        }
      });
    });
  } finally {
    child.kill('SIGKILL');
    await new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) r();
      else child.once('exit', () => r());
    });
  }
  return { acked };
}

/** Reads the whole log and checks it is genBatch(0..n-1) with consecutive offsets. Returns n. */
async function verify(dir: string): Promise<{ n: number; leo: number }> {
  const engine = await FileLogEngine.open({ dirs: [dir], background: false });
  try {
    const log = await engine.openLog(TOPIC, 0);
    let off = 0;
    let seq = 0;
    for (let guard = 0; guard < 1_000_000 && off < log.logEndOffset; guard++) {
      const r = await log.read(off, 1 << 20);
      assert.ok(r.batches.length > 0, `no batch at ${off} < LEO ${log.logEndOffset}`);
      for (const b of r.batches) {
        const want = genBatch(seq);
        assert.equal(Number(b.readBigInt64BE(0)), off, `batch ${seq} at offset ${off}`);
        assert.equal(seqOf(b), seq);
        assert.ok(b.subarray(8).equals(want.subarray(8)), `batch ${seq} bytes differ`);
        off += want.readInt32BE(23) + 1;
        seq++;
      }
    }
    assert.equal(off, log.logEndOffset, 'log end is the end of the last valid batch');
    return { n: seq, leo: log.logEndOffset };
  } finally {
    await engine.close();
  }
}

function partitionDir(dir: string): string {
  return join(dir, `${TOPIC}-0`);
}

function segments(dir: string): string[] {
  return readdirSync(partitionDir(dir))
    .filter((f) => f.endsWith('.log'))
    .sort();
}

/** Applies damage; returns the first seq that may be lost because of it (Infinity: none). */
function damage(dir: string, kind: number, rand: () => number): number {
  const pdir = partitionDir(dir);
  const segs = segments(dir);
  const active = join(pdir, segs[segs.length - 1]!);
  const batchesIn = (path: string) => {
    const buf = readFileSync(path);
    const out: { pos: number; size: number; seq: number }[] = [];
    for (let p = 0; p + 61 <= buf.length; ) {
      const size = buf.readInt32BE(p + 8) + 12;
      if (size < 61 || p + size > buf.length) break;
      out.push({ pos: p, size, seq: buf.readInt32BE(p + 53) });
      p += size;
    }
    return out;
  };
  switch (kind) {
    case 0: {
      // truncate the active segment at a random byte inside its last batch
      const bs = batchesIn(active);
      const last = bs[bs.length - 1];
      if (!last) return Number.POSITIVE_INFINITY;
      truncateSync(active, last.pos + 1 + Math.floor(rand() * (last.size - 1)));
      return last.seq;
    }
    case 1: {
      // append 0-4 KiB of garbage
      const fd = openSync(active, 'a');
      writeSync(
        fd,
        Buffer.from(Array.from({ length: Math.floor(rand() * 4096) }, () => Math.floor(rand() * 256))),
      );
      closeSync(fd);
      return Number.POSITIVE_INFINITY;
    }
    case 2: {
      // delete or zero the indexes, corrupt the recovery-point and leader-epoch checkpoints
      for (const f of readdirSync(pdir)) {
        const p = join(pdir, f);
        if (f.endsWith('.index')) unlinkSync(p);
        if (f.endsWith('.timeindex')) writeFileSync(p, Buffer.alloc(statSync(p).size));
      }
      writeFileSync(join(dir, 'recovery-point-offset-checkpoint'), '0\n1\ncrash 0 notanumber\n');
      writeFileSync(join(pdir, 'leader-epoch-checkpoint'), '\u0000\u0000\u0000');
      return Number.POSITIVE_INFINITY;
    }
    case 3: {
      // flip a byte inside a record of a closed segment; recovery point before it
      if (segs.length < 2) return Number.POSITIVE_INFINITY;
      const victim = join(pdir, segs[Math.floor(rand() * (segs.length - 1))]!);
      const bs = batchesIn(victim);
      const b = bs[Math.floor(rand() * bs.length)]!;
      const buf = readFileSync(victim);
      buf[b.pos + 61 + Math.floor(rand() * (b.size - 61))] ^= 0x5a;
      writeFileSync(victim, buf);
      writeFileSync(join(dir, 'recovery-point-offset-checkpoint'), '0\n1\ncrash 0 0\n');
      return b.seq;
    }
    default:
      return Number.POSITIVE_INFINITY;
  }
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const fsync of [false, true]) {
  describe(`crash recovery with real processes (${fsync ? 'fsync before ack' : 'page cache'})`, () => {
    it(`survives ${ROUNDS} SIGKILLs mid-append with torn tails, garbage, lost indexes, corrupt checkpoints and flipped bytes`, async () => {
      const t = tempDir('samsa-crash-');
      const seed = Number(process.env.SAMSA_SEED ?? Date.now() % 100000);
      const rand = mulberry32(seed);
      try {
        let lost = Number.POSITIVE_INFINITY;
        for (let round = 0; round < ROUNDS; round++) {
          const { acked } = await runAndKill(t.path, fsync, 50 + Math.floor(rand() * 300));
          const kind = round === 0 ? -1 : Math.floor(rand() * 5);
          lost = Math.min(lost, damage(t.path, kind, rand));
          const { n } = await verify(t.path);
          for (const seq of acked.keys()) {
            if (seq < lost)
              assert.ok(
                seq < n,
                `seed ${seed} round ${round}: acknowledged batch ${seq} lost (log has ${n})`,
              );
          }
          if (lost !== Number.POSITIVE_INFINITY) {
            assert.equal(n, lost, `seed ${seed} round ${round}: the log ends right before the damaged batch`);
          }
          lost = Number.POSITIVE_INFINITY; // the next writer continues from what survived
        }
      } finally {
        t.cleanup();
      }
    });
  });
}

/**
 * Start-up and footprint: cold start to the first answered ApiVersions, as a
 * separate process (`samsa start`) and in-process (`startBroker()`); idle RSS;
 * a topic with 1,000 partitions. Baselines, measured in the same run: a
 * trivial Node TCP server started the same way (process) or in-process.
 * Process figures are reported with and without NODE_EXTRA_CA_CERTS, which
 * this machine's environment sets and which costs every Node start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRequestFrame } from '../src/protocol/frames.ts';
import { startBroker } from '../src/testing/index.ts';
import { fmt } from './util.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nodeBin = process.execPath;

const apiVersionsFrame = (() => {
  const f = encodeRequestFrame(
    { requestApiKey: 18, requestApiVersion: 3, correlationId: 1, clientId: 'bench' },
    {
      clientSoftwareName: 'bench',
      clientSoftwareVersion: '1',
    },
  );
  const b = Buffer.alloc(4 + f.length);
  b.writeInt32BE(f.length, 0);
  f.copy(b, 4);
  return b;
})();

/** Tries to get one response frame from host:port; resolves true when a full answer arrives. */
function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), 500);
    s.on('connect', () => s.write(apiVersionsFrame));
    s.on('data', (c) => {
      got = Buffer.concat([got, c]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
        clearTimeout(t);
        done(true);
      }
    });
    s.on('error', () => {
      clearTimeout(t);
      done(false);
    });
  });
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Spawns a process and measures ms until the port answers a Kafka frame; returns ms and RSS (KiB) once ready. */
async function coldStart(
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<{ ms: number; rssKiB: number }> {
  const t0 = performance.now();
  const child = spawn(nodeBin, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const deadline = t0 + 20_000;
    while (performance.now() < deadline) {
      if (await probe(port)) {
        const ms = performance.now() - t0;
        await new Promise((r) => setTimeout(r, 300));
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        return { ms, rssKiB };
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`process did not answer on ${port} within 20 s`);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

const TRIVIAL_SERVER = `
const net = require('node:net');
const reply = Buffer.from([0,0,0,4,0,0,0,1]);
net.createServer((s) => s.on('data', () => s.write(reply))).listen(Number(process.argv[1]), '127.0.0.1');
`;

export async function run(): Promise<void> {
  const withCa = { ...process.env };
  const withoutCa = { ...process.env };
  delete withoutCa.NODE_EXTRA_CA_CERTS;
  for (let [label, env] of [
    ['with NODE_EXTRA_CA_CERTS', withCa],
    ['without NODE_EXTRA_CA_CERTS', withoutCa],
  ] as const) {
    if (label.startsWith('with ') && !process.env.NODE_EXTRA_CA_CERTS) continue;
    const samples: { ms: number; rssKiB: number }[] = [];
    const base: { ms: number; rssKiB: number }[] = [];
    // First start with an empty compile cache (a fresh machine), then warm starts.
    const cacheDir = mkdtempSync(join(tmpdir(), 'samsa-bench-cache-'));
    env = { ...env, NODE_COMPILE_CACHE: cacheDir };
    {
      const p = await freePort();
      const cold = await coldStart(
        [
          join(root, 'bin', 'samsa.js'),
          'start',
          '--storage',
          'memory',
          '--set',
          `listeners=PLAINTEXT://127.0.0.1:${p}`,
        ],
        { ...env, SAMSA_LOG_LEVEL: 'warn' },
        p,
      );
      console.log(`process first start, empty compile cache (${label}): samsa ${fmt(cold.ms, 0)} ms`);
    }
    for (let i = 0; i < 3; i++) {
      const p1 = await freePort();
      base.push(await coldStart(['-e', TRIVIAL_SERVER, String(p1)], env, p1));
      const p2 = await freePort();
      samples.push(
        await coldStart(
          [
            join(root, 'bin', 'samsa.js'),
            'start',
            '--storage',
            'memory',
            '--set',
            `listeners=PLAINTEXT://127.0.0.1:${p2}`,
          ],
          { ...env, SAMSA_LOG_LEVEL: 'warn' },
          p2,
        ),
      );
    }
    rmSync(cacheDir, { recursive: true, force: true });
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const s = med(samples.map((x) => x.ms));
    const b = med(base.map((x) => x.ms));
    const rs = med(samples.map((x) => x.rssKiB));
    const rb = med(base.map((x) => x.rssKiB));
    console.log(
      `process start to first ApiVersions, warm compile cache (${label}): samsa ${fmt(s, 0)} ms, trivial node server ${fmt(b, 0)} ms, ratio ${fmt(s / b, 2)}`,
    );
    console.log(
      `idle RSS (${label}): samsa ${fmt(rs / 1024, 1)} MiB, trivial node server ${fmt(rb / 1024, 1)} MiB, ratio ${fmt(rs / rb, 2)}`,
    );
  }

  // In-process: startBroker() until it answers, vs a trivial in-process server.
  const inproc: number[] = [];
  const trivial: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t0 = performance.now();
    const b = await startBroker();
    await probe(b.port);
    inproc.push(performance.now() - t0);
    await b.stop();
    t0 = performance.now();
    const srv = createServer((s) => s.on('data', () => s.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 1]))));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    await probe((srv.address() as { port: number }).port);
    trivial.push(performance.now() - t0);
    await new Promise<void>((r) => srv.close(() => r()));
  }
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `in-process startBroker() to first ApiVersions: ${fmt(med(inproc), 2)} ms, trivial in-process server ${fmt(med(trivial), 2)} ms, ratio ${fmt(med(inproc) / med(trivial), 2)}`,
  );

  // 1,000 partitions on one broker (memory storage): create time and heap growth.
  const b = await startBroker({ config: { 'num.partitions': 1 } });
  try {
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    await b.broker.topics.create({ name: 'wide', numPartitions: 1000, replicationFactor: 1 });
    const ms = performance.now() - t0;
    const t1 = performance.now();
    await b.broker.topics.create({ name: 'one', numPartitions: 1, replicationFactor: 1 });
    const oneMs = performance.now() - t1;
    console.log(
      `create a 1,000-partition topic (memory storage): ${fmt(ms, 1)} ms (a 1-partition topic: ${fmt(oneMs, 2)} ms, per-partition ratio ${fmt(ms / 1000 / oneMs, 2)}), heap +${fmt((process.memoryUsage().heapUsed - heap0) / 1048576, 1)} MiB`,
    );
  } finally {
    await b.stop();
  }
}

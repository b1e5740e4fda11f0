/**
 * Golden-bytes capture driver.
 *
 *   npx node scripts/capture/capture.ts [--clients kcat,kafkajs,...] [--keep DIR]
 *
 * For each client: builds and starts librdkafka's mock cluster (mock-cluster.c),
 * records loopback traffic to its port with tcpdump, runs the client's scenario
 * (scripts/capture/clients/*), then reassembles the TCP streams from the pcap,
 * splits them into Kafka frames and writes test/golden/captures/<client>/.
 * Needs root (tcpdump) and scripts/install-debian-clients.sh.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractPairs, loadApiSpecs, writeFrames } from './frames.ts';
import { readPcap, reassemble } from './pcap.ts';
import { verifyCaptures } from './verify.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const capturesDir = join(repo, 'test/golden/captures');
const nodeBin = process.execPath;
const PY = '/usr/bin/python3';
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

interface ClientDef {
  /** Command line of the scenario; it gets BOOTSTRAP and GROUP as its last two arguments. */
  cmd: string[];
  /** Human-readable versions of the client software. */
  versions: () => Record<string, string>;
  timeoutMs: number;
  transactionalId?: string;
  /** What the client puts in ApiVersions v3+ ClientSoftwareName, if it sends v3+. */
  clientSoftwareName?: string;
  /**
   * Broker to run against: librdkafka's mock, or the spec-driven stub for clients the mock
   * cannot serve. Responses from the stub are ours, not Kafka's, and are not stored.
   */
  broker?: 'mock' | 'stub';
  /** Codecs the client's scenario produces with (topic golden-<codec>). */
  codecs: readonly string[];
}

function pkgVersion(name: string): string {
  const pj = JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string;
  };
  return pj.version;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]})`;
  }
}

const clients: Record<string, ClientDef> = {
  kcat: {
    cmd: ['bash', join(here, 'clients/kcat.sh')],
    versions: () => ({
      kcat: sh('kcat', ['-V'])
        .split('\n')
        .find((l) => l.startsWith('Version'))!
        .trim(),
    }),
    timeoutMs: 180_000,
    transactionalId: 'golden-kcat-txn',
    clientSoftwareName: 'librdkafka',
    codecs: CODECS,
  },
  'confluent-kafka-python': {
    cmd: [PY, join(here, 'clients/confluent_client.py')],
    versions: () => ({
      'confluent-kafka-python': sh(PY, [
        '-c',
        'import confluent_kafka as c; print(c.version()[0], "librdkafka", c.libversion()[0])',
      ]).trim(),
    }),
    timeoutMs: 180_000,
    transactionalId: 'golden-confluent-txn',
    clientSoftwareName: 'confluent-kafka-python',
    codecs: CODECS,
  },
  'kafka-python': {
    cmd: [PY, join(here, 'clients/kafka_python_client.py')],
    versions: () => ({ 'kafka-python': sh(PY, ['-c', 'import kafka; print(kafka.__version__)']).trim() }),
    timeoutMs: 180_000,
    codecs: CODECS,
  },
  kafkajs: {
    cmd: [nodeBin, join(here, 'clients/kafkajs.ts')],
    versions: () => ({ kafkajs: pkgVersion('kafkajs'), node: process.version }),
    timeoutMs: 180_000,
    transactionalId: 'golden-kafkajs-txn',
    codecs: CODECS,
  },
  platformatic: {
    cmd: [nodeBin, join(here, 'clients/platformatic.ts')],
    versions: () => ({ '@platformatic/kafka': pkgVersion('@platformatic/kafka'), node: process.version }),
    timeoutMs: 180_000,
    broker: 'stub',
    clientSoftwareName: 'platformatic-kafka',
    codecs: CODECS,
  },
};

// ---- child processes: every one is tracked, bounded, and stopped on exit ----

const live = new Set<ChildProcess>();
function killGroup(cp: ChildProcess, sig: NodeJS.Signals): void {
  if (cp.pid === undefined || cp.exitCode !== null || cp.signalCode !== null) return;
  try {
    process.kill(-cp.pid, sig);
  } catch {
    try {
      cp.kill(sig);
    } catch {}
  }
}
process.on('exit', () => {
  for (const cp of live) killGroup(cp, 'SIGKILL');
});
for (const s of ['SIGINT', 'SIGTERM'] as const) {
  process.on(s, () => {
    for (const cp of live) killGroup(cp, 'SIGTERM');
    process.exit(130);
  });
}

function start(cmd: string, args: string[], opts: { stdin?: 'pipe' | 'ignore' } = {}): ChildProcess {
  const cp = spawn(cmd, args, { detached: true, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  live.add(cp);
  cp.on('exit', () => live.delete(cp));
  return cp;
}

function waitExit(cp: ChildProcess, ms: number): Promise<number | null> {
  if (cp.exitCode !== null || cp.signalCode !== null) return Promise.resolve(cp.exitCode);
  return new Promise((res) => {
    const t = setTimeout(() => res(null), ms);
    // 'close' comes after 'exit' once stdout/stderr are drained (tcpdump's drop count is in stderr).
    cp.once('close', (code) => {
      clearTimeout(t);
      res(code);
    });
  });
}

async function stop(cp: ChildProcess, sig: NodeJS.Signals, graceMs: number): Promise<void> {
  killGroup(cp, sig);
  if ((await waitExit(cp, graceMs)) === null && cp.exitCode === null) {
    killGroup(cp, 'SIGKILL');
    await waitExit(cp, 2_000);
  }
}

function collect(cp: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  cp.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  cp.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { out: () => out, err: () => err };
}

function waitFor(cp: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp, ms: number): Promise<string> {
  return new Promise((res, rej) => {
    let buf = '';
    const t = setTimeout(
      () => rej(new Error(`timed out waiting for ${re} (got ${JSON.stringify(buf)})`)),
      ms,
    );
    const on = (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(t);
        cp[stream]?.off('data', on);
        res(m[0]);
      }
    };
    cp[stream]?.on('data', on);
    cp.once('exit', () => {
      clearTimeout(t);
      rej(new Error(`process exited while waiting for ${re}: ${buf}`));
    });
  });
}

// ---- one client ----

async function captureClient(name: string, def: ClientDef, mockBin: string, tmp: string): Promise<void> {
  const topics = def.codecs.map((c) => `golden-${c}`);
  const group = `golden-group-${name}`;
  const mock =
    def.broker === 'stub'
      ? start(
          nodeBin,
          [join(here, 'stub/stub-broker.ts'), findMessagesDir(), '--max-seconds', '600', ...topics],
          {
            stdin: 'pipe',
          },
        )
      : start(mockBin, ['--max-seconds', '600', ...topics], { stdin: 'pipe' });
  const mockErr = collect(mock);
  let tcpdump: ChildProcess | undefined;
  let ports = new Set<number>();
  const pcapFile = join(tmp, `${name}.pcap`);
  try {
    const bootstrap = (await waitFor(mock, 'stdout', /^[^\n]+\n/, 10_000)).trim();
    ports = new Set(bootstrap.split(',').map((hp) => Number(hp.split(':').pop())));
    console.log(`[${name}] ${def.broker ?? 'mock'} broker at ${bootstrap}`);
    const filter = [...ports].map((p) => `tcp port ${p}`).join(' or ');
    // A large kernel buffer (-B, KiB): with --immediate-mode a burst can otherwise overflow it.
    const tdArgs = ['-i', 'lo', '--immediate-mode', '-U', '-n', '-s', '0', '-B', '65536'];
    tcpdump = start('tcpdump', [...tdArgs, '-w', pcapFile, filter]);
    const tdErr = collect(tcpdump);
    await waitFor(tcpdump, 'stderr', /listening on/, 10_000);

    const client = start(def.cmd[0]!, [...def.cmd.slice(1), bootstrap, group]);
    const cOut = collect(client);
    const code = await waitExit(client, def.timeoutMs);
    if (code === null && client.exitCode === null) {
      console.warn(`[${name}] scenario timed out after ${def.timeoutMs} ms; stopping it`);
      await stop(client, 'SIGTERM', 5_000);
    }
    const tail = (s: string) => s.trim().split('\n').slice(-15).join('\n');
    if (cOut.out().trim()) console.log(`[${name}] stdout:\n${tail(cOut.out())}`);
    if (cOut.err().trim()) console.log(`[${name}] stderr:\n${tail(cOut.err())}`);
    console.log(`[${name}] scenario exit code ${client.exitCode ?? client.signalCode}`);

    // tcpdump runs with --immediate-mode (no TPACKET_V3 block timeout), so a short pause is enough.
    await new Promise((r) => setTimeout(r, 1_000));
    await stop(tcpdump, 'SIGINT', 5_000);
    const dropped = /(\d+) packets dropped by kernel/.exec(tdErr.err());
    if (!dropped) console.warn(`[${name}] tcpdump did not report its drop count`);
    if (dropped && dropped[1] !== '0') throw new Error(`[${name}] tcpdump dropped ${dropped[1]} packets`);
  } finally {
    if (tcpdump) await stop(tcpdump, 'SIGINT', 5_000);
    mock.stdin?.end();
    await stop(mock, 'SIGTERM', 5_000);
    if (mockErr.err().trim()) console.log(`[${name}] mock stderr: ${mockErr.err().trim().slice(0, 2000)}`);
  }
  if (!existsSync(pcapFile)) throw new Error(`[${name}] no pcap written`);

  const specs = loadApiSpecs(findMessagesDir());
  const streams = reassemble(readPcap(readFileSync(pcapFile)));
  const { pairs, warnings } = extractPairs(streams, ports, specs);
  for (const w of warnings) console.warn(`[${name}] warning: ${w}`);
  if (warnings.some((w) => w.includes('TCP gap'))) throw new Error(`[${name}] incomplete TCP streams`);
  if (pairs.length === 0) throw new Error(`[${name}] no Kafka requests captured; keeping the old captures`);
  const dir = join(capturesDir, name);
  if (def.broker === 'stub') for (const p of pairs) delete p.response;
  const frames = writeFrames(dir, pairs, specs);
  const index = {
    client: name,
    versions: def.versions(),
    scenario: {
      topics: Object.fromEntries(def.codecs.map((c) => [`golden-${c}`, c])),
      groupId: group,
      transactionalId: def.transactionalId ?? null,
      broker: def.broker === 'stub' ? 'stub (requests only)' : 'librdkafka mock cluster',
      clientSoftwareName: def.clientSoftwareName ?? null,
    },
    frames,
  };
  writeFileSync(join(dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  const summary = new Map<string, number>();
  for (const f of frames) {
    if (f.direction !== 'request') continue;
    const k = `${f.apiName} v${f.apiVersion}`;
    summary.set(k, (summary.get(k) ?? 0) + 1);
  }
  console.log(
    `[${name}] ${pairs.length} requests captured, ${frames.length} files written: ${[...summary]
      .map(([k, v]) => `${k}×${v}`)
      .join(', ')}`,
  );
}

function findMessagesDir(): string {
  for (const d of [join(repo, '../shared/kafka-protocol/messages'), '/work/shared/kafka-protocol/messages']) {
    if (existsSync(d)) return d;
  }
  throw new Error('Kafka JSON specs not found at ../shared/kafka-protocol/messages');
}

/** A capture with lost packets is redone (up to 3 tries); the old captures stay until one succeeds. */
async function withRetries(name: string, f: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      if (attempt >= 3) throw e;
      console.warn(`[${name}] attempt ${attempt} failed (${(e as Error).message}); retrying`);
    }
  }
}

function buildMock(tmp: string): string {
  const out = join(tmp, 'mock-cluster');
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'rdkafka'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  execFileSync('gcc', ['-O1', '-Wall', '-o', out, join(here, 'mock-cluster.c'), ...flags], {
    stdio: 'inherit',
    timeout: 120_000,
  });
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let only = Object.keys(clients);
  let keep: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--clients') only = args[++i]!.split(',');
    else if (args[i] === '--keep') keep = args[++i];
    else throw new Error(`unknown argument ${args[i]}`);
  }
  for (const c of only) if (!clients[c]) throw new Error(`unknown client ${c}`);
  const tmp = mkdtempSync(join(tmpdir(), 'samsa-capture-'));
  try {
    const mockBin = buildMock(tmp);
    let failed = 0;
    for (const name of only) {
      try {
        await withRetries(name, () => captureClient(name, clients[name]!, mockBin, tmp));
      } catch (e) {
        failed++;
        console.error(`[${name}] capture failed: ${(e as Error).stack}`);
      }
    }
    if (keep) execFileSync('cp', ['-r', `${tmp}/.`, keep]);
    const { ok, bad } = verifyCaptures(capturesDir, findMessagesDir());
    for (const b of bad) console.error(`verify: BAD ${b}`);
    console.log(`verify: ${ok} frames round-trip through the spec interpreter, ${bad.length} do not`);
    if (bad.length) failed++;
    if (failed) process.exitCode = 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();

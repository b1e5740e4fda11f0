/**
 * A `samsa start` child process for fault tests: file storage in a data dir,
 * a fixed loopback port (kept across restarts so clients reconnect), all
 * output appended to a log file that survives the run when it fails.
 *
 *   const b = await SamsaProcess.start({ dataDir, logFile, sets: { 'num.partitions': 3 } });
 *   await b.kill();            // SIGKILL, waits for the exit
 *   await b.restart();         // same port, same data
 *   await b.stop();            // SIGTERM (clean shutdown), SIGKILL after a bound
 *
 * Every wait is bounded; kill()/stop() are safe to call on a dead process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResponseFrame, encodeRequestFrame } from '../../../src/protocol/index.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SAMSA = join(ROOT, 'bin', 'samsa.js');

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** One ApiVersions v0 round trip: true when the broker answers it. */
export function probe(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        try {
          done(decodeResponseFrame(18, 0, buf.subarray(4, 4 + buf.readInt32BE(0))).body.errorCode === 0);
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

export interface SamsaProcessOptions {
  /** log.dirs (created by the broker). */
  dataDir: string;
  /** Where stdout/stderr are appended (across restarts). */
  logFile: string;
  port?: number;
  /** Extra `--set key=value` configs. */
  sets?: Record<string, string | number | boolean>;
  /** Pass --dev (default true: no initial rebalance delay, RF 1 internal topics). */
  dev?: boolean;
  /** Bound on waiting for the broker to answer (default 20 s). */
  readyTimeoutMs?: number;
  /** Extra environment, e.g. NODE_OPTIONS=--max-old-space-size=256. */
  env?: Record<string, string>;
}

export class SamsaProcess {
  readonly port: number;
  readonly opts: SamsaProcessOptions;
  child!: ChildProcess;
  private exited!: Promise<void>;
  private tail = '';
  /** How many times this broker was started. */
  starts = 0;

  private constructor(opts: SamsaProcessOptions, port: number) {
    this.opts = opts;
    this.port = port;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  static async start(opts: SamsaProcessOptions): Promise<SamsaProcess> {
    const p = new SamsaProcess(opts, opts.port ?? (await freePort()));
    await p.launch();
    return p;
  }

  /** Recent output (last 20 kB), for error messages. */
  output(): string {
    return this.tail;
  }

  private launch(): Promise<number> {
    const sets = {
      listeners: `PLAINTEXT://127.0.0.1:${this.port}`,
      'log.dirs': this.opts.dataDir,
      ...this.opts.sets,
    };
    const args = [SAMSA, 'start', ...(this.opts.dev === false ? [] : ['--dev'])];
    for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${v}`);
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KAFKA_'))),
      ...this.opts.env,
    };
    this.starts++;
    appendFileSync(
      this.opts.logFile,
      `\n==== start #${this.starts} ${new Date().toISOString()}: ${args.slice(1).join(' ')}\n`,
    );
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const onData = (d: Buffer) => {
      appendFileSync(this.opts.logFile, d);
      this.tail = (this.tail + d.toString()).slice(-20_000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((r) => child.once('exit', () => r()));
    return this.waitReady();
  }

  /** Waits until the broker answers ApiVersions; returns the milliseconds it took. */
  async waitReady(timeoutMs = this.opts.readyTimeoutMs ?? 20_000): Promise<number> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if (!this.alive)
        throw new Error(
          `samsa exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.tail.slice(-4000)}`,
        );
      if (await probe(this.port)) return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`samsa not ready after ${timeoutMs} ms:\n${this.tail.slice(-4000)}`);
  }

  private async waitExit(ms: number): Promise<boolean> {
    if (!this.child || !this.alive) return true;
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((res) => {
        timer = setTimeout(() => res(false), ms);
      }),
    ]);
    clearTimeout(timer);
    return r;
  }

  /** Sends `signal` (default SIGKILL) and waits for the exit (bounded). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    if (!(await this.waitExit(10_000))) {
      this.child.kill('SIGKILL');
      await this.waitExit(10_000);
    }
  }

  /** Clean shutdown (SIGTERM), falling back to SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    if (!(await this.waitExit(graceMs))) await this.kill('SIGKILL');
  }

  /** Starts again on the same port and data dir (killing first if still alive); returns ms to ready. */
  async restart(): Promise<number> {
    await this.kill();
    return this.launch();
  }

  /** Starts again only if not running (after kill()); returns ms to ready. */
  async start(): Promise<number> {
    if (this.alive) return 0;
    return this.launch();
  }
}

/**
 * The Debian-packaged clients (kcat, confluent-kafka-python, kafka-python)
 * and how to run them from node:test. They are installed by
 * scripts/install-debian-clients.sh; a missing one fails the suite with a
 * message saying so, rather than skipping silently.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's interpreter, which sees the python3-* packages. */
export const PYTHON = '/usr/bin/python3';
export const PY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'python');

const INSTALL_HINT =
  'run `bash scripts/install-debian-clients.sh` (installs kcat, python3-confluent-kafka, python3-kafka and codecs)';

/** Throws a helpful error when kcat is not installed. */
export function requireKcat(): void {
  const r = spawnSync('kcat', ['-V'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) throw new Error(`kcat is not installed: ${INSTALL_HINT}`);
}

/** Throws a helpful error when /usr/bin/python3 cannot import `module`. */
export function requirePythonModule(module: string): void {
  const r = spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) {
    throw new Error(
      `${PYTHON} cannot import ${module}: ${INSTALL_HINT}\n${r.error?.message ?? r.stderr ?? ''}`,
    );
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Runs a command to completion (killed after timeoutMs) and collects its output. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Like `run`, but a non-zero exit (or a kill) is an error that carries stderr. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}${r.signal === 'SIGKILL' ? ' (timed out)' : ''}\nstderr: ${r.stderr.slice(-4000)}`,
    );
  }
  return r.stdout;
}

/** `kcat -b <bootstrap> -X log_level=3 ...args` (a bounded run). */
export function kcat(bootstrap: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return runOk(
    'kcat',
    ['-b', bootstrap, '-X', 'client.id=samsa-compat-kcat', '-X', 'log_level=3', ...args],
    opts,
  );
}

/**
 * Runs test/compat/python/<script> with one JSON argument and parses the JSON
 * object it prints last on stdout. The scripts print `{"error": ...}` and exit 1 on failure.
 */
// biome-ignore lint/suspicious/noExplicitAny: results are JSON shaped by each script
export async function py<T = any>(script: string, arg: object, opts: RunOptions = {}): Promise<T> {
  const r = await run(PYTHON, [join(PY_DIR, script), JSON.stringify(arg)], {
    timeoutMs: 60_000,
    ...opts,
    env: { PYTHONUNBUFFERED: '1', ...opts.env },
  });
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  const last = lines.at(-1);
  let parsed: { error?: string } | undefined;
  try {
    parsed = last ? JSON.parse(last) : undefined;
  } catch {
    parsed = undefined;
  }
  if (r.code !== 0 || parsed === undefined || parsed?.error) {
    throw new Error(
      `${script} ${JSON.stringify(arg).slice(0, 300)} failed (exit ${r.code ?? r.signal}${r.signal === 'SIGKILL' ? ', timed out' : ''}): ${parsed?.error ?? ''}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-4000)}`,
    );
  }
  return parsed as unknown as T;
}

/**
 * Starts a python script that keeps running (e.g. a producer the test
 * restarts the broker under); stdout lines are handed to `onLine`.
 */
export function spawnPy(
  script: string,
  arg: object,
  onLine: (line: string) => void,
): { child: ChildProcess; done: Promise<RunResult> } {
  const child = spawn(PYTHON, [join(PY_DIR, script), JSON.stringify(arg)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let buf = '';
  const out: string[] = [];
  const err: Buffer[] = [];
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    out.push(d);
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line) onLine(line);
      i = buf.indexOf('\n');
    }
  });
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: out.join(''), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
  return { child, done };
}

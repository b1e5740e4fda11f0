/**
 * Runs python/queue_client.py (confluent-kafka-python, i.e. librdkafka) as a
 * child process and records its events into the run's history. The child's
 * events are stamped with the parent's monotonic clock on arrival.
 *
 *   const p = startPythonClient(run, { role: 'produce', bootstrap, topic, partitions: [0, 1, 2], pid: 1 });
 *   ...
 *   const summary = await p.stop();      // "stop" on stdin, then the child's final status (bounded)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Op } from '../checker/history.ts';
import type { FaultRun } from './fault-run.ts';

export const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'python', 'queue_client.py');

/** A skip reason when confluent-kafka-python is missing, else false. */
export function pythonClientSkip(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import confluent_kafka'], { timeout: 20_000 });
  if (r.error || r.status !== 0)
    return `${PYTHON} cannot import confluent_kafka: run bash scripts/install-debian-clients.sh`;
  return false;
}

export interface PythonClientArgs {
  role: 'produce' | 'consume' | 'drain';
  bootstrap: string;
  topic: string;
  partitions: number[];
  /** Distinct per client in a run: values are p{pid}-{seq}, processes p{pid}#n / c{pid} / drain{pid}. */
  pid: number | string;
  rate?: number;
  maxSeconds?: number;
  messageTimeoutMs?: number;
  lingerMs?: number;
  flushSeconds?: number;
  isolation?: 'read_committed' | 'read_uncommitted';
}

export interface PythonClient {
  child: ChildProcess;
  /** Status lines so far (progress, fatal errors). */
  statuses: Record<string, unknown>[];
  /** Events recorded so far. */
  events(): number;
  /** Resolves with the final status when the child exits. */
  done: Promise<Record<string, unknown>>;
  /** Asks the child to stop and waits for its summary (SIGKILL after `ms`). */
  stop(ms?: number): Promise<Record<string, unknown>>;
  /** Sends a command line to the child (consumer: "seek <partition>"). */
  send(line: string): void;
  /** Waits (bounded) for a status line matching `pred` that arrives after `since` (Date.now()). */
  waitStatus(pred: (s: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** Waits for the child to finish by itself (a drain); SIGKILL after `ms`. */
  wait(ms?: number): Promise<Record<string, unknown>>;
}

export function startPythonClient(run: FaultRun, args: PythonClientArgs): PythonClient {
  const child = run.track(
    spawn(PYTHON, [SCRIPT, JSON.stringify(args)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    }),
  );
  const name = `${args.role}-${args.pid}`;
  const statuses: Record<string, unknown>[] = [];
  let events = 0;
  let buf = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: { ev?: Partial<Op>; status?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        run.log(`${name}: unparsable line ${line.slice(0, 200)}`);
        continue;
      }
      if (msg.ev) {
        const { process: proc, type, f, ...fields } = msg.ev as Op;
        try {
          if (type === 'invoke') run.history.invoke(proc, f, fields);
          else run.history.complete(proc, type, fields);
          events++;
        } catch (e) {
          run.log(`${name}: bad event ${line.slice(0, 300)}: ${(e as Error).message}`);
        }
      } else {
        statuses.push({ ...(msg as Record<string, unknown>), at: Date.now() });
        if (msg.status !== 'done') run.log(`${name}: ${line.slice(0, 500)}`);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d).slice(-20_000);
    appendFileSync(run.logFile(name), d);
  });
  child.stdin!.on('error', () => {});
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      const last = statuses.findLast((s) => s.status === 'done');
      if (last) resolve(last);
      else reject(new Error(`${name} exited (${code ?? signal}) without a summary:\n${stderr.slice(-3000)}`));
    });
  });
  done.catch(() => {}); // observed by stop() or the test
  return {
    child,
    statuses,
    events: () => events,
    done,
    stop(ms = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.stdin!.write('stop\n');
      return bounded(ms);
    },
    wait(ms = 90_000) {
      return bounded(ms);
    },
    send(line: string) {
      if (child.exitCode === null && child.signalCode === null) child.stdin!.write(`${line}\n`);
    },
    async waitStatus(pred, ms = 10_000) {
      const from = statuses.length;
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const s = statuses.slice(from).find(pred);
        if (s) return s;
        if (child.exitCode !== null || child.signalCode !== null) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`${name}: no matching status within ${ms} ms:\n${stderr.slice(-2000)}`);
    },
  };
  async function bounded(ms: number): Promise<Record<string, unknown>> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name} did not stop within ${ms} ms:\n${stderr.slice(-3000)}`));
      }, ms);
    });
    try {
      return await Promise.race([done, bound]);
    } finally {
      clearTimeout(timer);
    }
  }
}

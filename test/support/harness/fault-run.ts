/**
 * One fault-test run: a root directory holding the brokers' data dirs, their
 * logs and the recorded history; a seeded random source; every process the
 * run starts, killed when the test ends. When the test fails (or
 * SAMSA_FAULT_KEEP=1) the directory is kept and its path printed with the
 * seed, so the run can be inspected and replayed (SAMSA_SEED=<seed>).
 *
 *   const run = await FaultRun.create(t, 'sto-torn-tail');
 *   const broker = await run.startSamsa('b0', { sets: { ... } });
 *   ... run.history.invoke(...) ...
 *   run.check(result)   // keeps the checker's verdict with the artifacts
 *
 * Layout: <root>/data/<broker>/ (log.dirs), <root>/logs/<name>.log,
 * <root>/history.jsonl, <root>/check.json, <root>/run.log.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { History } from '../checker/history.ts';
import type { QueueCheckResult } from '../checker/queue-checker.ts';
import { mulberry32, type Rand, seedFromEnv } from './rng.ts';
import { SamsaProcess, type SamsaProcessOptions } from './samsa-process.ts';

type AfterContext = Pick<TestContext, 'after' | 'diagnostic'>;

/** SAMSA_FAULT_LONG=1: longer seeded runs. */
export const LONG = process.env.SAMSA_FAULT_LONG === '1' || process.env.SAMSA_FAULT_LONG === 'true';

export class FaultRun {
  readonly name: string;
  readonly root: string;
  readonly seed: number;
  readonly rand: Rand;
  readonly history = new History();
  private readonly t: AfterContext;
  private readonly brokers: SamsaProcess[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private verdict: QueueCheckResult | undefined;
  private readonly t0 = Date.now();

  private constructor(t: AfterContext, name: string) {
    this.t = t;
    this.name = name;
    this.seed = seedFromEnv();
    this.rand = mulberry32(this.seed);
    this.root = mkdtempSync(join(tmpdir(), `samsa-fault-${name}-`));
    mkdirSync(join(this.root, 'data'));
    mkdirSync(join(this.root, 'logs'));
  }

  static create(t: AfterContext, name: string): FaultRun {
    const run = new FaultRun(t, name);
    t.diagnostic(`${name}: seed ${run.seed} (replay with SAMSA_SEED=${run.seed})`);
    run.log(`seed ${run.seed}`);
    t.after(() => run.finish());
    return run;
  }

  dataDir(broker = 'b0'): string {
    return join(this.root, 'data', broker);
  }

  logFile(name: string): string {
    return join(this.root, 'logs', `${name}.log`);
  }

  /** A line in <root>/run.log (the fault schedule as it happened). */
  log(line: string): void {
    appendFileSync(join(this.root, 'run.log'), `${((Date.now() - this.t0) / 1000).toFixed(3)}s ${line}\n`);
  }

  async startSamsa(name: string, opts: Partial<SamsaProcessOptions> = {}): Promise<SamsaProcess> {
    const p = await SamsaProcess.start({
      dataDir: this.dataDir(name),
      logFile: this.logFile(name),
      ...opts,
    });
    this.brokers.push(p);
    this.log(`started ${name} on ${p.bootstrap} (pid ${p.pid})`);
    return p;
  }

  /** Registers a child process to be killed when the run ends. */
  track(child: ChildProcess): ChildProcess {
    this.children.push(child);
    return child;
  }

  /** Registers a cleanup (run before processes are killed, newest first). */
  defer(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  /** Keeps a checker verdict with the artifacts. */
  check(result: QueueCheckResult): QueueCheckResult {
    this.verdict = result;
    return result;
  }

  private async finish(): Promise<void> {
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        this.log(`cleanup failed: ${(e as Error).message}`);
      }
    }
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    await Promise.all(this.brokers.map((b) => b.kill('SIGKILL')));
    this.history.seal('open when the run ended');
    writeFileSync(join(this.root, 'history.jsonl'), this.history.toJSONL());
    if (this.verdict) writeFileSync(join(this.root, 'check.json'), JSON.stringify(this.verdict, null, 2));
    // TestContext.passed (Node >= 21) is missing from @types/node 24
    const passed = (this.t as { passed?: boolean }).passed !== false;
    const keep = !passed || process.env.SAMSA_FAULT_KEEP === '1';
    if (keep) {
      const msg = `${this.name}: kept data dirs, broker logs and history in ${this.root} (seed ${this.seed}; replay with SAMSA_SEED=${this.seed})`;
      this.t.diagnostic(msg);
      console.error(msg);
    } else {
      rmSync(this.root, { recursive: true, force: true });
    }
  }
}

/**
 * A Samsa broker per test file, started in-process with `startBroker()` and
 * stopped by the test (t.after), plus small conveniences the suites share.
 */
import type { TestContext } from 'node:test';
import { type StartBrokerOptions, startBroker, type TestBroker } from '../../../src/testing/index.ts';

export type { TestBroker };

/** Starts a broker and stops it when the test (or suite) `t` ends. */
export async function brokerFor(
  t: { after: (fn: () => Promise<void> | void) => void },
  opts: StartBrokerOptions = {},
): Promise<TestBroker> {
  const b = await startBroker(opts);
  t.after(() => b.stop());
  return b;
}

let topicSeq = 0;
/** A topic name unique within this process (and readable in logs). */
export function uniqueTopic(prefix: string): string {
  topicSeq++;
  return `${prefix}-${process.pid}-${topicSeq}-${Math.random().toString(36).slice(2, 7)}`;
}

/**
 * Creates a topic directly through the broker's topic manager (for clients
 * without an admin API, such as kcat), bypassing CreateTopics.
 */
export async function createTopicDirect(
  b: TestBroker,
  name: string,
  partitions = 1,
  configs: Record<string, string> = {},
): Promise<void> {
  await b.broker.topics.create({ name, numPartitions: partitions, replicationFactor: 1, configs });
}

/** `false` when startBroker({ storage: 'file' }) works, else why not (a skip reason). */

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export type { StartBrokerOptions, TestContext };
export { startBroker };

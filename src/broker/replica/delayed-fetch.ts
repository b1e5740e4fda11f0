/**
 * Delayed fetches (Kafka's fetch purgatory): a fetch that found less than
 * minBytes waits, up to maxWaitMs, for appends to the partitions it reads.
 *
 * A waiter listens on each partition (`addAppendListener`, fired by the
 * produce path after it moves the high watermark). Wake-ups are coalesced:
 * the waiter's `check` runs at most once at a time, in a later macrotask,
 * with the set of partitions that changed since the last check. The wait ends
 * when `check` says the fetch can be answered, at the deadline, when the
 * request's connection closes (`signal`), or when the broker stops
 * (`shutdown()`). Every ending removes the listeners and the timer.
 */

export interface Appendable {
  addAppendListener(fn: () => void): void;
  removeAppendListener(fn: () => void): void;
}

export type WaitEnd = 'satisfied' | 'expired' | 'aborted' | 'shutdown';

export interface WaitOptions<P extends Appendable> {
  partitions: readonly P[];
  maxWaitMs: number;
  signal?: AbortSignal;
  /** True when the fetch can be answered now; receives the partitions appended to since the last check. */
  check: (changed: ReadonlySet<P>) => boolean | Promise<boolean>;
}

class DelayedFetch<P extends Appendable> {
  private readonly opts: WaitOptions<P>;
  private readonly done: (end: WaitEnd) => void;
  private readonly listeners: [P, () => void][] = [];
  private changed = new Set<P>();
  private scheduled: NodeJS.Immediate | null = null;
  private checking = false;
  private timer: NodeJS.Timeout | null = null;
  private finished = false;
  private readonly onAbort = () => this.finish('aborted');

  constructor(opts: WaitOptions<P>, done: (end: WaitEnd) => void) {
    this.opts = opts;
    this.done = done;
  }

  start(): void {
    const { partitions, signal } = this.opts;
    for (const p of partitions) {
      const fn = () => this.wake(p);
      p.addAppendListener(fn);
      this.listeners.push([p, fn]);
    }
    this.timer = setTimeout(() => this.finish('expired'), Math.max(0, this.opts.maxWaitMs));
    signal?.addEventListener('abort', this.onAbort, { once: true });
    // An append may have landed between the caller's read and the listeners above.
    for (const p of partitions) this.changed.add(p);
    this.schedule();
  }

  private wake(p: P): void {
    if (this.finished) return;
    this.changed.add(p);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled !== null || this.checking || this.finished) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      void this.runCheck();
    });
  }

  private async runCheck(): Promise<void> {
    if (this.finished || this.changed.size === 0) return;
    const changed = this.changed;
    this.changed = new Set();
    this.checking = true;
    let ok: boolean;
    try {
      ok = await this.opts.check(changed);
    } catch {
      ok = true; // let the final read report the problem
    }
    this.checking = false;
    if (ok) this.finish('satisfied');
    else if (this.changed.size > 0) this.schedule();
  }

  finish(end: WaitEnd): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    for (const [p, fn] of this.listeners) p.removeAppendListener(fn);
    this.listeners.length = 0;
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.done(end);
  }
}

export class DelayedFetchPurgatory {
  private readonly pending = new Set<DelayedFetch<Appendable>>();
  private stopped = false;

  /** Fetches waiting now. */
  get size(): number {
    return this.pending.size;
  }

  get isShutdown(): boolean {
    return this.stopped;
  }

  /** Waits for data; resolves how the wait ended. */
  wait<P extends Appendable>(opts: WaitOptions<P>): Promise<WaitEnd> {
    if (this.stopped) return Promise.resolve('shutdown');
    if (opts.signal?.aborted) return Promise.resolve('aborted');
    return new Promise<WaitEnd>((resolve) => {
      const d: DelayedFetch<P> = new DelayedFetch(opts, (end) => {
        this.pending.delete(d as unknown as DelayedFetch<Appendable>);
        resolve(end);
      });
      this.pending.add(d as unknown as DelayedFetch<Appendable>);
      d.start();
    });
  }

  /** Ends every wait (they answer with what they have) and makes later waits return at once. */
  shutdown(): void {
    this.stopped = true;
    for (const d of [...this.pending]) d.finish('shutdown');
  }
}

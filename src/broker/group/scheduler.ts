/**
 * Timers for the group coordinator (session expiry, rebalance and sync
 * timeouts, delayed joins, offset expiry), behind an interface so unit tests
 * drive them with a manual clock.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  /** Wall clock, ms since the epoch. */
  now(): number;
  /** Runs `fn` once after `delayMs`. */
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

/** Real timers (unref'd: the coordinator cancels them on shutdown, they never hold the process). */
export class SystemScheduler implements Scheduler {
  now(): number {
    return Date.now();
  }
  schedule(delayMs: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  }
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to; for tests. */
export class ManualScheduler implements Scheduler {
  private time: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const t: ManualTimer = { at: this.time + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Timers due now (not yet fired). */
  get due(): number {
    return this.timers.filter((t) => !t.cancelled && t.at <= this.time).length;
  }

  /** Moves the clock forward by `ms`, firing due timers in time order (timers they schedule included). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.time = target;
  }
}

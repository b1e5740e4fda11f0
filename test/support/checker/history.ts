/**
 * Client-operation histories for the queue checker (RELIABILITY.md, "Checker").
 *
 * A history is a list of operations, each recorded twice: an `invoke` when a
 * client starts it and a completion when it ends: `ok` (it happened), `fail`
 * (it definitely did not happen) or `info` (unknown: timeout, disconnect).
 * A *process* is one logical client thread that has at most one operation
 * open at a time (a producer with 5 requests in flight is 5 processes that
 * share a `producer`). Every record carries a unique value, `p{pid}-{seq}`.
 * Time is monotonic nanoseconds since the recorder started.
 *
 * Operations (`f`):
 *   send       mops [{f:'send', key, value}]; an ok completion fills `offset` when known
 *   poll       completion mops [{f:'poll', key, offset, value}] in delivery order
 *   txn        both kinds of mops in one transaction
 *   assign / subscribe   `keys` the consumer now owns; `seek: true` when it
 *                        was also repositioned (seek, reset after out-of-range),
 *                        or `seek: [keys]` when only those were
 *   truncate   fault injection note (process 'nemesis'): the test itself
 *              destroyed `key` from `offset` on (e.g. cut a segment); what
 *              was observed there before the note is forgotten, not counted
 *              as lost; so is any later observation there of one of the
 *              destroyed `values` (a consumer's prefetched copy delivered late)
 *   crash, other   ignored by the checker (logged for people)
 *
 * A key names one partition, `topic/partition` by convention.
 */

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';
export type OpF = 'send' | 'poll' | 'txn' | 'assign' | 'subscribe' | 'truncate' | 'crash' | 'other';

export interface SendMop {
  f: 'send';
  key: string;
  value: string;
  /** Offset the broker acknowledged (ok completions only, when the client reports it). */
  offset?: number;
}

export interface PollMop {
  f: 'poll';
  key: string;
  offset: number;
  value: string;
}

export type Mop = SendMop | PollMop;

export interface Op {
  /** Position in the history (assigned by the recorder). */
  index: number;
  /** Monotonic nanoseconds since the recorder started. */
  time: number;
  process: string;
  type: OpType;
  f: OpF;
  mops?: Mop[];
  /** assign/subscribe: the keys now owned. */
  keys?: string[];
  /** assign/subscribe: the position was moved explicitly as well (true: every key; or just these keys). */
  seek?: boolean | string[];
  /** poll: keys whose assignment changed while polling (a rebalance). */
  rebalance?: string[];
  /** Producer identity for send-order checks (default: the process). */
  producer?: string;
  /** truncate: the key, the first destroyed offset, and (when known) the values destroyed. */
  key?: string;
  offset?: number;
  values?: string[];
  /** Error text of a fail/info completion. */
  error?: string;
  /** Free-form detail for people reading the history. */
  note?: string;
}

export type OpFields = Omit<Op, 'index' | 'time' | 'process' | 'type' | 'f'>;

export function keyOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/**
 * Records a history. invoke() and complete() pair up per process; complete()
 * copies the invoke's send mops when the completion gives none (a failed or
 * unknown send still names what it tried to write).
 */
export class History {
  readonly ops: Op[] = [];
  private readonly t0 = process.hrtime.bigint();
  private readonly open = new Map<string, Op>();
  /** After seal(), late events (a client still winding down) are dropped. */
  private sealed = false;

  now(): number {
    return Number(process.hrtime.bigint() - this.t0);
  }

  private push(process: string, type: OpType, f: OpF, fields: OpFields): Op {
    const op: Op = { index: this.ops.length, time: this.now(), process, type, f, ...fields };
    this.ops.push(op);
    return op;
  }

  invoke(process: string, f: OpF, fields: OpFields = {}): Op | undefined {
    if (this.sealed) return undefined;
    const prev = this.open.get(process);
    if (prev) throw new Error(`history: process ${process} invoked ${f} while ${prev.f} is still open`);
    const op = this.push(process, 'invoke', f, fields);
    this.open.set(process, op);
    return op;
  }

  complete(process: string, type: Exclude<OpType, 'invoke'>, fields: OpFields = {}): Op | undefined {
    if (this.sealed) return undefined;
    const inv = this.open.get(process);
    if (!inv) throw new Error(`history: process ${process} completed with nothing open`);
    this.open.delete(process);
    const extra: OpFields = {};
    if (fields.mops === undefined && inv.mops && inv.f !== 'poll') {
      extra.mops = inv.mops.map((m) => ({ ...m }));
    }
    if (inv.producer !== undefined && fields.producer === undefined) extra.producer = inv.producer;
    if (inv.keys !== undefined && fields.keys === undefined) extra.keys = inv.keys;
    if (inv.seek !== undefined && fields.seek === undefined) extra.seek = inv.seek;
    return this.push(process, type, inv.f, { ...extra, ...fields });
  }

  /** A one-shot event (fault injection note, crash marker): recorded as an info op with no invoke. */
  note(process: string, f: OpF, fields: OpFields = {}): Op | undefined {
    if (this.sealed) return undefined;
    return this.push(process, 'info', f, fields);
  }

  /** Processes with an operation still open. */
  pending(): string[] {
    return [...this.open.keys()];
  }

  /** Completes every open operation as `info` (the run ended while they were in flight). */
  closeOpen(error = 'still open when the run ended'): void {
    for (const p of this.pending()) this.complete(p, 'info', { error });
  }

  /** Closes open operations as info and drops every later event. */
  seal(error = 'still open when the run ended'): void {
    this.closeOpen(error);
    this.sealed = true;
  }

  toJSONL(): string {
    return `${this.ops.map((o) => JSON.stringify(o)).join('\n')}\n`;
  }

  static parse(jsonl: string): Op[] {
    return jsonl
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Op);
  }
}

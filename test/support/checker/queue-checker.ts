/**
 * Queue checker: a TypeScript port of the ideas of Jepsen's Kafka queue
 * analysis (jepsen.tests.kafka), written from its description. It decides
 * from a client history (history.ts) whether the queue lost, duplicated,
 * reordered or invented records.
 *
 * Version order. For each key (partition) the checker builds the log it can
 * prove: offset -> values, from every poll (ok, info or fail: a consumer must
 * never be handed unsafe data) and from the acknowledged offsets of sends
 * that must have happened (ok, or info with a value some ok poll read).
 * Offsets need not be contiguous (transaction markers take slots), so
 * positions are compared as dense *indexes* into the sorted known offsets.
 *
 * Error types (names as in Jepsen where Jepsen has them):
 *   inconsistent-offsets  one (key, offset) holds two values
 *   duplicate             a value at two (key, offset) positions; or one
 *                         consumer handed the same offset twice without
 *                         being repositioned (kind 'redelivery')
 *   lost-write            a write that must have happened, at an index at or
 *                         below the highest index some ok poll read, that no
 *                         ok poll read
 *   G1a                   an ok/info poll read a value whose send failed definitely
 *   unknown-value         a poll read a value no send ever tried to write
 *   precommitted-read     a txn read a value it wrote itself
 *   poll-skip / int-poll-skip               one consumer's consecutive reads of a
 *                         key jumped over indexes that exist (across ops / in one op)
 *   nonmonotonic-poll / int-nonmonotonic-poll   ... went backwards or repeated
 *   nonmonotonic-send     a producer's records of one key, in the order it
 *                         sent them, are not in increasing offset order
 *   int-send-skip         one send op's records of a key are not contiguous
 *                         (allowed by default: other producers interleave)
 * Also `unseen`: acknowledged values no ok poll ever read. After a final
 * drain this must be 0 (`requireDrained`, the default).
 *
 * Not computed: Jepsen's transaction dependency-graph cycles (G0, G1c, ...),
 * which the plan allows anyway; transactional tests may add them later.
 */
import type { Op, PollMop, SendMop } from './history.ts';

export type ErrorType =
  | 'inconsistent-offsets'
  | 'duplicate'
  | 'lost-write'
  | 'G1a'
  | 'unknown-value'
  | 'precommitted-read'
  | 'poll-skip'
  | 'int-poll-skip'
  | 'nonmonotonic-poll'
  | 'int-nonmonotonic-poll'
  | 'nonmonotonic-send'
  | 'int-send-skip'
  | 'G0'
  | 'G1c';

export interface CheckOptions {
  /** 'subscribe' also allows poll-skip and nonmonotonic-poll (rebalances move consumers). */
  mode?: 'assign' | 'subscribe';
  /** Extra allowed error types (G0 and int-send-skip are always allowed). */
  allow?: ErrorType[];
  /** Require unseen = 0 (every acknowledged value read by some ok poll). Default true. */
  requireDrained?: boolean;
  /** Cap on error entries kept per type (default 50; counts stay exact). */
  maxExamples?: number;
}

export interface QueueCheckResult {
  valid: boolean;
  /** Types found, allowed or not. */
  errorTypes: ErrorType[];
  /** Types found that make the run invalid. */
  badErrorTypes: ErrorType[];
  errors: Partial<Record<ErrorType, { count: number; examples: object[] }>>;
  unseen: { count: number; byKey: Record<string, number>; sample: string[] };
  stats: {
    sendOps: { ok: number; info: number; fail: number };
    acknowledged: number;
    readDistinct: number;
    keys: number;
    /** Values whose every observed position a `truncate` note destroyed. */
    destroyed: number;
  };
}

interface Obs {
  key: string;
  offset: number;
  value: string;
  opIndex: number;
}

const sends = (op: Op): SendMop[] => (op.mops ?? []).filter((m): m is SendMop => m.f === 'send');
const polls = (op: Op): PollMop[] => (op.mops ?? []).filter((m): m is PollMop => m.f === 'poll');
const isWriteOp = (op: Op) => op.f === 'send' || op.f === 'txn';
const isReadOp = (op: Op) => op.f === 'poll' || op.f === 'txn';

class Errors {
  readonly found = new Map<ErrorType, { count: number; examples: object[] }>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  add(type: ErrorType, e: object): void {
    let entry = this.found.get(type);
    if (!entry) this.found.set(type, (entry = { count: 0, examples: [] }));
    entry.count++;
    if (entry.examples.length < this.max) entry.examples.push(e);
  }
}

/** Per key: the provable log as dense indexes. */
class KeyOrder {
  readonly byOffset = new Map<number, Set<string>>();
  offsets: number[] = [];
  readonly indexOfOffset = new Map<number, number>();
  readonly firstIndex = new Map<string, number>();
  readonly lastIndex = new Map<string, number>();

  add(offset: number, value: string): void {
    let s = this.byOffset.get(offset);
    if (!s) this.byOffset.set(offset, (s = new Set()));
    s.add(value);
  }

  seal(): void {
    this.offsets = [...this.byOffset.keys()].sort((a, b) => a - b);
    this.offsets.forEach((o, i) => {
      this.indexOfOffset.set(o, i);
      for (const v of this.byOffset.get(o)!) {
        if (!this.firstIndex.has(v)) this.firstIndex.set(v, i);
        this.lastIndex.set(v, i);
      }
    });
  }

  valuesAt(index: number): string[] {
    const o = this.offsets[index];
    return o === undefined ? [] : [...this.byOffset.get(o)!];
  }

  skipped(fromIndex: number, toIndex: number): string[] {
    const out: string[] = [];
    for (let i = fromIndex + 1; i < toIndex && out.length < 20; i++) out.push(...this.valuesAt(i));
    return out;
  }
}

export function checkQueue(history: readonly Op[], opts: CheckOptions = {}): QueueCheckResult {
  const errors = new Errors(opts.maxExamples ?? 50);
  const ops = [...history].sort((a, b) => a.index - b.index);

  // 1. Pair invocations with completions; a never-completed invoke counts as info.
  const open = new Map<string, Op>();
  const completionOf = new Map<Op, Op>();
  const completions: Op[] = [];
  for (const op of ops) {
    if (op.type === 'invoke') {
      if (open.has(op.process)) throw new Error(`history: process ${op.process} has two open ops`);
      open.set(op.process, op);
      continue;
    }
    const inv = open.get(op.process);
    if (inv && inv.f === op.f) {
      open.delete(op.process);
      completionOf.set(inv, op);
    } else if (op.f !== 'truncate' && op.f !== 'crash' && op.f !== 'other') {
      throw new Error(`history: completion #${op.index} (${op.process} ${op.f}) has no matching invoke`);
    }
    completions.push(op);
  }
  for (const inv of open.values()) {
    const synth: Op = { ...inv, type: 'info', error: 'never completed' };
    completionOf.set(inv, synth);
    completions.push(synth);
  }

  // 2. Writers and reads.
  const invokedValues = new Set<string>();
  for (const op of ops) if (op.type === 'invoke') for (const m of sends(op)) invokedValues.add(m.value);
  const writerOf = new Map<string, { op: Op; key: string }>();
  const sendOps = { ok: 0, info: 0, fail: 0 };
  for (const op of completions) {
    if (!isWriteOp(op)) continue;
    if (op.f === 'send') sendOps[op.type as 'ok' | 'info' | 'fail']++;
    for (const m of sends(op)) {
      invokedValues.add(m.value);
      if (writerOf.has(m.value)) throw new Error(`history: value ${m.value} was sent twice`);
      writerOf.set(m.value, { op, key: m.key });
    }
  }
  const okRead = new Set<string>();
  const okReadByKey = new Map<string, Set<string>>();
  for (const op of completions) {
    if (op.type !== 'ok' || !isReadOp(op)) continue;
    for (const m of polls(op)) {
      okRead.add(m.value);
      let s = okReadByKey.get(m.key);
      if (!s) okReadByKey.set(m.key, (s = new Set()));
      s.add(m.value);
    }
  }
  const mustHaveHappened = (op: Op) =>
    op.type === 'ok' || (op.type === 'info' && sends(op).some((m) => okRead.has(m.value)));

  // 3. Observations, minus those a later truncate note destroyed.
  const truncations = new Map<string, { index: number; offset: number; values: Set<string> }[]>();
  for (const op of ops) {
    if (op.f === 'truncate' && op.key !== undefined && op.offset !== undefined) {
      let t = truncations.get(op.key);
      if (!t) truncations.set(op.key, (t = []));
      t.push({ index: op.index, offset: op.offset, values: new Set(op.values ?? []) });
    }
  }
  const dead = (o: Obs) =>
    (truncations.get(o.key) ?? []).some(
      (t) => t.offset <= o.offset && (t.index > o.opIndex || t.values.has(o.value)),
    );
  const live: Obs[] = [];
  const deadValues = new Set<string>();
  for (const op of completions) {
    const obs: Obs[] = [];
    if (isWriteOp(op) && mustHaveHappened(op)) {
      for (const m of sends(op))
        if (m.offset !== undefined && m.offset !== null)
          obs.push({ key: m.key, offset: m.offset, value: m.value, opIndex: op.index });
    }
    if (isReadOp(op)) {
      for (const m of polls(op))
        obs.push({ key: m.key, offset: m.offset, value: m.value, opIndex: op.index });
    }
    for (const o of obs) {
      if (dead(o)) deadValues.add(o.value);
      else live.push(o);
    }
  }
  const liveValues = new Set(live.map((o) => o.value));
  const destroyed = new Set([...deadValues].filter((v) => !liveValues.has(v)));

  // 4. Version orders.
  const orders = new Map<string, KeyOrder>();
  const order = (k: string) => {
    let o = orders.get(k);
    if (!o) orders.set(k, (o = new KeyOrder()));
    return o;
  };
  for (const o of live) order(o.key).add(o.offset, o.value);
  for (const o of orders.values()) o.seal();

  // inconsistent offsets
  for (const [key, o] of orders) {
    for (const off of o.offsets) {
      const vs = o.byOffset.get(off)!;
      if (vs.size > 1) errors.add('inconsistent-offsets', { key, offset: off, values: [...vs].sort() });
    }
  }
  // duplicates: one value at several positions
  const positions = new Map<string, Set<string>>();
  for (const o of live) {
    let s = positions.get(o.value);
    if (!s) positions.set(o.value, (s = new Set()));
    s.add(`${o.key}@${o.offset}`);
  }
  for (const [value, pos] of positions) {
    if (pos.size > 1) errors.add('duplicate', { kind: 'positions', value, positions: [...pos] });
  }

  // 5. Reads of failed, unknown or own writes.
  for (const op of completions) {
    if (!isReadOp(op)) continue;
    const own = new Set(sends(op).map((m) => m.value));
    for (const m of polls(op)) {
      if (!invokedValues.has(m.value)) {
        errors.add('unknown-value', { key: m.key, offset: m.offset, value: m.value, op: op.index });
        continue;
      }
      const w = writerOf.get(m.value);
      if (op.type !== 'fail' && w?.op.type === 'fail')
        errors.add('G1a', {
          key: m.key,
          offset: m.offset,
          value: m.value,
          writer: w.op.index,
          reader: op.index,
        });
      if (op.f === 'txn' && own.has(m.value))
        errors.add('precommitted-read', { key: m.key, value: m.value, op: op.index });
    }
  }

  // 6. Lost writes: below the highest index read, everything that must have happened was read.
  for (const [key, read] of okReadByKey) {
    const o = orders.get(key);
    if (!o) continue;
    let bound = -1;
    for (const v of read) bound = Math.max(bound, o.firstIndex.get(v) ?? -1);
    for (const [v, last] of o.lastIndex) {
      if (last > bound || read.has(v) || destroyed.has(v)) continue;
      const w = writerOf.get(v);
      if (!w || !mustHaveHappened(w.op)) continue;
      errors.add('lost-write', {
        key,
        value: v,
        index: o.firstIndex.get(v),
        offset: o.offsets[o.firstIndex.get(v)!],
        maxReadIndex: bound,
        writer: w.op.index,
      });
    }
  }

  // 7. Per-consumer poll order: skips, going backwards, redelivery.
  interface Last {
    index: number | undefined;
    offset: number;
    value: string;
    op: number;
  }
  const lastRead = new Map<string, Map<string, Last>>();
  const delivered = new Map<string, Map<string, Set<number>>>();
  const stateOf = <T>(m: Map<string, Map<string, T>>, p: string) => {
    let s = m.get(p);
    if (!s) m.set(p, (s = new Map()));
    return s;
  };
  const forget = (p: string, keys: Iterable<string>) => {
    for (const k of keys) {
      lastRead.get(p)?.delete(k);
      delivered.get(p)?.delete(k);
    }
  };
  for (const op of ops) {
    if (op.f === 'truncate' && op.key !== undefined) {
      for (const p of lastRead.keys()) forget(p, [op.key]);
      continue;
    }
    if (op.type === 'invoke' || op.type === 'fail') continue;
    if (op.f === 'assign' || op.f === 'subscribe') {
      const keep = new Set(op.keys ?? []);
      const lr = stateOf(lastRead, op.process);
      const moved = (k: string) => op.seek === true || (Array.isArray(op.seek) && op.seek.includes(k));
      const stale = [...new Set([...lr.keys(), ...stateOf(delivered, op.process).keys()])].filter(
        (k) => moved(k) || !keep.has(k),
      );
      forget(op.process, stale);
      continue;
    }
    if (op.type !== 'ok' || !isReadOp(op)) continue;
    const rebalanced = new Set(op.rebalance ?? []);
    forget(op.process, rebalanced);
    const lr = stateOf(lastRead, op.process);
    const dl = stateOf(delivered, op.process);
    const firstInOp = new Set<string>();
    for (const m of polls(op)) {
      // a stale copy of destroyed data says nothing about this consumer's position
      if (dead({ key: m.key, offset: m.offset, value: m.value, opIndex: op.index })) continue;
      const o = orders.get(m.key);
      const idx = o?.indexOfOffset.get(m.offset);
      const prev = lr.get(m.key);
      const within = firstInOp.has(m.key);
      firstInOp.add(m.key);
      if (prev) {
        const delta = prev.index !== undefined && idx !== undefined ? idx - prev.index : 1;
        const where = { key: m.key, values: [prev.value, m.value], offsets: [prev.offset, m.offset], delta };
        if (delta > 1)
          errors.add(within ? 'int-poll-skip' : 'poll-skip', {
            ...where,
            process: op.process,
            ops: [prev.op, op.index],
            skipped: o!.skipped(prev.index!, idx!),
          });
        else if (delta < 1)
          errors.add(within ? 'int-nonmonotonic-poll' : 'nonmonotonic-poll', {
            ...where,
            process: op.process,
            ops: [prev.op, op.index],
          });
      }
      let seen = dl.get(m.key);
      if (!seen) dl.set(m.key, (seen = new Set()));
      if (seen.has(m.offset))
        errors.add('duplicate', {
          kind: 'redelivery',
          process: op.process,
          key: m.key,
          offset: m.offset,
          value: m.value,
          op: op.index,
        });
      seen.add(m.offset);
      lr.set(m.key, { index: idx, offset: m.offset, value: m.value, op: op.index });
    }
  }

  // 8. Producer order: each producer's records of a key, in send order, at increasing indexes.
  const byProducer = new Map<string, Op[]>();
  for (const op of ops) {
    if (op.type !== 'invoke' || !isWriteOp(op)) continue;
    const p = op.producer ?? op.process;
    let l = byProducer.get(p);
    if (!l) byProducer.set(p, (l = []));
    l.push(op);
  }
  for (const [producer, invokes] of byProducer) {
    const last = new Map<string, { value: string; index: number; op: number }>();
    for (const inv of invokes) {
      const done = completionOf.get(inv)!;
      if (!mustHaveHappened(done)) continue;
      const prevInOp = new Map<string, { value: string; index: number }>();
      for (const m of sends(done)) {
        const o = orders.get(m.key);
        const idx = o?.firstIndex.get(m.value);
        if (idx === undefined) continue;
        const p = last.get(m.key);
        if (p && idx <= p.index) {
          errors.add('nonmonotonic-send', {
            producer,
            key: m.key,
            values: [p.value, m.value],
            offsets: [o!.offsets[p.index], o!.offsets[idx]],
            ops: [p.op, done.index],
          });
        }
        const q = prevInOp.get(m.key);
        if (q && idx - q.index > 1) {
          errors.add('int-send-skip', {
            key: m.key,
            values: [q.value, m.value],
            op: done.index,
            skipped: o!.skipped(q.index, idx),
          });
        }
        prevInOp.set(m.key, { value: m.value, index: idx });
        last.set(m.key, { value: m.value, index: idx, op: done.index });
      }
    }
  }

  // 9. Unseen: acknowledged, never read.
  const unseenByKey: Record<string, number> = {};
  const unseenSample: string[] = [];
  let unseenCount = 0;
  let acknowledged = 0;
  for (const op of completions) {
    if (op.type !== 'ok' || !isWriteOp(op)) continue;
    for (const m of sends(op)) {
      acknowledged++;
      if (okRead.has(m.value) || destroyed.has(m.value)) continue;
      unseenCount++;
      unseenByKey[m.key] = (unseenByKey[m.key] ?? 0) + 1;
      if (unseenSample.length < 20) unseenSample.push(m.value);
    }
  }

  const allowed = new Set<ErrorType>(['G0', 'int-send-skip', ...(opts.allow ?? [])]);
  if (opts.mode === 'subscribe') {
    allowed.add('poll-skip');
    allowed.add('nonmonotonic-poll');
  }
  const errorTypes = [...errors.found.keys()].sort();
  const badErrorTypes = errorTypes.filter((t) => !allowed.has(t));
  const requireDrained = opts.requireDrained ?? true;
  return {
    valid: badErrorTypes.length === 0 && (!requireDrained || unseenCount === 0),
    errorTypes,
    badErrorTypes,
    errors: Object.fromEntries(errors.found) as QueueCheckResult['errors'],
    unseen: { count: unseenCount, byKey: unseenByKey, sample: unseenSample },
    stats: {
      sendOps,
      acknowledged,
      readDistinct: okRead.size,
      keys: orders.size,
      destroyed: destroyed.size,
    },
  };
}

/** A short human-readable account of a result, for assertion messages. */
export function formatResult(r: QueueCheckResult, examplesPerType = 3): string {
  const lines = [
    `queue check: ${r.valid ? 'valid' : 'INVALID'}; acknowledged ${r.stats.acknowledged}, read ${r.stats.readDistinct} distinct, unseen ${r.unseen.count}, destroyed by the test ${r.stats.destroyed}, keys ${r.stats.keys}, send ops ok/info/fail ${r.stats.sendOps.ok}/${r.stats.sendOps.info}/${r.stats.sendOps.fail}`,
  ];
  for (const t of r.errorTypes) {
    const e = r.errors[t]!;
    const tag = r.badErrorTypes.includes(t) ? 'ERROR' : 'allowed';
    lines.push(`  ${tag} ${t} x${e.count}: ${JSON.stringify(e.examples.slice(0, examplesPerType))}`);
  }
  if (r.unseen.count > 0)
    lines.push(`  unseen ${JSON.stringify(r.unseen.byKey)} e.g. ${r.unseen.sample.slice(0, 10).join(', ')}`);
  return lines.join('\n');
}

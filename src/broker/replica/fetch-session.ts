/**
 * Incremental fetch sessions (KIP-227), as Kafka's FetchSession.scala.
 *
 * A fetch with sessionId 0 / epoch 0 is a full fetch that opens a session;
 * the broker remembers the partitions and their fetch parameters, and later
 * requests (same id, epoch + 1) name only what changed (added, updated or
 * forgotten partitions). Incremental responses carry only partitions with
 * something new: records, a moved high watermark or log start offset, or an
 * error. Epoch -1 means "no session" (sessionless full fetch); a full fetch
 * naming a session id closes that session.
 *
 * The cache is bounded (max.incremental.fetch.session.cache.slots). When it
 * is full a new session evicts the least recently used session idle for
 * longer than the eviction time, else the least valuable mature session
 * (unprivileged before follower sessions, then fewer partitions), else none
 * is created and the full fetch is answered with sessionId 0.
 *
 * Pure logic: no I/O, the clock and id source are injected.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';

export const INVALID_SESSION_ID = 0;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;
/** Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS. */
export const DEFAULT_SESSION_EVICTION_MS = 120_000;

/** The epoch after `epoch` (wraps to 1, never back to the initial 0). */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  return epoch >= 0x7fffffff ? 1 : epoch + 1;
}

/** What a fetch asks of one partition. */
export interface FetchPartitionParams {
  fetchOffset: number;
  /** partitionMaxBytes */
  maxBytes: number;
  /** -1 when the client does not know it. */
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  /** The fetcher's own log start offset (followers), else -1. */
  logStartOffset: number;
}

/** One partition of a fetch, as a request names it. */
export interface FetchEntry extends FetchPartitionParams {
  /** Identity in the session: topic id (v13+) or topic name, and the partition. */
  key: string;
  /** Topic name, null when a topic id (v13+) did not resolve. */
  topic: string | null;
  topicId: string;
  partition: number;
}

/** A partition remembered by a session, with what the last response told the client. */
export interface CachedPartition extends FetchEntry {
  /** High watermark last sent; -1 after an error so the partition is re-sent once the error clears. */
  sentHighWatermark: number;
  sentLogStartOffset: number;
}

/** What the fetch logic produced for one partition (enough to decide what an incremental response carries). */
export interface PartitionOutcome {
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  /** Record bytes returned. */
  recordBytes: number;
  /** Set for followers whose log diverged (forces the partition into the response). */
  diverging?: boolean;
}

export function partitionKey(
  usesTopicIds: boolean,
  topic: string | null,
  topicId: string,
  partition: number,
): string {
  return usesTopicIds ? `${topicId}:${partition}` : `${topic ?? ''}\u0000${partition}`;
}

export class FetchSession {
  readonly id: number;
  /** Follower sessions are privileged (evicted only by other follower sessions, or when stale). */
  readonly privileged: boolean;
  readonly usesTopicIds: boolean;
  readonly creationMs: number;
  lastUsedMs: number;
  /** The epoch the next request must carry. */
  epoch: number;
  /** In fetch order: partitions that returned data move to the end (fairness). */
  readonly partitions = new Map<string, CachedPartition>();

  constructor(id: number, privileged: boolean, usesTopicIds: boolean, now: number) {
    this.id = id;
    this.privileged = privileged;
    this.usesTopicIds = usesTopicIds;
    this.creationMs = now;
    this.lastUsedMs = now;
    this.epoch = nextEpoch(INITIAL_EPOCH);
  }

  get size(): number {
    return this.partitions.size;
  }

  /** Applies an incremental request: adds or updates named partitions, then drops forgotten ones. */
  update(entries: readonly FetchEntry[], forgotten: readonly string[]): void {
    for (const e of entries) {
      const cached = this.partitions.get(e.key);
      if (cached === undefined) {
        this.partitions.set(e.key, { ...e, sentHighWatermark: -1, sentLogStartOffset: -1 });
      } else {
        cached.fetchOffset = e.fetchOffset;
        cached.maxBytes = e.maxBytes;
        cached.currentLeaderEpoch = e.currentLeaderEpoch;
        cached.lastFetchedEpoch = e.lastFetchedEpoch;
        cached.logStartOffset = e.logStartOffset;
        cached.topic = e.topic;
      }
    }
    for (const k of forgotten) this.partitions.delete(k);
  }
}

/** How a request is served, decided before any data is read. */
export type FetchContext =
  | { kind: 'error'; errorCode: number }
  /** No session: answer with every requested partition and sessionId 0. */
  | { kind: 'sessionless'; entries: FetchEntry[] }
  /** New session: answer with every requested partition; a session is created when the answer is built. */
  | { kind: 'full'; entries: FetchEntry[]; usesTopicIds: boolean; privileged: boolean }
  | { kind: 'incremental'; session: FetchSession };

export interface NewContextRequest {
  /** Fetch version: sessions need v7+, topic ids come with v13+. */
  version: number;
  sessionId: number;
  epoch: number;
  entries: FetchEntry[];
  /** Keys of forgotten partitions. */
  forgotten: string[];
  /** Follower fetch. */
  privileged: boolean;
}

export interface FetchSessionCacheOptions {
  maxSlots: number;
  evictionMs?: number;
  now?: () => number;
  /** Returns a random int32; used for session ids. */
  randomInt?: () => number;
}

export class FetchSessionCache {
  /** By id, in least-recently-used order (touch re-inserts). */
  private readonly sessions = new Map<number, FetchSession>();
  private readonly maxSlots: number;
  private readonly evictionMs: number;
  private readonly now: () => number;
  private readonly randomInt: () => number;
  /** Sessions evicted to make room for others (a metric). */
  evictions = 0;

  constructor(opts: FetchSessionCacheOptions) {
    this.maxSlots = opts.maxSlots;
    this.evictionMs = opts.evictionMs ?? DEFAULT_SESSION_EVICTION_MS;
    this.now = opts.now ?? Date.now;
    this.randomInt = opts.randomInt ?? (() => (Math.random() * 0x100000000) | 0);
  }

  get size(): number {
    return this.sessions.size;
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  remove(id: number): boolean {
    return this.sessions.delete(id);
  }

  clear(): void {
    this.sessions.clear();
  }

  private touch(s: FetchSession, now: number): void {
    s.lastUsedMs = now;
    this.sessions.delete(s.id);
    this.sessions.set(s.id, s);
  }

  /** Decides how a fetch request is served; updates the named session (incremental) first. */
  newContext(req: NewContextRequest): FetchContext {
    if (req.version < 7) return { kind: 'sessionless', entries: req.entries };
    const full = req.epoch === INITIAL_EPOCH || req.epoch === FINAL_EPOCH;
    if (full) {
      // Any session named by a full fetch is closed.
      if (req.sessionId !== INVALID_SESSION_ID) this.remove(req.sessionId);
      if (req.epoch === FINAL_EPOCH) return { kind: 'sessionless', entries: req.entries };
      return {
        kind: 'full',
        entries: req.entries,
        usesTopicIds: req.version >= 13,
        privileged: req.privileged,
      };
    }
    const session = this.sessions.get(req.sessionId);
    if (session === undefined) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    if (session.epoch !== req.epoch)
      return { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
    if (session.usesTopicIds !== req.version >= 13) {
      return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };
    }
    session.update(req.entries, req.forgotten);
    if (session.size === 0) {
      this.remove(session.id);
      return { kind: 'sessionless', entries: req.entries };
    }
    this.touch(session, this.now());
    session.epoch = nextEpoch(session.epoch);
    return { kind: 'incremental', session };
  }

  /** The partitions to read for a context, in fetch order. */
  targets(ctx: FetchContext): FetchEntry[] {
    switch (ctx.kind) {
      case 'error':
        return [];
      case 'sessionless':
      case 'full':
        return ctx.entries;
      case 'incremental':
        return [...ctx.session.partitions.values()];
    }
  }

  /**
   * Finishes a fetch: creates the session of a full fetch, or updates the
   * incremental session's cached state. Returns the session id to answer with
   * and the keys (in order) the response carries.
   */
  complete(
    ctx: FetchContext,
    outcomes: ReadonlyMap<string, PartitionOutcome>,
  ): { sessionId: number; keys: string[] } {
    switch (ctx.kind) {
      case 'error':
        return { sessionId: INVALID_SESSION_ID, keys: [] };
      case 'sessionless':
        return { sessionId: INVALID_SESSION_ID, keys: ctx.entries.map((e) => e.key) };
      case 'full': {
        const keys = ctx.entries.map((e) => e.key);
        const id = this.createSession(ctx, outcomes);
        return { sessionId: id, keys };
      }
      case 'incremental': {
        const s = ctx.session;
        const keys: string[] = [];
        const moveToEnd: CachedPartition[] = [];
        for (const cp of s.partitions.values()) {
          const o = outcomes.get(cp.key);
          if (o === undefined) continue;
          if (mustRespond(cp, o)) {
            keys.push(cp.key);
            if (o.recordBytes > 0) moveToEnd.push(cp);
          }
        }
        for (const cp of moveToEnd) {
          s.partitions.delete(cp.key);
          s.partitions.set(cp.key, cp);
        }
        return { sessionId: s.id, keys };
      }
    }
  }

  private createSession(
    ctx: Extract<FetchContext, { kind: 'full' }>,
    outcomes: ReadonlyMap<string, PartitionOutcome>,
  ): number {
    if (this.maxSlots <= 0) return INVALID_SESSION_ID;
    const now = this.now();
    const size = ctx.entries.length;
    if (this.sessions.size >= this.maxSlots && !this.tryEvict(ctx.privileged, size, now))
      return INVALID_SESSION_ID;
    const id = this.newSessionId();
    const s = new FetchSession(id, ctx.privileged, ctx.usesTopicIds, now);
    for (const e of ctx.entries) {
      const cp: CachedPartition = { ...e, sentHighWatermark: -1, sentLogStartOffset: -1 };
      const o = outcomes.get(e.key);
      if (o !== undefined) mustRespond(cp, o);
      s.partitions.set(e.key, cp);
    }
    this.sessions.set(id, s);
    return id;
  }

  private newSessionId(): number {
    for (;;) {
      const id = this.randomInt() | 0;
      if (id > 0 && !this.sessions.has(id)) return id;
    }
  }

  /** Makes room for a new session of `size` partitions; false when nothing may be evicted. */
  private tryEvict(privileged: boolean, size: number, now: number): boolean {
    const lru = this.sessions.values().next().value;
    if (lru === undefined) return true;
    if (now - lru.lastUsedMs > this.evictionMs) {
      this.sessions.delete(lru.id);
      this.evictions++;
      return true;
    }
    // The least valuable evictable session: sessions older than the eviction
    // time, and (for a follower session) every consumer session.
    let victim: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      const mature = now - s.creationMs > this.evictionMs;
      if (!mature && !(privileged && !s.privileged)) continue;
      if (
        victim === undefined ||
        compareValue(s.privileged, s.size, s.id, victim.privileged, victim.size, victim.id) < 0
      ) {
        victim = s;
      }
    }
    if (victim === undefined) return false;
    // Evict only a session worth less than the new one (ties keep the existing session, as Kafka).
    if (compareValue(privileged, size, 0, victim.privileged, victim.size, victim.id) < 0) {
      return false;
    }
    this.sessions.delete(victim.id);
    this.evictions++;
    return true;
  }
}

function compareValue(ap: boolean, asz: number, aid: number, bp: boolean, bsz: number, bid: number): number {
  if (ap !== bp) return ap ? 1 : -1;
  if (asz !== bsz) return asz - bsz;
  return aid - bid;
}

/** Updates the cached state from an outcome; true when the partition belongs in an incremental response. */
function mustRespond(cp: CachedPartition, o: PartitionOutcome): boolean {
  let must = o.recordBytes > 0;
  if (cp.sentHighWatermark !== o.highWatermark) {
    must = true;
    cp.sentHighWatermark = o.highWatermark;
  }
  if (cp.sentLogStartOffset !== o.logStartOffset) {
    must = true;
    cp.sentLogStartOffset = o.logStartOffset;
  }
  if (o.errorCode !== 0) {
    cp.sentHighWatermark = -1;
    must = true;
  }
  if (o.diverging === true) must = true;
  return must;
}

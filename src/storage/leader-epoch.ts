/**
 * Leader-epoch cache: epoch -> first offset written in that epoch, ascending
 * in both. Same semantics as Kafka's LeaderEpochFileCache (assign, truncate
 * from end/start, endOffsetFor for OffsetForLeaderEpoch).
 */
export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export class LeaderEpochCache {
  private entries: EpochEntry[] = [];
  /** Called after every change with the new entries (persist them). */
  onChange: ((entries: readonly EpochEntry[]) => void) | null = null;

  constructor(initial: readonly EpochEntry[] = []) {
    for (const e of initial) this.assignQuiet(e.epoch, e.startOffset);
  }

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  latest(): EpochEntry | undefined {
    return this.entries[this.entries.length - 1];
  }

  latestEpoch(): number {
    return this.latest()?.epoch ?? UNDEFINED_EPOCH;
  }

  earliest(): EpochEntry | undefined {
    return this.entries[0];
  }

  /** Records that `epoch` starts at `startOffset`, dropping conflicting later entries. */
  assign(epoch: number, startOffset: number): boolean {
    const changed = this.assignQuiet(epoch, startOffset);
    if (changed) this.changed();
    return changed;
  }

  private assignQuiet(epoch: number, startOffset: number): boolean {
    if (epoch < 0 || startOffset < 0)
      throw new RangeError(`invalid leader epoch entry ${epoch}@${startOffset}`);
    const last = this.latest();
    if (last && last.epoch === epoch && startOffset >= last.startOffset) return false;
    while (this.entries.length > 0) {
      const e = this.entries[this.entries.length - 1]!;
      if (e.epoch >= epoch || e.startOffset >= startOffset) this.entries.pop();
      else break;
    }
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /**
   * OffsetForLeaderEpoch: the largest epoch <= requested and the start offset
   * of the next higher epoch, or the log end offset for the latest epoch.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    if (requestedEpoch === UNDEFINED_EPOCH)
      return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const last = this.latest();
    if (last && last.epoch === requestedEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    let higher = -1;
    for (let i = 0; i < this.entries.length; i++) {
      if (this.entries[i]!.epoch > requestedEpoch) {
        higher = i;
        break;
      }
    }
    if (higher === -1) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const higherEntry = this.entries[higher]!;
    if (higher === 0) return { epoch: requestedEpoch, endOffset: higherEntry.startOffset };
    return { epoch: this.entries[higher - 1]!.epoch, endOffset: higherEntry.startOffset };
  }

  /** The epoch that `offset` was written in, or UNDEFINED_EPOCH. */
  epochForOffset(offset: number): number {
    let ep = UNDEFINED_EPOCH;
    for (const e of this.entries) {
      if (e.startOffset <= offset) ep = e.epoch;
      else break;
    }
    return ep;
  }

  /** Removes entries starting at or after `endOffset` (log truncated to endOffset). */
  truncateFromEnd(endOffset: number): void {
    let changed = false;
    while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.startOffset >= endOffset) {
      this.entries.pop();
      changed = true;
    }
    if (changed) this.changed();
  }

  /** Log start moved to `startOffset`: drop entries before it, keeping the epoch in force at it. */
  truncateFromStart(startOffset: number): void {
    let lastRemoved: EpochEntry | undefined;
    while (this.entries.length > 0 && this.entries[0]!.startOffset <= startOffset) {
      lastRemoved = this.entries.shift();
    }
    if (lastRemoved) {
      this.entries.unshift({ epoch: lastRemoved.epoch, startOffset });
      this.changed();
    }
  }

  clear(): void {
    if (this.entries.length === 0) return;
    this.entries = [];
    this.changed();
  }

  private changed(): void {
    this.onChange?.(this.entries);
  }
}

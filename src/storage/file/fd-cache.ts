import type { FileIO } from '../io.ts';

interface Entry {
  fd: number;
  pins: number;
  /** Removed from the map while pinned: close at the last unpin. */
  zombie: boolean;
}

export interface PinnedFd {
  readonly fd: number;
  readonly entry: Entry;
}

/**
 * LRU of open segment file descriptors, so thousands of partitions fit under
 * the process fd limit. Pinned fds (an fsync in flight) are never closed; a
 * path closed while pinned leaves the map at once (a new file at the same
 * path gets a fresh fd) and its fd closes at the last unpin.
 */
export class FdCache {
  private readonly io: FileIO;
  readonly max: number;
  private readonly map = new Map<string, Entry>();
  private lastPath = '';
  private lastEntry: Entry | null = null;

  constructor(io: FileIO, max: number) {
    this.io = io;
    this.max = Math.max(1, max);
  }

  get size(): number {
    return this.map.size;
  }

  get(path: string): number {
    return this.entry(path).fd;
  }

  private entry(path: string): Entry {
    if (path === this.lastPath && this.lastEntry !== null) return this.lastEntry;
    const e = this.lastEntry !== null && path === this.lastPath ? this.lastEntry : this.lookup(path);
    this.lastPath = path;
    this.lastEntry = e;
    return e;
  }

  private lookup(path: string): Entry {
    const e = this.map.get(path);
    if (e) {
      this.map.delete(path);
      this.map.set(path, e);
      return e;
    }
    const fd = this.io.open(path, 'r+');
    const n: Entry = { fd, pins: 0, zombie: false };
    this.map.set(path, n);
    this.evict();
    return n;
  }

  pin(path: string): PinnedFd {
    const e = this.entry(path);
    e.pins++;
    return { fd: e.fd, entry: e };
  }

  unpin(p: PinnedFd): void {
    const e = p.entry;
    e.pins--;
    if (e.pins > 0) return;
    if (e.zombie) this.closeFd(e);
    else this.evict();
  }

  close(path: string): void {
    const e = this.map.get(path);
    if (!e) return;
    if (this.lastEntry === e) {
      this.lastEntry = null;
      this.lastPath = '';
    }
    this.map.delete(path);
    if (e.pins > 0) e.zombie = true;
    else this.closeFd(e);
  }

  private closeFd(e: Entry): void {
    try {
      this.io.close(e.fd);
    } catch {
      // already gone
    }
  }

  closeAll(): void {
    for (const p of [...this.map.keys()]) this.close(p);
  }

  private evict(): void {
    if (this.map.size <= this.max) return;
    for (const [p, e] of this.map) {
      if (this.map.size <= this.max) return;
      if (e.pins === 0) this.close(p);
    }
  }
}

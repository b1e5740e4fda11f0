import type { FileIO } from '../io.ts';

/**
 * LRU of open segment file descriptors, so thousands of partitions fit under
 * the process fd limit. Pinned fds (an fsync in flight) are never closed;
 * the cache may exceed its bound while everything is pinned.
 */
export class FdCache {
  private readonly io: FileIO;
  readonly max: number;
  private readonly map = new Map<string, { fd: number; pins: number; closeWhenUnpinned: boolean }>();

  constructor(io: FileIO, max: number) {
    this.io = io;
    this.max = Math.max(1, max);
  }

  get size(): number {
    return this.map.size;
  }

  get(path: string): number {
    const e = this.map.get(path);
    if (e) {
      this.map.delete(path);
      this.map.set(path, e);
      return e.fd;
    }
    const fd = this.io.open(path, 'r+');
    this.map.set(path, { fd, pins: 0, closeWhenUnpinned: false });
    this.evict();
    return fd;
  }

  pin(path: string): number {
    const fd = this.get(path);
    this.map.get(path)!.pins++;
    return fd;
  }

  unpin(path: string): void {
    const e = this.map.get(path);
    if (!e) return;
    e.pins--;
    if (e.pins <= 0 && e.closeWhenUnpinned) this.close(path);
    else this.evict();
  }

  close(path: string): void {
    const e = this.map.get(path);
    if (!e) return;
    if (e.pins > 0) {
      e.closeWhenUnpinned = true;
      return;
    }
    this.map.delete(path);
    try {
      this.io.close(e.fd);
    } catch {
      // already gone
    }
  }

  closeAll(): void {
    for (const p of [...this.map.keys()]) {
      const e = this.map.get(p)!;
      e.pins = 0;
      this.close(p);
    }
  }

  private evict(): void {
    if (this.map.size <= this.max) return;
    for (const [p, e] of this.map) {
      if (this.map.size <= this.max) return;
      if (e.pins === 0) this.close(p);
    }
  }
}

/**
 * Embedded metadata store for a single node: one JSON file written
 * atomically (temp file, fsync, rename, fsync dir). A memory variant serves
 * in-process brokers with memory storage.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ClusterMetadata, MetadataStore } from '../model.ts';

export class FileMetadataStore implements MetadataStore {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(dir: string) {
    this.path = join(dir, '__cluster_metadata.json');
  }

  async load(): Promise<ClusterMetadata | null> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as ClusterMetadata;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  save(meta: ClusterMetadata): Promise<void> {
    const text = JSON.stringify(meta, null, 1);
    const next = this.writing.then(() => this.write(text));
    this.writing = next.catch(() => {});
    return next;
  }

  private async write(text: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    const dh = await open(dirname(this.path), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  async close(): Promise<void> {
    await this.writing;
  }
}

export class MemoryMetadataStore implements MetadataStore {
  private data: string | null = null;
  async load(): Promise<ClusterMetadata | null> {
    return this.data === null ? null : (JSON.parse(this.data) as ClusterMetadata);
  }
  async save(meta: ClusterMetadata): Promise<void> {
    this.data = JSON.stringify(meta);
  }
  async close(): Promise<void> {}
}

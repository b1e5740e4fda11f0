import * as fs from 'node:fs';

/**
 * The file operations the file engine uses, as one object so tests can inject
 * faults (ENOSPC, EIO) or a power-loss shim. Data writes and reads are
 * synchronous (page-cache speed, and no interleaving with truncation or
 * deletion on the event loop); fsync is asynchronous (thread pool).
 */
export interface FileIO {
  open(path: string, flags: string): number;
  close(fd: number): void;
  /** Writes all of `buf` at `position`; throws on error (a partial write may have happened). */
  write(fd: number, buf: Buffer, position: number): void;
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
  /** fdatasync/fsync of the file's data. */
  fsync(fd: number): Promise<void>;
  /** fsync of a directory (makes creates, renames and unlinks in it durable). */
  fsyncDir(path: string): Promise<void>;
  ftruncate(fd: number, length: number): void;
  fileSize(fd: number): number;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  mkdir(path: string): void;
  readdir(path: string): string[];
  /** Size of the file at `path`, or -1 if it does not exist. */
  statSize(path: string): number;
  exists(path: string): boolean;
  rmrf(path: string): void;
  /** Whole file, or null if it does not exist. */
  readFile(path: string): Buffer | null;
  setMtime(path: string, ms: number): void;
  mtime(path: string): number;
}

function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}

export const nodeFileIO: FileIO = {
  open: (p, flags) => fs.openSync(p, flags),
  close: (fd) => fs.closeSync(fd),
  write(fd, buf, position) {
    let off = 0;
    while (off < buf.length) {
      const n = fs.writeSync(fd, buf, off, buf.length - off, position + off);
      if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
      off += n;
    }
  },
  read: (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  fsync: fsyncAsync,
  async fsyncDir(p) {
    const fd = fs.openSync(p, 'r');
    try {
      await new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve())));
    } finally {
      fs.closeSync(fd);
    }
  },
  ftruncate: (fd, len) => fs.ftruncateSync(fd, len),
  fileSize: (fd) => fs.fstatSync(fd).size,
  rename: (a, b) => fs.renameSync(a, b),
  unlink: (p) => fs.unlinkSync(p),
  mkdir: (p) => {
    fs.mkdirSync(p, { recursive: true });
  },
  readdir: (p) => fs.readdirSync(p),
  statSize(p) {
    try {
      return fs.statSync(p).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return -1;
      throw e;
    }
  },
  exists: (p) => fs.existsSync(p),
  rmrf: (p) => fs.rmSync(p, { recursive: true, force: true }),
  readFile(p) {
    try {
      return fs.readFileSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  },
  setMtime(p, ms) {
    const d = new Date(ms);
    fs.utimesSync(p, d, d);
  },
  mtime: (p) => fs.statSync(p).mtimeMs,
};

/**
 * A broker-level power cut for in-process brokers (startBroker({ storage:
 * 'file', io })): file operations go through storage/fault-io.ts's
 * PowerLossIO, which tracks what was fsynced. cut() is the moment the power
 * goes: from then on every file operation of that broker fails with EIO
 * (the machine is gone: nothing more is written, synced or read; an fsync
 * in flight never succeeds), and what was never fsynced is dropped from the real files (file contents beyond
 * their last fsync; creates and renames whose directory was not fsynced).
 * The test then stops that broker (its shutdown fails harmlessly) and
 * starts a new one on the same dir, as after a reboot.
 */
import { PowerLossIO } from '../../../src/storage/fault-io.ts';
import { type FileIO, nodeFileIO } from '../../../src/storage/io.ts';

function eio(): Error {
  return Object.assign(new Error('EIO: power is off (test power cut)'), { code: 'EIO' });
}

export class PowerCutIO implements FileIO {
  readonly shim: PowerLossIO;
  private off = false;

  constructor(base: FileIO = nodeFileIO) {
    this.shim = new PowerLossIO(base);
  }

  get isOff(): boolean {
    return this.off;
  }

  /** Pulls the plug; returns what the shim dropped. */
  cut(): { truncatedBytes: number; undone: number } {
    this.off = true;
    return this.shim.dropUnsynced();
  }

  private on(): void {
    if (this.off) throw eio();
  }

  open(path: string, flags: string): number {
    this.on();
    return this.shim.open(path, flags);
  }
  close(fd: number): void {
    this.shim.close(fd); // closing fds is harmless and keeps the old engine from leaking them
  }
  write(fd: number, buf: Buffer, position: number): void {
    this.on();
    this.shim.write(fd, buf, position);
  }
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    this.on();
    return this.shim.read(fd, buf, offset, length, position);
  }
  // An fsync still running when the power goes never returns to the process:
  // it fails here (the shim dropped what it had not yet counted as synced).
  async fsync(fd: number): Promise<void> {
    this.on();
    await this.shim.fsync(fd);
    this.on();
  }
  async fsyncDir(path: string): Promise<void> {
    this.on();
    await this.shim.fsyncDir(path);
    this.on();
  }
  ftruncate(fd: number, length: number): void {
    this.on();
    this.shim.ftruncate(fd, length);
  }
  fileSize(fd: number): number {
    this.on();
    return this.shim.fileSize(fd);
  }
  rename(from: string, to: string): void {
    this.on();
    this.shim.rename(from, to);
  }
  unlink(path: string): void {
    this.on();
    this.shim.unlink(path);
  }
  mkdir(path: string): void {
    this.on();
    this.shim.mkdir(path);
  }
  readdir(path: string): string[] {
    this.on();
    return this.shim.readdir(path);
  }
  statSize(path: string): number {
    this.on();
    return this.shim.statSize(path);
  }
  exists(path: string): boolean {
    this.on();
    return this.shim.exists(path);
  }
  rmrf(path: string): void {
    this.on();
    this.shim.rmrf(path);
  }
  readFile(path: string): Buffer | null {
    this.on();
    return this.shim.readFile(path);
  }
  setMtime(path: string, ms: number): void {
    this.on();
    this.shim.setMtime(path, ms);
  }
  mtime(path: string): number {
    this.on();
    return this.shim.mtime(path);
  }
}

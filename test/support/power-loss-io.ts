/**
 * A power-loss double of the engine's FileIO seam (src/engine/file-io.ts): an in-memory disk that
 * remembers what has been made durable, and a `crash(rng)` that produces what a real disk might hold
 * after the power went out.
 *
 * Model (what survives a crash):
 * - File data: per file a durable image (its bytes at the last `datasync`) plus, for every 512-byte
 *   sector written since, each version the sector held. After a crash each such sector independently
 *   holds its durable content or any later version — so unsynced writes are dropped, torn at sector
 *   granularity, or persisted partly out of order, as page-cache writeback may do.
 * - File size: the durable size or any size the file had since its last `datasync`.
 * - Directory entries: creates, renames and unlinks are journaled in order per directory; after a
 *   crash a prefix of those issued since the directory's last `syncDir` survives (none, some or all).
 *   Directories themselves (`mkdirp`) are durable at once.
 * - Every crash picks one of three shapes: nothing unsynced survives, everything survives (a process
 *   crash), or a random mix per sector and per directory.
 *
 * Generations: `crash()` ends the current generation. Every FileIO view and handle of an older
 * generation then fails with EIO, so an abandoned engine whose timers still fire cannot touch the
 * post-crash disk. `afterCrash()` hands out a fresh view for the next `Walrus.open`.
 */
import { basename, dirname, resolve } from 'node:path';
import type { FileHandle, FileIO } from '../../src/engine/file-io.js';

/** Sector size of the model: the unit in which unsynced writes survive or vanish. */
export const SECTOR_BYTES = 512;

/** A source of uniform numbers in [0, 1); pass `mulberry32(seed)` for replayable crashes. */
export type Rng = () => number;

/** Small seeded PRNG (public-domain mulberry32) so a failing crash replays from its seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How a crash treats unsynced state. */
export type CrashShape = 'lose-all' | 'keep-all' | 'random';

/**
 * Forces the fate of one dirty sector in a targeted test: true keeps its newest version, false its
 * durable one, undefined leaves it to the crash shape. `position` is the sector's byte offset.
 */
export type SectorChoice = (path: string, position: number) => boolean | undefined;

/** What `crash` did, for test diagnostics. */
export interface CrashReport {
  shape: CrashShape;
  /** Dirty sectors in total, and how many came back with a version newer than the durable one. */
  dirtySectors: number;
  keptSectors: number;
  /** Directory operations pending, and how many survived. */
  pendingDirOps: number;
  keptDirOps: number;
}

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${syscall} '${path}' (power-loss double)`) as NodeJS.ErrnoException;
  error.code = code;
  error.syscall = syscall;
  error.path = path;
  return error;
}

/** One file's contents: what readers see now, what is durable, and what happened in between. */
class Inode {
  /** Current bytes; `data.length` is the capacity, bytes at and after `size` are always zero. */
  data = Buffer.alloc(0);
  size = 0;
  durable = Buffer.alloc(0);
  /** sector index → every version the sector held since the last datasync, oldest first. */
  dirty = new Map<number, Buffer[]>();
  /** Sizes the file had since the last datasync. */
  sizes: number[] = [];
  /** Smallest size since the last datasync: durable bytes past it were cut and must not come back. */
  lowWater = 0;

  static fromBytes(bytes: Buffer): Inode {
    const inode = new Inode();
    inode.data = Buffer.from(bytes);
    inode.size = bytes.length;
    inode.durable = Buffer.from(bytes);
    inode.lowWater = bytes.length;
    return inode;
  }

  private reserve(length: number): void {
    if (length <= this.data.length) return;
    const next = Buffer.alloc(Math.max(length, this.data.length * 2, 4096));
    this.data.copy(next, 0, 0, this.size);
    this.data = next;
  }

  private noteSize(size: number): void {
    if (size === this.size) return;
    this.size = size;
    this.sizes.push(size);
    this.lowWater = Math.min(this.lowWater, size);
  }

  private noteSectors(from: number, to: number): void {
    for (let s = Math.floor(from / SECTOR_BYTES); s * SECTOR_BYTES < to; s++) {
      let versions = this.dirty.get(s);
      if (!versions) this.dirty.set(s, (versions = []));
      const at = s * SECTOR_BYTES;
      const copy = Buffer.alloc(SECTOR_BYTES);
      this.data.copy(copy, 0, at, Math.min(at + SECTOR_BYTES, this.data.length));
      versions.push(copy);
    }
  }

  write(buffers: readonly Uint8Array[], position: number): void {
    let total = 0;
    for (const b of buffers) total += b.byteLength;
    if (total === 0) return;
    const end = position + total;
    this.reserve(end);
    let at = position;
    for (const b of buffers) {
      this.data.set(b, at);
      at += b.byteLength;
    }
    this.noteSize(Math.max(this.size, end));
    this.noteSectors(position, end);
  }

  truncate(length: number): void {
    if (length < this.size) {
      this.data.fill(0, length, this.size);
      const oldSize = this.size;
      this.noteSize(length);
      // The sector holding the new end changed; sectors past it read as zero until regrown.
      if (length % SECTOR_BYTES !== 0) this.noteSectors(length, Math.min(oldSize, length + 1));
    } else if (length > this.size) {
      this.reserve(length);
      this.noteSize(length);
    }
  }

  datasync(): void {
    if (this.dirty.size === 0 && this.sizes.length === 0) return;
    const next = Buffer.alloc(this.size);
    this.durable.copy(next, 0, 0, Math.min(this.durable.length, this.lowWater, this.size));
    for (const s of this.dirty.keys()) {
      const at = s * SECTOR_BYTES;
      if (at >= this.size) continue;
      this.data.copy(next, at, at, Math.min(at + SECTOR_BYTES, this.size));
    }
    this.durable = next;
    this.dirty.clear();
    this.sizes = [];
    this.lowWater = this.size;
  }

  /** Bytes after a power loss, per `shape`. */
  crashed(shape: CrashShape, rng: Rng, report: CrashReport, keep?: (position: number) => boolean | undefined): Buffer {
    const sizes = [this.durable.length, ...this.sizes];
    const size = shape === 'lose-all' ? sizes[0] : shape === 'keep-all' ? this.size : sizes[Math.floor(rng() * sizes.length)];
    const out = Buffer.alloc(size);
    this.durable.copy(out, 0, 0, Math.min(this.durable.length, size));
    for (const [s, versions] of this.dirty) {
      report.dirtySectors++;
      // 0: the durable content; i > 0: the i-th version written since.
      const forced = keep?.(s * SECTOR_BYTES);
      const pick =
        forced !== undefined ? (forced ? versions.length : 0)
        : shape === 'lose-all' ? 0
        : shape === 'keep-all' ? versions.length
        : Math.floor(rng() * (versions.length + 1));
      if (pick === 0) continue;
      report.keptSectors++;
      const at = s * SECTOR_BYTES;
      if (at < size) versions[pick - 1].copy(out, at, 0, Math.min(SECTOR_BYTES, size - at));
    }
    return out;
  }
}

type DirOp = { kind: 'link'; name: string; inode: Inode } | { kind: 'unlink'; name: string } | { kind: 'rename'; from: string; to: string };

/** One directory: its entries now, its entries as last synced, and the operations in between. */
class Directory {
  readonly entries = new Map<string, Inode>();
  readonly durableEntries = new Map<string, Inode>();
  pending: DirOp[] = [];

  apply(op: DirOp, target: Map<string, Inode>): void {
    if (op.kind === 'link') target.set(op.name, op.inode);
    else if (op.kind === 'unlink') target.delete(op.name);
    else {
      const inode = target.get(op.from);
      if (!inode) return; // source never became durable: the rename is a no-op on disk
      target.delete(op.from);
      target.set(op.to, inode);
    }
  }

  sync(): void {
    for (const op of this.pending) this.apply(op, this.durableEntries);
    this.pending = [];
  }
}

/**
 * The simulated disk. Create one per test, hand `disk.io()` to `Walrus.open({ io })`, call
 * `disk.crash(rng)` to pull the plug, then open again with `disk.afterCrash()`.
 */
export class PowerLossDisk {
  private dirs = new Map<string, Directory>();
  private generationValue = 0;
  private crashes = 0;
  private view: PowerLossIO;

  /**
   * `syncTurns`: event-loop turns each fdatasync, directory fsync and zero-fill takes before it acts
   * (default 1). The fs backend runs those on libuv's thread pool, so other engine work interleaves
   * with them; 0 makes them act at once, which hides races between a sync and the engine's own state.
   */
  constructor(readonly options: { syncTurns?: number } = {}) {
    this.view = new PowerLossIO(this, 0);
  }

  /**
   * Fault injection for writes: called before every `writev`; returning a byte count makes the write
   * store only that many leading bytes and then fail with ENOSPC (a short write followed by a full
   * disk), undefined lets it through.
   */
  writeFault: ((path: string, position: number, bytes: number) => number | undefined) | null = null;

  /** Fault injection for syncs: when it returns true for a file, its `datasync` fails with EIO and makes nothing durable. */
  syncFault: ((path: string) => boolean) | null = null;

  /** @internal Waits the configured turns, as a thread-pool round trip would. */
  async slowOp(): Promise<void> {
    for (let i = 0; i < (this.options.syncTurns ?? 1); i++) await new Promise((r) => setImmediate(r));
  }

  /** The FileIO of the current generation. */
  io(): PowerLossIO {
    return this.view;
  }

  /** Generation number; views and handles of older generations fail with EIO. */
  get generation(): number {
    return this.generationValue;
  }

  get crashCount(): number {
    return this.crashes;
  }

  /**
   * Pulls the plug: every unsynced byte and directory operation survives, vanishes or tears as `rng`
   * decides (see the file comment), and the current generation ends.
   */
  crash(rng: Rng, shape?: CrashShape, keep?: SectorChoice): CrashReport {
    const r = rng();
    const chosen: CrashShape = shape ?? (r < 0.2 ? 'lose-all' : r < 0.4 ? 'keep-all' : 'random');
    const report: CrashReport = { shape: chosen, dirtySectors: 0, keptSectors: 0, pendingDirOps: 0, keptDirOps: 0 };
    const rebuilt = new Map<Inode, Inode>();
    const nextDirs = new Map<string, Directory>();
    for (const [path, dir] of this.dirs) {
      const kept = chosen === 'lose-all' ? 0 : chosen === 'keep-all' ? dir.pending.length : Math.floor(rng() * (dir.pending.length + 1));
      report.pendingDirOps += dir.pending.length;
      report.keptDirOps += kept;
      const names = new Map(dir.durableEntries);
      for (const op of dir.pending.slice(0, kept)) dir.apply(op, names);
      const next = new Directory();
      for (const [name, inode] of names) {
        let after = rebuilt.get(inode);
        const full = `${path}/${name}`;
        if (!after) rebuilt.set(inode, (after = Inode.fromBytes(inode.crashed(chosen, rng, report, keep && ((position) => keep(full, position))))));
        next.entries.set(name, after);
        next.durableEntries.set(name, after);
      }
      nextDirs.set(path, next);
    }
    this.dirs = nextDirs;
    this.generationValue++;
    this.crashes++;
    this.view = new PowerLossIO(this, this.generationValue);
    return report;
  }

  /** The FileIO to reopen with after `crash` (same as `io()`; named for readability at call sites). */
  afterCrash(): PowerLossIO {
    return this.view;
  }

  /** Current bytes of a file (test inspection), or null. */
  peek(path: string): Buffer | null {
    const p = resolve(path);
    const inode = this.dirs.get(dirname(p))?.entries.get(basename(p));
    return inode ? Buffer.from(inode.data.subarray(0, inode.size)) : null;
  }

  // ---- operations used by the views ---------------------------------------------------------

  /** @internal */
  checkGeneration(generation: number, syscall: string, path: string): void {
    if (generation !== this.generationValue) throw errno('EIO', syscall, path);
  }

  /** @internal */
  dir(path: string, syscall: string): Directory {
    const dir = this.dirs.get(path);
    if (!dir) throw errno('ENOENT', syscall, path);
    return dir;
  }

  /** @internal */
  mkdirp(path: string): void {
    let p = resolve(path);
    const chain: string[] = [];
    while (!this.dirs.has(p)) {
      chain.push(p);
      const parent = dirname(p);
      if (parent === p) break;
      p = parent;
    }
    for (const d of chain) this.dirs.set(d, new Directory());
  }

  /** @internal */
  subdirectories(path: string): string[] {
    const out: string[] = [];
    for (const d of this.dirs.keys()) if (d !== path && dirname(d) === path) out.push(basename(d));
    return out;
  }
}

/** One generation's FileIO view of a PowerLossDisk. */
export class PowerLossIO implements FileIO {
  readonly name = 'mem';

  constructor(
    private readonly disk: PowerLossDisk,
    private readonly generation: number,
  ) {}

  private locate(path: string, syscall: string): { dir: Directory; name: string; full: string } {
    const full = resolve(path);
    this.disk.checkGeneration(this.generation, syscall, full);
    return { dir: this.disk.dir(dirname(full), syscall), name: basename(full), full };
  }

  async open(path: string, options: { create: boolean }): Promise<FileHandle> {
    const { dir, name, full } = this.locate(path, 'open');
    let inode = dir.entries.get(name);
    if (options.create) {
      if (inode) throw errno('EEXIST', 'open', full);
      inode = new Inode();
      const op: DirOp = { kind: 'link', name, inode };
      dir.apply(op, dir.entries);
      dir.pending.push(op);
    } else if (!inode) {
      throw errno('ENOENT', 'open', full);
    }
    return new PowerLossHandle(this.disk, this.generation, full, inode);
  }

  async mkdirp(path: string): Promise<void> {
    this.disk.checkGeneration(this.generation, 'mkdir', path);
    this.disk.mkdirp(path);
  }

  async readdir(path: string): Promise<string[]> {
    const full = resolve(path);
    this.disk.checkGeneration(this.generation, 'scandir', full);
    const dir = this.disk.dir(full, 'scandir');
    return [...dir.entries.keys(), ...this.disk.subdirectories(full)];
  }

  async unlink(path: string): Promise<void> {
    const { dir, name, full } = this.locate(path, 'unlink');
    if (!dir.entries.has(name)) throw errno('ENOENT', 'unlink', full);
    const op: DirOp = { kind: 'unlink', name };
    dir.apply(op, dir.entries);
    dir.pending.push(op);
  }

  async rename(from: string, to: string): Promise<void> {
    const a = this.locate(from, 'rename');
    const b = this.locate(to, 'rename');
    if (!a.dir.entries.has(a.name)) throw errno('ENOENT', 'rename', a.full);
    if (a.dir !== b.dir) throw errno('EXDEV', 'rename', b.full); // the engine renames within one directory only
    const op: DirOp = { kind: 'rename', from: a.name, to: b.name };
    a.dir.apply(op, a.dir.entries);
    a.dir.pending.push(op);
  }

  async syncDir(path: string): Promise<void> {
    await this.disk.slowOp();
    const full = resolve(path);
    this.disk.checkGeneration(this.generation, 'fsync', full);
    this.disk.dir(full, 'fsync').sync();
  }

  async readFile(path: string): Promise<Buffer | null> {
    const { dir, name } = this.locate(path, 'open');
    const inode = dir.entries.get(name);
    return inode ? Buffer.from(inode.data.subarray(0, inode.size)) : null;
  }
}

class PowerLossHandle implements FileHandle {
  private closed = false;

  constructor(
    private readonly disk: PowerLossDisk,
    private readonly generation: number,
    readonly path: string,
    private readonly inode: Inode,
  ) {}

  private check(syscall: string): void {
    this.disk.checkGeneration(this.generation, syscall, this.path);
    if (this.closed) throw errno('EBADF', syscall, this.path);
  }

  async size(): Promise<number> {
    this.check('fstat');
    return this.inode.size;
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    this.check('pwritev');
    let total = 0;
    for (const b of buffers) total += b.byteLength;
    const allowed = this.disk.writeFault?.(this.path, position, total);
    if (allowed === undefined) return this.inode.write(buffers, position);
    const kept: Uint8Array[] = [];
    let left = Math.max(0, Math.min(allowed, total));
    for (const b of buffers) {
      if (left === 0) break;
      kept.push(b.subarray(0, Math.min(left, b.byteLength)));
      left -= Math.min(left, b.byteLength);
    }
    this.inode.write(kept, position);
    throw errno('ENOSPC', 'pwritev', this.path);
  }

  async datasync(): Promise<void> {
    await this.disk.slowOp();
    this.check('fdatasync');
    if (this.disk.syncFault?.(this.path)) throw errno('EIO', 'fdatasync', this.path);
    this.inode.datasync();
  }

  async read(buffer: Uint8Array, bufferOffset: number, length: number, position: number): Promise<number> {
    this.check('pread');
    const n = Math.max(0, Math.min(length, this.inode.size - position));
    if (n > 0) buffer.set(this.inode.data.subarray(position, position + n), bufferOffset);
    return n;
  }

  async truncate(length: number): Promise<void> {
    this.check('ftruncate');
    this.inode.truncate(length);
  }

  async preallocateZeroed(length: number): Promise<void> {
    await this.disk.slowOp();
    this.check('fallocate');
    const from = this.inode.size;
    if (length > from) this.inode.write([Buffer.alloc(length - from)], from);
  }

  async close(): Promise<void> {
    // Closing after a crash is harmless (the engine's cleanup may run late); closing twice is not.
    if (this.closed) throw errno('EBADF', 'close', this.path);
    this.closed = true;
  }
}

/**
 * Promise-free callback layer over one `@walrus/uring-napi` ring: ids, completion dispatch, a cap on
 * operations in flight, and errno → Node-style error mapping. uring-file-io.ts builds files on it.
 *
 * Completion accounting: each operation owns one id and posts exactly one CQE (a linked
 * write→fdatasync is two operations, two ids). The ring's CQ holds `cqEntries`; we never have more
 * CQEs outstanding than that, so the kernel never has to buffer overflowed completions. Work past
 * the cap waits in `backlog` (FIFO) and is submitted as completions free room.
 */
import assert from 'node:assert';
import { getSystemErrorMap } from 'node:util';

/**
 * The addon's ring as native/index.d.ts declares it. Restated here because the package is an
 * optional dependency: the engine must type-check where it is not installed.
 */
export interface NativeRing {
  readonly sqEntries: number;
  readonly cqEntries: number;
  readonly inflight: number;
  write(id: number, fd: number, buffer: Uint8Array, position: number, syncId: number): void;
  writev(id: number, fd: number, buffers: readonly Uint8Array[], position: number, syncId: number): void;
  fsync(id: number, fd: number, datasync: boolean): void;
  read(id: number, fd: number, buffer: Uint8Array, position: number): void;
  close(): void;
}

/** The `@walrus/uring-napi` module (injected so tests and backend selection control loading). */
export interface UringAddon {
  Ring: new (entries: number, onComplete: (pairCount: number) => void, completions: Int32Array) => NativeRing;
  allocAligned(bytes: number, alignment: number): Buffer;
  /** posix_fadvise(POSIX_FADV_RANDOM); 0 or a positive errno. */
  fadviseRandom(fd: number): number;
  O_DIRECT: number;
}

/** Package name of the addon; a variable so TypeScript does not resolve the optional dependency. */
const ADDON_PACKAGE: string = '@walrus/uring-napi';

/** Imports the addon; rejects with its clear "not built" error when it is missing. */
export async function loadUringAddon(): Promise<UringAddon> {
  return (await import(ADDON_PACKAGE)) as UringAddon;
}

/** Receives an operation's result: bytes transferred, 0 for fsync, or a negative errno. */
export type CompletionCallback = (res: number) => void;

/** Submission-queue size. 256 covers a commit cycle of every open segment; the CQ is twice that. */
export const RING_ENTRIES = 256;
/** Most buffers in one IORING_OP_WRITEV (the kernel's UIO_MAXIOV). */
export const WRITEV_BUFFERS_MAX = 1024;
/** The sync half of a link whose write failed or was short completes with this (-ECANCELED). */
export const ECANCELED = -125;

const errnoMap = getSystemErrorMap();

/** A Node-style error (`code`, negative `errno`, `syscall`, `path`) for a negative io_uring result. */
export function errnoError(res: number, syscall: string, path: string): NodeJS.ErrnoException {
  const [code, description] = errnoMap.get(res) ?? ['EUNKNOWN', `unknown error ${res}`];
  const error: NodeJS.ErrnoException = new Error(`${code}: ${description}, ${syscall} '${path}'`);
  error.code = code;
  error.errno = res;
  error.syscall = syscall;
  error.path = path;
  return error;
}

/** One io_uring ring with callback dispatch. Single-threaded: use it from the loop that created it. */
export class UringRing {
  readonly ring: NativeRing;
  private readonly completions: Int32Array;
  /**
   * Held here because the addon references it weakly while idle (so an unreachable ring can be
   * collected); without this field the garbage collector would take it between bursts of I/O.
   */
  private readonly onComplete: (count: number) => void;
  /** Callback per id; `undefined` marks a free id. */
  private readonly callbacks: (CompletionCallback | undefined)[] = [];
  private readonly freeIds: number[] = [];
  /** CQEs that may still be posted; kept ≤ `cqeBudgetMax`. */
  private cqeOutstanding = 0;
  private readonly cqeBudgetMax: number;
  /** Submissions waiting for CQ room, with the CQEs each will post. */
  private readonly backlog: { cqes: number; submit: () => void }[] = [];

  constructor(addon: UringAddon, entries = RING_ENTRIES) {
    // At most one (id, res) pair per CQE slot per drain; the addon loops when more are ready.
    const completions = new Int32Array(2 * 2 * entries);
    this.completions = completions;
    this.onComplete = (count) => this.dispatch(count);
    this.ring = new addon.Ring(entries, this.onComplete, completions);
    this.cqeBudgetMax = this.ring.cqEntries;
  }

  /** Operations (CQEs) submitted or queued and not yet completed. */
  get pending(): number {
    return this.cqeOutstanding + this.backlog.length;
  }

  /** IORING_OP_WRITE; with `onSync`, linked to an fdatasync of the same fd in the same submission. */
  write(fd: number, buffer: Uint8Array, position: number, onWrite: CompletionCallback, onSync?: CompletionCallback): void {
    const cqes = onSync === undefined ? 1 : 2;
    this.whenRoom(cqes, () => {
      const id = this.take(onWrite);
      const syncId = onSync === undefined ? -1 : this.take(onSync);
      this.guard([id, syncId], () => this.ring.write(id, fd, buffer, position, syncId));
    });
  }

  /** IORING_OP_WRITEV of 1..1024 buffers; `onSync` as in `write`. */
  writev(fd: number, buffers: readonly Uint8Array[], position: number, onWrite: CompletionCallback, onSync?: CompletionCallback): void {
    assert(buffers.length >= 1 && buffers.length <= WRITEV_BUFFERS_MAX);
    const cqes = onSync === undefined ? 1 : 2;
    this.whenRoom(cqes, () => {
      const id = this.take(onWrite);
      const syncId = onSync === undefined ? -1 : this.take(onSync);
      this.guard([id, syncId], () => this.ring.writev(id, fd, buffers, position, syncId));
    });
  }

  /** IORING_OP_FSYNC (fdatasync when `datasync`). */
  fsync(fd: number, datasync: boolean, onDone: CompletionCallback): void {
    this.whenRoom(1, () => {
      const id = this.take(onDone);
      this.guard([id], () => this.ring.fsync(id, fd, datasync));
    });
  }

  /** IORING_OP_READ of up to `buffer.byteLength` bytes. */
  read(fd: number, buffer: Uint8Array, position: number, onDone: CompletionCallback): void {
    this.whenRoom(1, () => {
      const id = this.take(onDone);
      this.guard([id], () => this.ring.read(id, fd, buffer, position));
    });
  }

  /** Closes the ring; the caller has awaited everything it submitted. */
  close(): void {
    assert.equal(this.pending, 0, 'ring closed with operations in flight');
    this.ring.close();
  }

  private whenRoom(cqes: number, submit: () => void): void {
    if (this.backlog.length === 0 && this.cqeOutstanding + cqes <= this.cqeBudgetMax) {
      this.cqeOutstanding += cqes;
      submit();
    } else {
      this.backlog.push({ cqes, submit });
    }
  }

  private take(callback: CompletionCallback): number {
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.callbacks.length;
    this.callbacks[id] = callback;
    return id;
  }

  /** Runs a submission; if the kernel refuses it (io_uring_enter failed), fails its callbacks instead. */
  private guard(ids: number[], submit: () => void): void {
    try {
      submit();
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).errno;
      const res = typeof errno === 'number' && errno < 0 ? errno : -5; // EIO when the addon gave none
      for (const id of ids) if (id >= 0) this.complete(id, res);
    }
  }

  private dispatch(count: number): void {
    const completions = this.completions;
    for (let i = 0; i < count; i++) this.complete(completions[2 * i], completions[2 * i + 1]);
    while (this.backlog.length > 0 && this.cqeOutstanding + this.backlog[0].cqes <= this.cqeBudgetMax) {
      const next = this.backlog.shift()!;
      this.cqeOutstanding += next.cqes;
      next.submit();
    }
  }

  private complete(id: number, res: number): void {
    const callback = this.callbacks[id];
    assert(callback !== undefined, `completion for unknown id ${id}`);
    this.callbacks[id] = undefined;
    this.freeIds.push(id);
    this.cqeOutstanding--;
    // A throwing callback must not lose the other completions of this drain.
    try {
      callback(res);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

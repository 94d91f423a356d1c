/**
 * One file of the io_uring backend: O_DIRECT writes where they are safe, buffered writes elsewhere,
 * write→fdatasync linked in one submission.
 *
 * Two descriptors per file: `fd` (buffered) for reads, truncation, growth and syncs, and `directFd`
 * (O_DIRECT; -1 under policy `never` or where the filesystem refuses it). A write goes direct when
 * the policy allows it — `synced` (default): only `writevAndSync`; `always`: plain `writev` too —
 * and the pages it touches lie wholly inside the file's current size, the preallocated zero-filled
 * segment space, so a direct write never changes the file size and its fdatasync needs no metadata.
 * Every other write goes through the page cache with writevSync (then a ring fdatasync when synced).
 * Why `synced`: an O_DIRECT write waits for the device, which pays off when an fdatasync follows at
 * once and loses 2-20x to a page-cache copy when none does (bench/engine-backends.ts).
 *
 * Unaligned writes. The engine packs entries back to back, so writes start and end mid-page while
 * O_DIRECT moves whole, aligned pages. A direct write therefore rewrites every page it touches: the
 * staging buffer is filled with the current contents of its first and last page, then the new bytes
 * are copied over. The page contents come from `tailPages`, copies of the last page of recent direct
 * writes (an append nearly always starts in the last page of its block's previous append), else from
 * a read of the disk. Invariant: a page in `tailPages` equals what the disk holds for it once every
 * submitted write completes; any write covering a cached page updates or forgets it.
 *
 * Ordering. A direct write must not be in flight together with another write to one of its pages:
 * the kernel may complete them in either order and the older page image would win. `spans` holds the
 * pages of direct writes in flight (page-cache writes are synchronous, never in flight); every write
 * waits for overlapping spans to finish (their writes, not their syncs) before it touches its pages.
 * Mixing the two kinds on one page is coherent: the kernel writes back and drops cached pages before
 * a direct write or read of them. Appends to one file thus proceed one write at a time, while
 * each write's fdatasync overlaps the next write.
 *
 * Reads go through the page cache (buffered fd), which O_DIRECT writes bypass. The kernel drops cached
 * copies of the pages a direct write touched before it posts the completion, but that invalidation
 * can fail if a reader holds the page at that moment, leaving a stale page (missing newer entries)
 * in the cache. So a read never runs while a direct write to its pages is in flight (it waits on the
 * span, as writes do), readahead is off on the buffered fd (POSIX_FADV_RANDOM) so no read pulls in
 * pages it did not ask for, and page images for composing writes are read with O_DIRECT. Handles of
 * the same file opened separately do not coordinate: open a file once while it is being written.
 *
 * Torn pages: rewriting a page re-sends bytes already acknowledged, identical to what is on disk, so a
 * torn sector write on power loss leaves old or new bytes that agree on all acknowledged data — the
 * same exposure as the page cache writing back a whole page under the fs backend.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { FileHandle } from '../file-io.js';
import { PAGE_BYTES, type AlignedBufferPool } from './aligned-buffer-pool.js';
import { TailPageCache } from './tail-page-cache.js';
import { ZeroedPages } from './zeroed-pages.js';
import { ECANCELED, WRITEV_BUFFERS_MAX, errnoError, type UringRing } from './uring-ring.js';
import { dropFront, preadFully, writevFully } from '../sync-io.js';

/** Largest write staged for O_DIRECT; bigger writes take the page cache rather than a huge copy. */
export const DIRECT_WRITE_BYTES_MAX = 8 * 1024 * 1024;
/** Zero-fill chunk when preallocating; matches the fs backend's 1 MiB. */
export const ZERO_CHUNK_BYTES = 1024 * 1024;

const ftruncate = promisify(fs.ftruncate);

/** Pages [firstPage, lastPage] of a write in flight; `done` settles when its bytes are written. */
interface Span {
  firstPage: number;
  lastPage: number;
  done: Promise<void>;
  release: () => void;
}

/** What the handle needs from its FileIO: the ring, the staging pool and a shared zero page run. */
export interface UringFileContext {
  ring: UringRing;
  pool: AlignedBufferPool;
  zeros(): Buffer;
}

/** A FileHandle on one io_uring ring. */
export class UringFileHandle implements FileHandle {
  /** File size as this handle last made or saw it; direct writes stay below it. */
  private sizeBytes: number;
  private readonly tailPages = new TailPageCache();
  private readonly zeroedPages = new ZeroedPages();
  private readonly spans = new Set<Span>();

  constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly directFd: number,
    sizeBytes: number,
    private readonly context: UringFileContext,
    /** Plain `writev` goes direct too (policy `always`); else only `writevAndSync` does. */
    private readonly directUnsynced: boolean,
  ) {
    this.sizeBytes = sizeBytes;
  }

  /** True when this file accepted O_DIRECT at open. */
  get direct(): boolean {
    return this.directFd >= 0;
  }

  async size(): Promise<number> {
    return fs.fstatSync(this.fd).size;
  }

  writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    return this.write(buffers, position, false);
  }

  writevAndSync(buffers: readonly Uint8Array[], position: number, onWritten?: () => void): Promise<void> {
    return this.write(buffers, position, true, onWritten);
  }

  datasync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.context.ring.fsync(this.fd, true, (res) => (res < 0 ? reject(errnoError(res, 'fdatasync', this.path)) : resolve()));
    });
  }

  async read(buffer: Uint8Array, bufferOffset: number, length: number, position: number): Promise<number> {
    if (length <= 0) return 0;
    // Wait out direct writes to the pages we read (see "Reads" above), then a synchronous pread on the
    // buffered fd as the fs backend does: page-cache reads cost a few µs, less than a loop turn.
    const firstPage = Math.floor(position / PAGE_BYTES);
    const lastPage = Math.floor((position + length - 1) / PAGE_BYTES);
    for (let blocker = this.overlapping(firstPage, lastPage); blocker !== undefined; blocker = this.overlapping(firstPage, lastPage)) {
      await blocker.done;
    }
    return preadFully(this.fd, buffer, bufferOffset, length, position);
  }

  async truncate(length: number): Promise<void> {
    await this.settle();
    await ftruncate(this.fd, length);
    this.sizeBytes = length;
    this.tailPages.forgetFrom(Math.floor(length / PAGE_BYTES));
    this.zeroedPages.forgetFrom(Math.floor(length / PAGE_BYTES));
  }

  async preallocateZeroed(length: number): Promise<void> {
    await this.settle();
    const start = this.sizeBytes;
    if (length <= start) return;
    const zeros = this.context.zeros();
    // Unaligned head and tail through the page cache; the aligned middle direct, extending the file.
    const middleStart = Math.min(length, Math.ceil(start / PAGE_BYTES) * PAGE_BYTES);
    const middleEnd = this.directFd >= 0 ? Math.max(middleStart, Math.floor(length / PAGE_BYTES) * PAGE_BYTES) : middleStart;
    if (middleStart > start) await this.writeFully(this.fd, [zeros.subarray(0, middleStart - start)], start, false, 1);
    for (let at = middleStart; at < middleEnd; at += ZERO_CHUNK_BYTES) {
      const n = Math.min(ZERO_CHUNK_BYTES, middleEnd - at);
      await this.writeFully(this.directFd, [zeros.subarray(0, n)], at, false, PAGE_BYTES);
    }
    for (let at = middleEnd; at < length; at += ZERO_CHUNK_BYTES) {
      const n = Math.min(ZERO_CHUNK_BYTES, length - at);
      await this.writeFully(this.fd, [zeros.subarray(0, n)], at, false, 1);
    }
    this.sizeBytes = length;
    this.zeroedPages.zeroed(start, length);
  }

  discard(from: number, to: number): void {
    // Whole pages only, all below the file's end: composing a write may then fill them with zeros.
    this.tailPages.forget(Math.floor(from / PAGE_BYTES), Math.ceil(to / PAGE_BYTES) - 1);
    this.zeroedPages.zeroed(from, Math.min(to, this.sizeBytes));
  }

  async close(): Promise<void> {
    await this.settle();
    fs.closeSync(this.fd);
    if (this.directFd >= 0) fs.closeSync(this.directFd);
  }

  /** Waits until no write of this handle is in flight. */
  private async settle(): Promise<void> {
    while (this.spans.size > 0) await this.spans.values().next().value!.done;
  }

  private async write(buffers: readonly Uint8Array[], position: number, sync: boolean, onWritten?: () => void): Promise<void> {
    let total = 0;
    for (const b of buffers) total += b.byteLength;
    if (total === 0) {
      onWritten?.();
      if (sync) await this.datasync();
      return;
    }
    const end = position + total;
    const firstPage = Math.floor(position / PAGE_BYTES);
    const lastPage = Math.floor((end - 1) / PAGE_BYTES);
    const direct =
      this.directFd >= 0 &&
      (sync || this.directUnsynced) &&
      (lastPage + 1) * PAGE_BYTES <= this.sizeBytes &&
      total <= DIRECT_WRITE_BYTES_MAX;
    // Check and register with no await in between, or a write arriving meanwhile could slip past.
    for (let blocker = this.overlapping(firstPage, lastPage); blocker !== undefined; blocker = this.overlapping(firstPage, lastPage)) {
      await blocker.done;
    }
    if (!direct) return this.writeBuffered(buffers, position, end, firstPage, lastPage, sync, onWritten);
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const span: Span = { firstPage, lastPage, done, release };
    span.release = () => {
      this.spans.delete(span);
      release();
    };
    this.spans.add(span);
    try {
      await this.writeDirect(buffers, position, end, span, sync, onWritten);
    } finally {
      span.release();
    }
  }

  /** An in-flight direct write sharing a page with [firstPage, lastPage]. */
  private overlapping(firstPage: number, lastPage: number): Span | undefined {
    if (this.spans.size === 0) return undefined;
    for (const s of this.spans) {
      if (s.firstPage <= lastPage && firstPage <= s.lastPage) return s;
    }
    return undefined;
  }

  private async writeDirect(
    buffers: readonly Uint8Array[],
    position: number,
    end: number,
    span: Span,
    sync: boolean,
    onWritten?: () => void,
  ): Promise<void> {
    const alignedStart = span.firstPage * PAGE_BYTES;
    const bytes = (span.lastPage + 1) * PAGE_BYTES - alignedStart;
    const staging = this.context.pool.take(bytes);
    const view = staging.subarray(0, bytes);
    const lastPageOffset = bytes - PAGE_BYTES;
    if (position > alignedStart) this.loadPage(span.firstPage, view, 0);
    if (end < alignedStart + bytes && (lastPageOffset > 0 || position === alignedStart)) this.loadPage(span.lastPage, view, lastPageOffset);
    this.zeroedPages.markWritten(span.firstPage, span.lastPage);
    let at = position - alignedStart;
    for (const b of buffers) {
      view.set(b, at);
      at += b.byteLength;
    }
    if (span.lastPage > span.firstPage) this.tailPages.forget(span.firstPage, span.lastPage - 1);
    this.tailPages.set(span.lastPage, view.subarray(lastPageOffset));
    try {
      // Once written (not on failure): later writes to these pages may go, and the caller hears of it.
      const written = onWritten
        ? (): void => {
            span.release();
            onWritten();
          }
        : span.release;
      await this.writeFully(this.directFd, [view], alignedStart, sync, PAGE_BYTES, written);
    } catch (error) {
      // The disk may hold old, new or mixed pages: forget the cached ones and read them next time.
      this.tailPages.forget(span.firstPage, span.lastPage);
      throw error;
    } finally {
      // Safe: the write completed (its span released) before the promise settled.
      this.context.pool.give(staging);
    }
  }

  /**
   * Page-cache write with writevSync, as the fs backend: io_uring hands each buffered write on ext4
   * to a kernel worker (~45 µs), measured 10-35 % slower (shared/reference/platform-notes.md). Being
   * synchronous it is never in flight, so it needs no span; it has waited out overlapping direct writes.
   */
  private async writeBuffered(
    buffers: readonly Uint8Array[],
    position: number,
    end: number,
    firstPage: number,
    lastPage: number,
    sync: boolean,
    onWritten?: () => void,
  ): Promise<void> {
    this.tailPages.forget(firstPage, lastPage);
    this.zeroedPages.markWritten(firstPage, lastPage);
    writevFully(this.fd, buffers.length <= WRITEV_BUFFERS_MAX ? buffers : [Buffer.concat(buffers)], position, this.path);
    if (end > this.sizeBytes) this.sizeBytes = end;
    onWritten?.();
    if (sync) await this.datasync();
  }

  /** Copies the current contents of `page` into `into` at `offset` (cached tail page, else disk). */
  private loadPage(page: number, into: Buffer, offset: number): void {
    if (this.zeroedPages.isZero(page)) {
      into.fill(0, offset, offset + PAGE_BYTES);
      return;
    }
    if (this.tailPages.copyTo(page, into, offset)) return;
    // Every write overlapping this page has completed (waitForOverlap), so the disk is current. Read
    // it with O_DIRECT into the aligned staging buffer: a buffered read would pull this page (and
    // readahead its neighbours) into the page cache, where a racing direct write can leave it stale.
    into.fill(0, offset, offset + PAGE_BYTES);
    fs.readSync(this.directFd, into, offset, PAGE_BYTES, page * PAGE_BYTES);
  }

  /**
   * Writes every byte of `buffers` at `position`, then fdatasyncs when `sync` (linked in the same
   * submission). A short write breaks the link (its sync completes -ECANCELED); we resubmit the rest,
   * from the start of the page holding the first unwritten byte when `realign` is PAGE_BYTES
   * (O_DIRECT offsets must stay aligned; re-sending part of a page rewrites identical bytes).
   * `onWritten` runs once all bytes are written, before the sync completes.
   */
  private writeFully(
    fd: number,
    buffers: readonly Uint8Array[],
    position: number,
    sync: boolean,
    realign: number,
    onWritten?: () => void,
  ): Promise<void> {
    const ring = this.context.ring;
    const path = this.path;
    return new Promise<void>((resolve, reject) => {
      const submit = (list: readonly Uint8Array[], at: number): void => {
        let expected = 0;
        for (const b of list) expected += b.byteLength;
        let writeComplete = false;
        const onWrite = (res: number): void => {
          if (res < 0) return reject(errnoError(res, 'write', path));
          if (res === 0) return reject(errnoError(-5, 'write', path)); // no progress: EIO rather than spin
          if (res < expected) {
            const resume = res - (res % realign);
            return submit(dropFront(list, resume), at + resume);
          }
          writeComplete = true;
          onWritten?.();
          if (!sync) resolve();
        };
        const onSync = !sync
          ? undefined
          : (res: number): void => {
              if (res === ECANCELED && !writeComplete) return; // the write failed or was short: handled there
              if (res < 0) return reject(errnoError(res, 'fdatasync', path));
              resolve();
            };
        if (list.length === 1) ring.write(fd, list[0], at, onWrite, onSync);
        else ring.writev(fd, list, at, onWrite, onSync);
      };
      submit(buffers, position);
    });
  }
}

/** The buffers with their first `bytes` bytes removed. */

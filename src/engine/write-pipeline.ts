/**
 * Group commit. Appends and cursor records queue up; one write cycle takes everything queued, lays
 * it out in blocks, and writes each block's new bytes with one positioned write (runs of different
 * topics concurrently). Under SyncEach a file written by one run in the cycle gets its fdatasync
 * linked to that write (backends with `writevAndSync`, as io_uring); every other file joins the sync
 * stage, where one fdatasync per touched file covers everything written before it began. The next
 * cycle's writes overlap those syncs. Under the other schedules an append resolves as soon as its
 * write returns.
 *
 * Ordering invariant: cycles run one at a time, stage syncs run one at a time, and under SyncEach
 * every cycle's appends complete through one chain (completeInOrder), whichever way they were
 * synced, so per topic the watermarks (written ≥ synced, visible) only move forward, in offset order.
 */
import type { Logger } from 'pino';
import { Block } from './block.js';
import type { CursorStore } from './cursor-store.js';
import type { FileHandle } from './file-io.js';
import type { FsyncSchedule } from './consistency.js';
import type { SegmentManager } from './segment-manager.js';
import type { TopicLog } from './topic-log.js';
import { encodeTarget, writeEntryHeader, writeEntryInline, writeEntryInlineUnsummed, type Crc32, type EncodeTarget } from './entry-format.js';
import type { Crc32Entries } from './entry-checksums.js';
import { encodeBlockHeader } from './block-format.js';
import { IoError, toEngineError, WalrusError } from './errors.js';
import { BLOCK_HEADER_BYTES, ENTRY_HEADER_BYTES } from './limits.js';

/** Payloads at least this large go to the kernel as their own iovec instead of being copied. */
const COPY_BYTES_MAX = 16 * 1024;
/** Staging buffer kept between cycles; larger cycles get a one-off buffer so memory stays flat. */
const STAGING_BYTES_KEPT = 4 * 1024 * 1024;

/** One queued append (a single entry or an atomic batch). */
export interface AppendRequest {
  topic: TopicLog;
  payloads: readonly Uint8Array[];
  /** Encoded bytes: headers plus payloads. */
  bytes: number;
  resolve: (baseOffset: number) => void;
  reject: (error: Error) => void;
}

/** One queued cursor record; always resolved only once durable. */
export interface CursorWrite {
  record: Buffer;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Planned {
  req: AppendRequest;
  block: Block;
  position: number;
  baseOffset: number;
}

interface Run {
  block: Block;
  /** Relative position where this cycle's bytes for the block start (0 when the header goes out too). */
  from: number;
  items: Planned[];
}

/** How far a block is written once a given sync completes. */
interface SyncMark {
  end: number;
  count: number;
}

/** Runs of one cycle written with their own linked fdatasync. */
interface LinkedWrites {
  syncs: Promise<void>[];
  marks: Map<Block, SyncMark>;
  /** When the first linked submission of the cycle went out (performance.now()). */
  startedAt: number;
}

interface SyncWaiter {
  ok: () => void;
  fail: (error: Error) => void;
}

/** What the pipeline needs from its engine. */
export interface PipelineHost {
  readonly segments: SegmentManager;
  readonly cursorStore: CursorStore;
  readonly fsync: FsyncSchedule;
  readonly epoch: number;
  readonly logger: Logger;
  now(): number;
  /** A block was sealed (full, rolled back, …). */
  onSeal(block: Block): void;
  /** Entries of `topic` became visible. */
  onVisible(topic: TopicLog): void;
  /** A cycle wrote this many bytes. */
  onWritten(bytes: number): void;
  /** A group fdatasync took `durationMs` over `files` files. */
  onSync(durationMs: number, files: number): void;
  /** The engine's crc32 (node:zlib's or the addon's), for entries checksummed one by one. */
  readonly crc32: Crc32;
  /** Batched entry checksums (entry-checksums.ts), or null to checksum entry by entry. */
  readonly crc32Entries: Crc32Entries | null;
}

export class WritePipeline {
  private appends: AppendRequest[] = [];
  private cursorWrites: CursorWrite[] = [];
  private scheduled = false;
  private running = false;
  private syncing = false;
  private syncWaiters: SyncWaiter[] = [];
  private readonly dirtyHandles = new Set<FileHandle>();
  private dirtyBlocks = new Map<Block, SyncMark>();
  /** Settles after every cycle handed to completeInOrder so far has completed; never rejects. */
  private completionTail: Promise<void> = Promise.resolve();
  private completionsInFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private intervalTimer: NodeJS.Timeout | null = null;
  /** Set after a failed fdatasync: the page cache may have dropped data, so nothing more is acknowledged. */
  failure: WalrusError | null = null;
  private readonly runBound = (): void => void this.run();
  /**
   * Reused by every cycle for its runs' bytes: a cycle's writes are all awaited before the next cycle
   * encodes, so the buffer is free again by then (profiled: a fresh 256 KiB allocation per cycle cost
   * ~3 % of CPU).
   */
  private staging = encodeTarget(Buffer.allocUnsafe(256 * 1024));
  /** Batched checksums (the addon) with their reusable span list, or null: node:zlib per entry. */
  private readonly checksums: BatchChecksums | null;

  constructor(private readonly host: PipelineHost) {
    this.checksums = host.crc32Entries ? { compute: host.crc32Entries, spans: new Float64Array(2 * 1024) } : null;
  }

  enqueueAppend(req: AppendRequest): void {
    if (this.failure) return req.reject(this.failure);
    req.topic.pendingAppends++;
    this.appends.push(req);
    this.schedule();
  }

  enqueueCursor(write: CursorWrite): void {
    if (this.failure) return write.reject(this.failure);
    this.cursorWrites.push(write);
    this.schedule();
  }

  /** Resolves once everything written so far is fdatasync'd (used by checkpoints and close). */
  syncAll(): Promise<void> {
    const staged = new Promise<void>((resolve, reject) => {
      this.syncWaiters.push({ ok: resolve, fail: reject });
      this.kickSync();
    });
    // Linked write→fdatasync submissions in flight are part of "everything written so far".
    const linked = this.completionTail;
    return staged.then(() => linked);
  }

  /** Resolves when no write cycle or sync is running and nothing is queued. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops queued work without writing it (crash simulation): nothing queued is acknowledged. */
  abandon(): void {
    const error = new IoError('write', new Error('engine crashed'));
    this.failure = error;
    for (const req of this.appends) req.reject(error);
    for (const w of this.cursorWrites) w.reject(error);
    this.appends = [];
    this.cursorWrites = [];
  }

  stopTimers(): void {
    if (this.intervalTimer) clearTimeout(this.intervalTimer);
    this.intervalTimer = null;
  }

  private isIdle(): boolean {
    return (
      !this.running &&
      !this.scheduled &&
      !this.syncing &&
      this.completionsInFlight === 0 &&
      this.appends.length === 0 &&
      this.cursorWrites.length === 0
    );
  }

  private checkIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate, not a microtask: every socket read of this event-loop turn joins the same cycle.
    setImmediate(this.runBound);
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    this.running = true;
    try {
      while (this.appends.length > 0 || this.cursorWrites.length > 0) await this.cycle();
    } finally {
      this.running = false;
      this.checkIdle();
    }
  }

  private async cycle(): Promise<void> {
    const appends = this.appends;
    const cursorWrites = this.cursorWrites;
    this.appends = [];
    this.cursorWrites = [];
    const runs = new Map<Block, Run>();
    for (const req of appends) {
      // Most appends fit the active block: planned synchronously, no promise per append (profiled).
      if (!this.failure && this.place(req, runs)) continue;
      try {
        await this.planWithNewBlock(req, runs);
      } catch (error) {
        req.topic.pendingAppends--;
        req.reject(toEngineError('allocate block', error));
      }
    }
    const { done: written, linked, unlinked } = await this.writeRuns(runs);
    const cursorsOk = await this.writeCursors(cursorWrites);
    if (this.host.fsync.kind === 'sync-each') {
      if (written.length > 0) {
        // Every cycle's appends complete through one ordered chain, whichever way their bytes were
        // synced (linked to the write, or by the sync stage): a later cycle's linked sync may finish
        // before an earlier cycle's stage sync, and it must not make its entries visible first.
        const parts = [...linked.syncs];
        if (unlinked) parts.push(new Promise<void>((ok, fail) => this.syncWaiters.push({ ok, fail })));
        this.completeInOrder(parts, linked, this.completion(written));
      }
      if (cursorsOk.length > 0) this.syncWaiters.push(cursorWaiter(cursorsOk));
      if (this.syncWaiters.length > 0) this.kickSync();
    } else {
      if (written.length > 0) this.completion(written).ok();
      if (cursorsOk.length > 0) {
        this.syncWaiters.push(cursorWaiter(cursorsOk));
        this.kickSync();
      }
      if (written.length > 0 && this.host.fsync.kind === 'interval' && !this.intervalTimer) {
        this.intervalTimer = setTimeout(() => {
          this.intervalTimer = null;
          this.syncAll().catch(() => {});
        }, this.host.fsync.intervalMs);
      }
    }
  }

  private async planWithNewBlock(req: AppendRequest, runs: Map<Block, Run>): Promise<void> {
    if (this.failure) throw this.failure;
    const topic = req.topic;
    const old = topic.active;
    if (old && !old.sealed) this.seal(old);
    const slots = Math.ceil((BLOCK_HEADER_BYTES + req.bytes) / this.host.segments.slotBytes);
    const { segment, slot } = await this.host.segments.allocate(slots);
    const seq = this.host.segments.takeBlockSeq();
    const block = new Block(seq, topic.name, segment, slot, slots, topic.nextOffset, this.host.epoch, { recovered: false });
    segment.blocks.add(block);
    topic.addBlock(block);
    topic.active = block;
    this.place(req, runs);
  }

  /** Lays the request out at the end of its topic's active block; false when it needs a new block. */
  private place(req: AppendRequest, runs: Map<Block, Run>): boolean {
    const topic = req.topic;
    const block = topic.active;
    if (!block || block.sealed || block.writtenEnd + req.bytes > block.capacity) return false;
    let run = runs.get(block);
    if (!run) {
      run = { block, from: block.headerWritten ? block.writtenEnd : 0, items: [] };
      runs.set(block, run);
    }
    run.items.push({ req, block, position: block.writtenEnd, baseOffset: topic.nextOffset });
    topic.nextOffset += req.payloads.length;
    block.writtenEnd += req.bytes;
    block.writtenCount += req.payloads.length;
    return true;
  }

  private seal(block: Block): void {
    block.sealed = true;
    this.host.onSeal(block);
  }

  /**
   * Encodes every run, then writes them: runs of different topics concurrently (a backend whose writes
   * wait for the device, as O_DIRECT does, overlaps them; the fs backend's writes are synchronous
   * anyway), runs of one topic one after another so a failed write stops that topic's later runs.
   * Returns the appends whose bytes reached the OS, each topic's in offset order.
   */
  private async writeRuns(runs: Map<Block, Run>): Promise<{ done: Planned[]; linked: LinkedWrites; unlinked: boolean }> {
    const linked: LinkedWrites = { syncs: [], marks: new Map(), startedAt: 0 };
    if (runs.size === 0) return { done: [], linked, unlinked: false };
    const now = this.host.now();
    // One staging buffer holds every run's copied bytes, back to back, so no run's bytes are reused
    // while another run's write is in flight. Each run gets its place here and is encoded right
    // before its write, so the first write is on its way while the next runs are encoded (measured
    // faster than encoding every run first, at 8 topics per cycle).
    let stagingBytes = 0;
    const byTopic = new Map<TopicLog, Array<{ run: Run; at: number }>>();
    for (const run of runs.values()) {
      const at = stagingBytes;
      stagingBytes += copiedBytes(run);
      const topic = run.items[0].req.topic;
      const list = byTopic.get(topic);
      if (list) list.push({ run, at });
      else byTopic.set(topic, [{ run, at }]);
    }
    const staging = this.stagingFor(stagingBytes);
    // A linked fdatasync per run pays off for a file with one run this cycle; a file with several runs
    // (one per topic appending to it) gets one fdatasync for all of them from the sync stage instead
    // of a device flush per run.
    const runsPerHandle = new Map<FileHandle, number>();
    if (this.host.fsync.kind === 'sync-each') {
      for (const run of runs.values()) {
        const handle = run.block.segment.handle;
        runsPerHandle.set(handle, (runsPerHandle.get(handle) ?? 0) + 1);
      }
    }
    const perTopic = await Promise.all([...byTopic.values()].map((list) => this.writeTopicRuns(list, staging, now, linked, runsPerHandle)));
    const done: Planned[] = [];
    let bytes = 0;
    let unlinked = false;
    for (const result of perTopic) {
      bytes += result.bytes;
      unlinked ||= result.unlinked;
      for (const item of result.done) done.push(item);
    }
    if (bytes > 0) this.host.onWritten(bytes);
    return { done, linked, unlinked };
  }

  /** Writes one topic's runs in order; after a failure the rest are rolled back, not written. */
  private async writeTopicRuns(
    list: Array<{ run: Run; at: number }>,
    staging: EncodeTarget,
    now: number,
    linked: LinkedWrites,
    runsPerHandle: Map<FileHandle, number>,
  ): Promise<{ done: Planned[]; bytes: number; unlinked: boolean }> {
    const done: Planned[] = [];
    let bytes = 0;
    let unlinked = false;
    let failed: { offset: number; error: Error } | null = null;
    const topic = list[0].run.items[0].req.topic;
    for (const { run, at } of list) {
      if (failed) {
        this.rollback(run, failed.error);
        continue;
      }
      const parts = encodeRun(run, now, this.host.epoch, staging, at, this.checksums, this.host.crc32);
      const { block } = run;
      const handle = block.segment.handle;
      const link = handle.writevAndSync !== undefined && runsPerHandle.get(handle) === 1;
      try {
        if (link) {
          // Write and fdatasync in one submission; the cycle goes on once the bytes are written, and
          // the run's appends complete when the sync does (completeInOrder).
          let onWritten!: () => void;
          const written = new Promise<void>((resolve) => (onWritten = resolve));
          if (linked.syncs.length === 0) linked.startedAt = performance.now();
          const synced = handle.writevAndSync!(parts.buffers, block.start + run.from, onWritten);
          synced.catch(() => {}); // a failed write rejects the race below; a failed sync, completeInOrder
          await Promise.race([written, synced]);
          linked.syncs.push(synced);
          linked.marks.set(block, { end: block.writtenEnd, count: block.writtenCount });
        } else {
          await handle.writev(parts.buffers, block.start + run.from);
        }
      } catch (error) {
        const mapped = toEngineError(`write segment ${block.segment.id}`, error);
        this.host.logger.error({ topic: topic.name, segment: block.segment.id, err: mapped.message }, 'append write failed; rolled back');
        failed = { offset: run.items[0].baseOffset, error: mapped };
        await this.scrub(block, run.from, parts.bytes);
        this.rollback(run, mapped);
        continue;
      }
      block.headerWritten = true;
      block.lastTimestamp = now;
      bytes += parts.bytes;
      if (!link) {
        unlinked = true;
        this.dirtyHandles.add(handle);
        this.dirtyBlocks.set(block, { end: block.writtenEnd, count: block.writtenCount });
      }
      for (const item of run.items) done.push(item);
    }
    if (failed) {
      topic.nextOffset = failed.offset;
      // A topic left with no block starts where its refused writes would have started.
      if (topic.blocks.length === 0) topic.resetBase(failed.offset);
      topic.forgetPositionsFrom(failed.offset);
    }
    return { done, bytes, unlinked };
  }

  /**
   * Completes `waiter` once every promise in `parts` (linked write→fdatasync submissions, and the sync
   * stage when some runs went without one) has settled, and only after every earlier cycle's appends
   * have completed: per topic, entries become visible in offset order. A failed sync is fatal, as in
   * the sync stage: nothing after it is acknowledged. (Under SyncEach every cycle's appends go this
   * way, so the order holds across cycles synced either way.)
   */
  private completeInOrder(parts: Promise<void>[], linked: LinkedWrites, waiter: SyncWaiter): void {
    this.completionsInFlight++;
    const linkedSyncs = linked.syncs.length;
    const all = Promise.all(parts);
    // The sync metric covers linked submissions too: from submission to the last sync's completion
    // (the write included, as it is one operation), one "file" per linked sync.
    if (linkedSyncs > 0) {
      Promise.all(linked.syncs).then(
        () => this.host.onSync(performance.now() - linked.startedAt, linkedSyncs),
        () => {},
      );
    }
    all.catch(() => {}); // handled in order below
    this.completionTail = this.completionTail
      .then(() => all)
      .then(
        () => {
          if (this.failure) return waiter.fail(this.failure);
          for (const [block, mark] of linked.marks) {
            if (mark.end > block.syncedEnd) {
              block.syncedEnd = mark.end;
              block.syncedCount = mark.count;
            }
          }
          waiter.ok();
        },
        (error: unknown) => {
          const mapped = error instanceof WalrusError ? error : new IoError('fdatasync', error);
          if (!this.failure) {
            this.failure = mapped;
            this.host.logger.fatal({ err: mapped.message }, 'fdatasync failed: the engine accepts no more writes; reopen it');
          }
          waiter.fail(this.failure);
        },
      )
      .finally(() => {
        this.completionsInFlight--;
        this.checkIdle();
      });
  }

  /**
   * Overwrites with zeros, durably, whatever part of a failed write reached the file, so that no
   * entry the caller was told failed can pass a later recovery scan. Best effort: if even this fails
   * (the disk is still full for the bytes that never landed), the bytes that did land were already
   * allocated and are overwritten; recovery also cuts entries a later block supersedes.
   */
  private async scrub(block: Block, from: number, bytes: number): Promise<void> {
    try {
      await block.segment.handle.writev([Buffer.alloc(bytes)], block.start + from);
    } catch (error) {
      this.host.logger.warn({ segment: block.segment.id, err: (error as Error).message }, 'could not zero a failed write completely');
    }
    try {
      await block.segment.handle.datasync();
    } catch (error) {
      this.host.logger.warn({ segment: block.segment.id, err: (error as Error).message }, 'could not sync the zeroed range of a failed write');
    }
  }

  private stagingFor(bytes: number): EncodeTarget {
    if (bytes <= this.staging.bytes.length) return this.staging;
    if (bytes > STAGING_BYTES_KEPT) return encodeTarget(Buffer.allocUnsafe(bytes));
    this.staging = encodeTarget(Buffer.allocUnsafe(Math.max(bytes, this.staging.bytes.length * 2)));
    return this.staging;
  }

  /**
   * Undoes a run whose write failed: its appends fail, and the block is sealed where valid data ends
   * (or dropped if it holds nothing), so bytes that may have reached the disk are never followed by
   * new entries that could make them look valid.
   */
  private rollback(run: Run, error: Error): void {
    const { block } = run;
    const first = run.items[0];
    const topic = first.req.topic;
    block.writtenEnd = first.position;
    block.writtenCount = first.baseOffset - block.firstOffset;
    block.trimIndex(first.baseOffset);
    if (block.writtenCount === 0 && !block.headerWritten) {
      topic.dropBlock(block);
      block.segment.blocks.delete(block);
      if (topic.active === block) topic.active = null;
    } else if (!block.sealed) {
      this.seal(block);
      if (topic.active === block) topic.active = null;
    }
    for (const item of run.items) {
      topic.pendingAppends--;
      item.req.reject(error);
    }
  }

  private async writeCursors(writes: CursorWrite[]): Promise<CursorWrite[]> {
    if (writes.length === 0) return writes;
    try {
      await this.host.cursorStore.append(writes.map((w) => w.record));
    } catch (error) {
      const mapped = toEngineError('write cursor log', error);
      for (const w of writes) w.reject(mapped);
      return [];
    }
    this.dirtyHandles.add(this.host.cursorStore.handle);
    return writes;
  }

  /** Makes written appends visible in order and resolves them. */
  private completion(items: Planned[]): SyncWaiter {
    return {
      ok: () => {
        const touched = new Set<TopicLog>();
        for (const { req, block, position, baseOffset } of items) {
          const next = baseOffset + req.payloads.length;
          block.visibleEnd = position + req.bytes;
          block.visibleCount = next - block.firstOffset;
          req.topic.visibleNext = next;
          req.topic.pendingAppends--;
          touched.add(req.topic);
          req.resolve(baseOffset);
        }
        for (const topic of touched) this.host.onVisible(topic);
      },
      fail: (error) => {
        for (const { req } of items) {
          req.topic.pendingAppends--;
          req.reject(error);
        }
      },
    };
  }

  private kickSync(): void {
    if (this.syncing) return;
    this.syncing = true;
    void this.syncLoop();
  }

  private async syncLoop(): Promise<void> {
    try {
      while (this.syncWaiters.length > 0) {
        const waiters = this.syncWaiters;
        this.syncWaiters = [];
        const handles = [...this.dirtyHandles];
        this.dirtyHandles.clear();
        const blocks = this.dirtyBlocks;
        this.dirtyBlocks = new Map();
        try {
          if (this.failure) throw this.failure;
          const started = performance.now();
          await Promise.all(handles.map((h) => h.datasync()));
          if (handles.length > 0) this.host.onSync(performance.now() - started, handles.length);
        } catch (error) {
          const mapped = error instanceof WalrusError ? error : new IoError('fdatasync', error);
          if (!this.failure) {
            this.failure = mapped;
            this.host.logger.fatal({ err: mapped.message }, 'fdatasync failed: the engine accepts no more writes; reopen it');
          }
          for (const w of waiters) w.fail(mapped);
          continue;
        }
        for (const [block, mark] of blocks) {
          if (mark.end > block.syncedEnd) {
            block.syncedEnd = mark.end;
            block.syncedCount = mark.count;
          }
        }
        for (const w of waiters) w.ok();
      }
    } finally {
      this.syncing = false;
      this.checkIdle();
    }
  }
}

function cursorWaiter(writes: CursorWrite[]): SyncWaiter {
  return {
    ok: () => {
      for (const w of writes) w.resolve();
    },
    fail: (error) => {
      for (const w of writes) w.reject(error);
    },
  };
}

interface EncodedRun {
  buffers: Uint8Array[];
  /** Bytes the run writes (headers, payloads and the end marker). */
  bytes: number;
}

/**
 * True when the run leaves room for an end marker: 32 zero bytes (an empty entry header) written
 * right after its last entry. The next run of the block starts there and overwrites it. A block's
 * entries are thus always followed on disk by an empty header (or the block's end), so a recovery
 * scan stops cleanly even where the bytes past the end are not zeros: a segment file reused after
 * reclaim (segment-manager.ts "Recycling") still holds the entries of its previous life.
 */
function hasEndMarker(run: Run): boolean {
  return run.block.writtenEnd + ENTRY_HEADER_BYTES <= run.block.capacity;
}

/** Staging bytes a run needs: block header, entry headers, the payloads small enough to copy and the end marker. */
function copiedBytes(run: Run): number {
  let copied = (run.from === 0 ? BLOCK_HEADER_BYTES : 0) + (hasEndMarker(run) ? ENTRY_HEADER_BYTES : 0);
  for (const item of run.items) {
    for (const p of item.req.payloads) copied += ENTRY_HEADER_BYTES + (p.length < COPY_BYTES_MAX ? p.length : 0);
  }
  return copied;
}

/** The addon's batched checksum and the span list reused across runs (grown when a run needs more). */
interface BatchChecksums {
  compute: Crc32Entries;
  spans: Float64Array;
}

/**
 * Encodes one run into `staging` from `start`, in as few buffers as possible: small payloads are
 * copied, large ones passed by reference. With `checksums`, the copied entries are checksummed in
 * one call at the end; the others (and all of them without it) entry by entry.
 */
function encodeRun(run: Run, now: number, epoch: number, staging: EncodeTarget, start: number, checksums: BatchChecksums | null, crc: Crc32): EncodedRun {
  const { block } = run;
  const buffers: Uint8Array[] = [];
  let at = start;
  let segmentStart = start;
  let total = 0;
  if (run.from === 0) {
    encodeBlockHeader({ slotCount: block.slotCount, seq: block.seq, firstOffset: block.firstOffset, epoch: block.epoch, topic: block.topic }).copy(staging.bytes, at);
    at += BLOCK_HEADER_BYTES;
    total += BLOCK_HEADER_BYTES;
  }
  let summed = 0;
  for (const item of run.items) {
    const n = item.req.payloads.length;
    let offset = item.baseOffset;
    let position = item.position;
    for (let i = 0; i < n; i++) {
      const payload = item.req.payloads[i];
      block.noteEntry(offset, position);
      if (payload.length < COPY_BYTES_MAX && checksums) {
        writeEntryInlineUnsummed(staging, at, payload, offset, now, epoch, n - 1 - i);
        if (2 * summed + 2 > checksums.spans.length) {
          const grown = new Float64Array(checksums.spans.length * 2);
          grown.set(checksums.spans);
          checksums.spans = grown;
        }
        checksums.spans[2 * summed] = at;
        checksums.spans[2 * summed + 1] = payload.length;
        summed++;
        at += ENTRY_HEADER_BYTES + payload.length;
      } else if (payload.length < COPY_BYTES_MAX) {
        writeEntryInline(staging, at, payload, offset, now, epoch, n - 1 - i, block.seed, crc);
        at += ENTRY_HEADER_BYTES + payload.length;
      } else {
        writeEntryHeader(staging, at, payload, offset, now, epoch, n - 1 - i, block.seed, crc);
        at += ENTRY_HEADER_BYTES;
        buffers.push(staging.bytes.subarray(segmentStart, at), payload);
        segmentStart = at;
      }
      total += ENTRY_HEADER_BYTES + payload.length;
      offset++;
      position += ENTRY_HEADER_BYTES + payload.length;
    }
  }
  if (summed > 0) checksums!.compute(staging.bytes, checksums!.spans, summed, block.seed);
  if (hasEndMarker(run)) {
    staging.bytes.fill(0, at, at + ENTRY_HEADER_BYTES);
    at += ENTRY_HEADER_BYTES;
    total += ENTRY_HEADER_BYTES;
  }
  if (at > segmentStart) buffers.push(staging.bytes.subarray(segmentStart, at));
  return { buffers, bytes: total };
}

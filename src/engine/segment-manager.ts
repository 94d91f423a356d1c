/**
 * Owns the segment files: creates them at full size, hands out slots in order, keeps one spare
 * segment ready, and deletes or recycles segments that are reclaimed.
 *
 * Under SyncEach segments are zero-filled and synced when created: fdatasync into blocks that
 * already exist on disk skips the journal commit for new extents, which made durable appends
 * 1.5–2× faster here (shared/reference/platform-notes.md), and a full disk then shows up at one
 * clean point — creating a segment. Under the other schedules the zero-fill would double the bytes
 * written for no latency gain, so segments are sized sparse (ftruncate); a full disk then surfaces
 * in a data write, which the write pipeline rolls back.
 */
import assert from 'node:assert';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { FileIO } from './file-io.js';
import { toEngineError } from './errors.js';
import { BLOCK_HEADER_BYTES, SEGMENT_HEADER_BYTES } from './limits.js';
import { Segment } from './segment.js';
import { encodeSegmentHeader, segmentFileName } from './segment-format.js';

/** Zero-fill step of a new segment: the most a durable append may wait behind preallocation. */
const ZERO_FILL_STEP_BYTES = 1024 * 1024;
/** Reclaimed segment files kept ready for reuse; more are deleted. */
export const RECYCLED_MAX = 2;
/** Bytes zeroed at the start of every slot of a recycled file: the page holding its block header. */
const SLOT_HEAD_ZEROED_BYTES = 4096;
assert(SLOT_HEAD_ZEROED_BYTES >= BLOCK_HEADER_BYTES);

/*
 * Recycling (zero-filled segments only, i.e. under SyncEach). Zero-filling a new segment writes as
 * many bytes as the appends that will fill it, and at hundreds of MB/s of durable appends those
 * writes and their syncs compete with the appends' own: a growing log appended 0.46-0.75x as fast
 * as one writing into space written before (bench/probes/segment-growth.ts). In a steady state of
 * produce and consume, a reclaimed segment's file is such space: it is reused under a new id
 * instead of being deleted while a new one is zero-filled. Safe because:
 * - the checkpoint that reclaimed it names it reclaimed until the rename is durable, and recovery
 *   deletes a file so named, so a crash before the rename loses nothing and resurrects nothing;
 * - its old block headers are overwritten with zeros (and, older than the checkpoint, recovery would
 *   ignore them anyway: it only takes block headers newer than the checkpoint's sequence number);
 * - old entries left in a slot never pass as new ones: entry checksums are seeded with their block's
 *   sequence number, and every write ends with an empty entry header (write-pipeline.ts
 *   `hasEndMarker`), so a scan stops at the real end, not at a checksum failure on old bytes;
 * - a file that was ever mapped is deleted instead (entry views of the mapping may outlive it, and
 *   rewriting the file would change them), and reads in progress finish before it is rewritten.
 */

export class SegmentManager {
  readonly segments = new Map<number, Segment>();
  /** The segment slots are handed out from. */
  current: Segment | null = null;
  private spare: Promise<Segment> | null = null;
  nextSegmentId = 1;
  nextBlockSeq = 1;
  /** Block sequence numbers at or above this may not be handed out (see Checkpoint.blockSeqLimit). */
  blockSeqLimit = 1;
  /** Reclaimed segments whose unlink (or recycling rename) is not yet durable; every checkpoint lists them. */
  readonly reclaiming = new Set<number>();
  /** Reclaimed segment files made into fresh, empty segments, next in line as the spare. */
  private readonly recycled: Segment[] = [];
  /** The segment closed last (see Segment.justClosed). */
  private justClosed: Segment | null = null;
  /** Set by close(): a recycle still running stops before renaming or reopening. */
  private stopped = false;

  constructor(
    private readonly io: FileIO,
    readonly dir: string,
    readonly slotBytes: number,
    readonly slotCount: number,
    private readonly logger: Logger,
    private readonly zeroFill: boolean,
    /** Reuse reclaimed files (only when zero-filling: see "Recycling"). */
    private readonly reuseReclaimed: boolean = true,
  ) {}

  /** Bytes of one segment file. */
  get segmentBytes(): number {
    return SEGMENT_HEADER_BYTES + this.slotBytes * this.slotCount;
  }

  /** Hands out `slotCount` consecutive slots, opening a new segment when the current one lacks room. */
  async allocate(slotCount: number): Promise<{ segment: Segment; slot: number }> {
    for (;;) {
      const current = this.current;
      if (current && !current.closed && current.freeSlots >= slotCount) {
        const slot = current.nextSlot;
        current.nextSlot += slotCount;
        if (current.nextSlot >= current.slotCount) current.closed = true;
        // Keep a spare ready once half the current segment is handed out, so a seal rarely waits.
        if (current.nextSlot * 2 >= current.slotCount) this.prepareSpare();
        return { segment: current, slot };
      }
      if (current) current.closed = true;
      const next = await this.takeSpare();
      if (this.justClosed) this.justClosed.justClosed = false;
      this.justClosed = current && !current.isRemoved ? current : null;
      if (this.justClosed) this.justClosed.justClosed = true;
      this.current = next;
    }
  }

  private prepareSpare(): void {
    if (this.spare) return;
    const reused = this.recycled.shift();
    const spare = reused ? Promise.resolve(reused) : this.createSegment();
    spare.catch(() => {}); // surfaced to whoever takes it
    this.spare = spare;
  }

  private async takeSpare(): Promise<Segment> {
    this.prepareSpare();
    const spare = this.spare as Promise<Segment>;
    try {
      return await spare;
    } finally {
      this.spare = null;
    }
  }

  /** Creates, zero-fills and syncs a new segment file (file and directory entry durable). */
  async createSegment(): Promise<Segment> {
    const id = this.nextSegmentId++;
    const path = join(this.dir, segmentFileName(id));
    let handle;
    try {
      handle = await this.io.open(path, { create: true });
    } catch (error) {
      throw toEngineError(`create segment ${path}`, error);
    }
    try {
      await handle.writev([encodeSegmentHeader({ id, slotBytes: this.slotBytes, slotCount: this.slotCount })], 0);
      if (this.zeroFill) {
        // In steps, each synced: on ext4 (data=ordered) an append's fdatasync commits the journal,
        // which first writes out every block newly allocated in it — one 64 MiB zero-fill made the
        // durable appends behind it wait tens of ms (bench-writes p99). A step bounds that wait.
        for (let end = ZERO_FILL_STEP_BYTES; ; end += ZERO_FILL_STEP_BYTES) {
          await handle.preallocateZeroed(Math.min(end, this.segmentBytes));
          await handle.datasync();
          if (end >= this.segmentBytes) break;
        }
      } else {
        await handle.truncate(this.segmentBytes);
      }
      await handle.datasync();
      await this.io.syncDir(this.dir);
    } catch (error) {
      await handle.close().catch(() => {});
      await this.io.unlink(path).catch(() => {});
      this.logger.warn({ segment: id, err: (error as Error).message }, 'could not create segment');
      throw toEngineError(`preallocate segment ${path}`, error);
    }
    const segment = new Segment(id, path, handle, this.slotBytes, this.slotCount);
    this.segments.set(id, segment);
    return segment;
  }

  /** Registers a segment found at recovery. */
  adopt(segment: Segment): void {
    this.segments.set(segment.id, segment);
    if (segment.id >= this.nextSegmentId) this.nextSegmentId = segment.id + 1;
  }

  /**
   * Deletes a reclaimed segment's file, or makes it a fresh segment for reuse (see "Recycling").
   * Readers holding it finish first (the handle closes, or the rewrite starts, when they unpin).
   */
  async remove(segment: Segment): Promise<void> {
    this.segments.delete(segment.id);
    if (this.current === segment) this.current = null;
    if (this.recyclable(segment)) {
      try {
        this.recycled.push(await this.recycle(segment));
        this.reclaiming.delete(segment.id);
        return;
      } catch (error) {
        // Delete what is left. Whatever survives is harmless: a file under the old name with its old
        // header holds only block headers older than the checkpoint (recovery skips them), and one
        // whose header already names the new id is removed by recovery as an unfinished creation.
        if (!this.stopped) this.logger.warn({ segment: segment.id, err: (error as Error).message }, 'could not recycle segment; deleting it');
        await this.io.unlink(segment.path).catch(() => {});
        await this.io.syncDir(this.dir).catch(() => {});
        this.reclaiming.delete(segment.id);
        return;
      }
    }
    segment.markRemoved();
    await this.io.unlink(segment.path);
    await this.io.syncDir(this.dir);
    this.reclaiming.delete(segment.id);
  }

  /** True when `segment`'s file may become the next spare (see "Recycling"). */
  private recyclable(segment: Segment): boolean {
    return (
      this.zeroFill &&
      this.reuseReclaimed &&
      !segment.everMapped &&
      this.recycled.length < RECYCLED_MAX &&
      segment.slotBytes === this.slotBytes &&
      segment.slotCount === this.slotCount
    );
  }

  /** Rewrites a reclaimed segment's file as an empty segment with a new id (see "Recycling"). */
  private async recycle(old: Segment): Promise<Segment> {
    await old.retireForReuse();
    const stopped = (): void => {
      if (this.stopped) throw new Error('segment manager closed');
    };
    const id = this.nextSegmentId++;
    const path = join(this.dir, segmentFileName(id));
    const handle = old.handle;
    try {
      // Old block headers go first, then the header naming the new id; durable before the rename.
      const page = Buffer.alloc(SLOT_HEAD_ZEROED_BYTES);
      for (let slot = 0; slot < old.slotCount; slot++) await handle.writev([page], old.slotPosition(slot));
      await handle.writev([encodeSegmentHeader({ id, slotBytes: this.slotBytes, slotCount: this.slotCount })], 0);
      await handle.datasync();
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    // Closed once, here, whatever follows (a second close could hit a reused descriptor number).
    await handle.close();
    stopped();
    await this.io.rename(old.path, path);
    await this.io.syncDir(this.dir);
    stopped();
    const reopened = await this.io.open(path, { create: false });
    reopened.discard?.(SEGMENT_HEADER_BYTES, this.segmentBytes);
    const segment = new Segment(id, path, reopened, this.slotBytes, this.slotCount);
    this.segments.set(id, segment);
    this.logger.debug({ segment: id, from: old.id }, 'segment file recycled');
    return segment;
  }

  /** Hands out the next block sequence number. */
  takeBlockSeq(): number {
    // The limit is 2^30 numbers past the one at the last checkpoint, and checkpoints come every
    // checkpointBytesInterval bytes with blocks of ≥ 8 KiB: reaching it is a broken invariant.
    assert(this.nextBlockSeq < this.blockSeqLimit, 'block sequence limit reached without a checkpoint');
    return this.nextBlockSeq++;
  }

  /** Closes every handle (the spare included). */
  async close(): Promise<void> {
    this.stopped = true;
    const spare = this.spare;
    this.spare = null;
    if (spare) {
      const s = await spare.catch(() => null);
      if (s) await s.handle.close().catch(() => {});
    }
    for (const s of this.segments.values()) await s.handle.close().catch(() => {});
    this.segments.clear();
  }
}

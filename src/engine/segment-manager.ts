/**
 * Owns the segment files: creates them at full size, hands out slots in order, keeps one spare
 * segment ready, and deletes segments that are reclaimed.
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
import { SEGMENT_HEADER_BYTES } from './limits.js';
import { Segment } from './segment.js';
import { encodeSegmentHeader, segmentFileName } from './segment-format.js';

/** Zero-fill step of a new segment: the most a durable append may wait behind preallocation. */
const ZERO_FILL_STEP_BYTES = 1024 * 1024;

export class SegmentManager {
  readonly segments = new Map<number, Segment>();
  /** The segment slots are handed out from. */
  current: Segment | null = null;
  private spare: Promise<Segment> | null = null;
  nextSegmentId = 1;
  nextBlockSeq = 1;
  /** Block sequence numbers at or above this may not be handed out (see Checkpoint.blockSeqLimit). */
  blockSeqLimit = 1;
  /** Reclaimed segments whose unlink is not yet durable; every checkpoint lists them. */
  readonly reclaiming = new Set<number>();

  constructor(
    private readonly io: FileIO,
    readonly dir: string,
    readonly slotBytes: number,
    readonly slotCount: number,
    private readonly logger: Logger,
    private readonly zeroFill: boolean,
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
      this.current = await this.takeSpare();
    }
  }

  private prepareSpare(): void {
    if (this.spare) return;
    const spare = this.createSegment();
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

  /** Deletes a reclaimed segment's file; readers holding it finish first (the handle closes when unpinned). */
  async remove(segment: Segment): Promise<void> {
    this.segments.delete(segment.id);
    if (this.current === segment) this.current = null;
    segment.markRemoved();
    await this.io.unlink(segment.path);
    await this.io.syncDir(this.dir);
    this.reclaiming.delete(segment.id);
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

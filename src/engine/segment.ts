import type { FileHandle } from './file-io.js';
import { SEGMENT_HEADER_BYTES } from './limits.js';
import type { Block } from './block.js';

/** A copy-on-write mapping of a whole segment file (reads: 'mmap'; made by segment-mapper.ts). */
export interface SegmentMapping {
  readonly bytes: Buffer;
  /** Called once, when the segment drops the mapping: from then on the GC alone unmaps it. */
  retire(): void;
}

/**
 * One preallocated, zero-filled segment file: a 4 KiB header, then `slotCount` fixed slots that are
 * handed out in order to topics' blocks. Slots are never reused: a segment is deleted whole once
 * every block in it is dead or consumed (coordination-free deletion, as in Walrus), or its file is
 * recycled as a new segment under a new id (segment-manager.ts).
 */
export class Segment {
  /** Next slot to hand out; slots below it belong to a live block or are dead. */
  nextSlot = 0;
  /** No further slots will be handed out (full, or superseded after a restart). */
  closed = false;
  /** Live blocks in this segment. */
  readonly blocks = new Set<Block>();
  /**
   * The file mapped copy-on-write, once frozen and first read under reads: 'mmap'; null otherwise and
   * after removal. Entry views of it keep the memory mapped after that (the GC unmaps it).
   */
  mapping: SegmentMapping | null = null;
  /** Set once a mapping was made: views of it may outlive the segment, so its file is never rewritten. */
  everMapped = false;
  /**
   * The most recently closed segment: read with pread, never mapped. Consumers that keep up read its
   * last entries right after it closes, and it is the next to be reclaimed; unmapped, its file can be
   * recycled (segment-manager.ts). Cleared when the next segment closes.
   */
  justClosed = false;
  /** Reads in progress that hold the file handle; the handle closes when this is 0 after removal. */
  private pins = 0;
  private removed = false;
  private unpinned: (() => void) | null = null;

  constructor(
    readonly id: number,
    readonly path: string,
    readonly handle: FileHandle,
    readonly slotBytes: number,
    readonly slotCount: number,
  ) {}

  /** File position of the start of `slot`. */
  slotPosition(slot: number): number {
    return SEGMENT_HEADER_BYTES + slot * this.slotBytes;
  }

  /** Slots still free for allocation. */
  get freeSlots(): number {
    return this.closed ? 0 : this.slotCount - this.nextSlot;
  }

  /**
   * No byte of the file will be written again while it exists: no slot is left to hand out, and every
   * live block is sealed with all its written bytes visible (so no write to it is in flight). Dead
   * blocks are never written. Stays true once true. Only a frozen file may be mapped: a page the
   * mapping's readahead pulls in could otherwise go stale under an O_DIRECT write (uring backend).
   */
  get frozen(): boolean {
    if (!this.closed) return false;
    for (const block of this.blocks) if (!block.sealed || block.visibleEnd !== block.writtenEnd) return false;
    return true;
  }

  pin(): void {
    this.pins++;
  }

  unpin(): void {
    this.pins--;
    if (this.pins > 0) return;
    if (this.unpinned) {
      const done = this.unpinned;
      this.unpinned = null;
      done();
    } else if (this.removed) void this.handle.close().catch(() => {});
  }

  /**
   * Marks the segment gone for readers without closing its handle (the file is about to be recycled),
   * and resolves once no read holds it.
   */
  retireForReuse(): Promise<void> {
    this.removed = true;
    this.dropMapping();
    if (this.pins === 0) return Promise.resolve();
    return new Promise((resolve) => (this.unpinned = resolve));
  }

  /** Marks the segment deleted; its handle closes once no read holds it, its mapping once no view does. */
  markRemoved(): void {
    this.removed = true;
    this.dropMapping();
    if (this.pins === 0) void this.handle.close().catch(() => {});
  }

  /** Lets go of the mapping (at removal, or when the engine closes); the GC unmaps it once no view remains. */
  dropMapping(): void {
    const mapping = this.mapping;
    this.mapping = null;
    mapping?.retire();
  }

  get isRemoved(): boolean {
    return this.removed;
  }
}

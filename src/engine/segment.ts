import type { FileHandle } from './file-io.js';
import { SEGMENT_HEADER_BYTES } from './limits.js';
import type { Block } from './block.js';

/**
 * One preallocated, zero-filled segment file: a 4 KiB header, then `slotCount` fixed slots that are
 * handed out in order to topics' blocks. Slots are never reused: a segment is deleted whole once
 * every block in it is dead or consumed (coordination-free deletion, as in Walrus).
 */
export class Segment {
  /** Next slot to hand out; slots below it belong to a live block or are dead. */
  nextSlot = 0;
  /** No further slots will be handed out (full, or superseded after a restart). */
  closed = false;
  /** Live blocks in this segment. */
  readonly blocks = new Set<Block>();
  /** Reads in progress that hold the file handle; the handle closes when this is 0 after removal. */
  private pins = 0;
  private removed = false;

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

  pin(): void {
    this.pins++;
  }

  unpin(): void {
    this.pins--;
    if (this.removed && this.pins === 0) void this.handle.close().catch(() => {});
  }

  /** Marks the segment deleted; its handle closes once no read holds it. */
  markRemoved(): void {
    this.removed = true;
    if (this.pins === 0) void this.handle.close().catch(() => {});
  }

  get isRemoved(): boolean {
    return this.removed;
  }
}

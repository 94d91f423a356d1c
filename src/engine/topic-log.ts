import type { Block } from './block.js';
import type { TopicConfig } from './types.js';

/** A named cursor's state. `position` is the offset of the next entry it will read. */
export interface Cursor {
  readonly name: string;
  position: number;
  /** Last position made durable in the cursor log. */
  persisted: number;
}

/** Where the entry at `offset` starts, remembered after a read so the next sequential read needs no seek. */
export interface ReadPosition {
  block: Block;
  offset: number;
  position: number;
}

/** Reads that stop at an offset remember where it is; bounded so memory stays flat. */
const POSITION_CACHE_MAX = 256;

/**
 * In-memory state of one topic: its retained blocks in offset order, its offsets and cursors.
 * `nextOffset` is what the write pipeline assigns next; `visibleNext` bounds what readers see.
 */
export class TopicLog {
  readonly blocks: Block[] = [];
  active: Block | null = null;
  nextOffset = 0;
  visibleNext = 0;
  /** First retained offset when no block is retained (after reclamation, or an empty topic). */
  private baseOffset = 0;
  readonly cursors = new Map<string, Cursor>();
  readonly watchers = new Set<(nextOffset: number) => void>();
  /** Retention caps. */
  config: TopicConfig = {};
  /** Appends queued or being written; an active block with pending appends is never sealed by reclaim. */
  pendingAppends = 0;
  private readonly positions = new Map<number, ReadPosition>();

  constructor(readonly name: string) {}

  /** Offset of the oldest retained entry. */
  get firstOffset(): number {
    return this.blocks.length > 0 ? this.blocks[0].firstOffset : this.baseOffset;
  }

  /** Appends a block at the end of the chain. */
  addBlock(block: Block): void {
    this.blocks.push(block);
  }

  /** Removes reclaimed blocks from the front of the chain. */
  dropBlock(block: Block): void {
    const i = this.blocks.indexOf(block);
    if (i < 0) return;
    this.blocks.splice(i, 1);
    if (this.blocks.length === 0) this.baseOffset = block.firstOffset + block.writtenCount;
    for (const [offset, p] of this.positions) if (p.block === block) this.positions.delete(offset);
    if (this.active === block) this.active = null;
  }

  /** Sets the first offset of an empty topic (recovery of a topic whose blocks were all reclaimed). */
  resetBase(offset: number): void {
    this.baseOffset = offset;
  }

  /** The retained block holding `offset`, by binary search. */
  findBlock(offset: number): Block | undefined {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length - 1;
    let found: Block | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (blocks[mid].firstOffset <= offset) {
        found = blocks[mid];
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  rememberPosition(p: ReadPosition): void {
    if (this.positions.size >= POSITION_CACHE_MAX) this.positions.clear();
    this.positions.set(p.offset, p);
  }

  recallPosition(offset: number): ReadPosition | undefined {
    return this.positions.get(offset);
  }

  forgetPositionsFrom(offset: number): void {
    for (const key of this.positions.keys()) if (key >= offset) this.positions.delete(key);
  }

  /** Lowest position over all registered cursors, or null when the topic has none. */
  minCursorPosition(): number | null {
    let min: number | null = null;
    for (const c of this.cursors.values()) if (min === null || c.position < min) min = c.position;
    return min;
  }

  /** Payload and header bytes retained. */
  retainedBytes(): number {
    let total = 0;
    for (const b of this.blocks) total += b.writtenEnd;
    return total;
  }
}

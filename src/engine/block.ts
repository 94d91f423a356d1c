import { BLOCK_HEADER_BYTES, SPARSE_INDEX_BYTES } from './limits.js';
import { blockSeed } from './block-format.js';
import type { Segment } from './segment.js';

/**
 * A run of consecutive slots owned by one topic: a 512-byte header, then entries packed back to back.
 *
 * Three watermarks move forward independently (all relative to the block start, in bytes, with the
 * matching entry counts): `written` (bytes handed to the OS), `visible` (what readers may see:
 * written, or synced under SyncEach) and `synced` (known durable). Invariant: synced ≤ written and
 * visible ≤ written. Only the engine's write pipeline moves them.
 */
export class Block {
  readonly seed: number;
  /** Whether the 512-byte header has been written (it goes out with the block's first entries). */
  headerWritten: boolean;
  writtenEnd = BLOCK_HEADER_BYTES;
  writtenCount = 0;
  visibleEnd = BLOCK_HEADER_BYTES;
  visibleCount = 0;
  syncedEnd = BLOCK_HEADER_BYTES;
  syncedCount = 0;
  /** Timestamp of the newest entry written (0: unknown, e.g. a block recovered from an older checkpoint). */
  lastTimestamp = 0;
  /** No further entries will be appended. */
  sealed = false;
  /** Sparse index: offsets[i] starts at positions[i] (relative). Complete for blocks written here. */
  readonly indexOffsets: number[] = [];
  readonly indexPositions: number[] = [];
  /** False for recovered blocks until their entries have been walked once. */
  indexComplete: boolean;

  constructor(
    readonly seq: number,
    readonly topic: string,
    readonly segment: Segment,
    readonly slot: number,
    readonly slotCount: number,
    readonly firstOffset: number,
    readonly epoch: number,
    options: { recovered: boolean },
  ) {
    this.seed = blockSeed(seq);
    this.headerWritten = options.recovered;
    this.indexComplete = !options.recovered;
  }

  /** File position of the block's first byte. */
  get start(): number {
    return this.segment.slotPosition(this.slot);
  }

  /** Bytes the block can hold, header included. */
  get capacity(): number {
    return this.slotCount * this.segment.slotBytes;
  }

  /** Offset after the last visible entry. */
  get visibleNextOffset(): number {
    return this.firstOffset + this.visibleCount;
  }

  /** Records an entry's position in the sparse index when it is far enough from the last point. */
  noteEntry(offset: number, position: number): void {
    const n = this.indexPositions.length;
    if (n === 0 || position - this.indexPositions[n - 1] >= SPARSE_INDEX_BYTES) {
      this.indexOffsets.push(offset);
      this.indexPositions.push(position);
    }
  }

  /** Drops index points at or past `offset` (after a rolled-back write). */
  trimIndex(offset: number): void {
    while (this.indexOffsets.length > 0 && this.indexOffsets[this.indexOffsets.length - 1] >= offset) {
      this.indexOffsets.pop();
      this.indexPositions.pop();
    }
  }

  /** The closest indexed (offset, position) at or before `offset`. */
  seekHint(offset: number): { offset: number; position: number } {
    const offsets = this.indexOffsets;
    let lo = 0;
    let hi = offsets.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid] <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return { offset: this.firstOffset, position: BLOCK_HEADER_BYTES };
    return { offset: offsets[found], position: this.indexPositions[found] };
  }
}

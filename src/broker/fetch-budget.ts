/**
 * Keeps a fetch reply inside its byte budget: records are taken in order while their payload plus
 * per-record framing fits, and the first record is always taken (so one record larger than
 * `maxBytes` is still deliverable, as in Kafka). The budget itself is clamped so that a reply always
 * fits in one frame of `maxFrameBytes`.
 */
import type { FetchedRecord } from '../protocol/index.js';
import { FETCH_READ_BYTES_MIN, FETCH_READ_BYTES_PER_RECORD, FETCH_RECORD_OVERHEAD_BYTES, FETCH_REPLY_OVERHEAD_BYTES } from './limits.js';
import { recordPayloadBytes } from './record-codec.js';

/** Largest `maxBytes` a fetch may use with frames of `maxFrameBytes`. */
export function fetchBytesMax(maxFrameBytes: number, fetchBytesDefault: number): number {
  return Math.max(1, Math.min(fetchBytesDefault * 16, maxFrameBytes - FETCH_REPLY_OVERHEAD_BYTES));
}

/** How many leading records of `records` fit in `budgetBytes` (at least one when any exist). */
export function countWithinBudget(records: readonly FetchedRecord[], budgetBytes: number): number {
  let used = 0;
  for (let i = 0; i < records.length; i++) {
    used += recordPayloadBytes(records[i]) + FETCH_RECORD_OVERHEAD_BYTES;
    if (used > budgetBytes && i > 0) return i;
  }
  return records.length;
}

/**
 * Bytes to ask the log for when `maxRecords` records within `maxBytes` are wanted (limits.ts
 * explains). `bytesPerRecord` is what records of this read are expected to take; a caller that has
 * already read some of them passes their average, so the next read asks for the rest at once.
 */
export function readBytesFor(maxRecords: number, maxBytes: number, bytesPerRecord = FETCH_READ_BYTES_PER_RECORD): number {
  return Math.min(maxBytes, Math.max(FETCH_READ_BYTES_MIN, maxRecords * Math.max(bytesPerRecord, FETCH_READ_BYTES_PER_RECORD)));
}

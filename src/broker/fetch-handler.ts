/**
 * `fetch`: a plain read from an offset, or the next records for a consumer group (leased to the
 * calling connection); with `maxWaitMs`, a long-poll that answers as soon as records exist.
 *
 * Group hand-out: the offsets a fetch will hand out (redeliveries first, then fresh ones up to the
 * cached high watermark) are reserved synchronously, and the reservation keeps the group's cursor
 * from moving past them while they are read. They are read in that order until the reply's byte
 * budget is spent, so what is not handed out is always a tail of the reservation. After the reads,
 * in one synchronous step, the records handed out are leased, whatever was reserved but not handed
 * out is put back for redelivery, and offsets the log no longer retains are dropped, which counts
 * them as acknowledged. Hand-outs of one group take turns (`GroupEntry.handOuts`): the next one
 * reserves only once the last has put its tail back, so it hands that tail out first and a member
 * with several fetches in flight still gets the group's records in offset order. (Reserving while
 * another hand-out was still reading let the second run ahead of the first one's tail.) A long-poll
 * waits outside its turn; different groups never wait for each other.
 *
 * Hand-out ids: a group fetch takes its `handOutId` when it arrives, before any await, so on one
 * connection the ids follow the order the fetches were sent whatever order their reads finish in. A
 * client with several fetches in flight that accepts replies in the order it sent them can then use
 * the highest id it accepted as `commit.seenHandOutId`: every fetch it has not accepted yet has a
 * higher id, so a commit never acknowledges records of a reply it has not seen.
 */
import { FETCH_RECORDS_MAX } from '../protocol/index.js';
import type { FetchedRecord, FetchRequest, FetchResult } from '../protocol/index.js';
import type { HandOut } from './consumer-group.js';
import { requireOtherTopic } from './dead-letters.js';
import type { BrokerEngine } from './engine-port.js';
import { countWithinBudget, readBytesFor } from './fetch-budget.js';
import type { GroupEntry, GroupRegistry } from './group-registry.js';
import type { HighWatermarks } from './high-watermarks.js';
import { FETCH_RECORD_OVERHEAD_BYTES, GROUP_IN_FLIGHT_MAX } from './limits.js';
import type { TopicWaiters } from './long-poll.js';
import type { MetricsRecorder } from './metrics.js';
import { recordPayloadBytes, type RecordCodec } from './record-codec.js';
import type { Session } from './session.js';
import type { Logger } from 'pino';

/** What `FetchHandler` needs from the broker. */
export interface FetchContext {
  readonly engine: BrokerEngine;
  readonly codec: RecordCodec;
  readonly highWatermarks: HighWatermarks;
  readonly waiters: TopicWaiters;
  readonly groups: GroupRegistry;
  /** Counting hooks; `NO_METRICS` when metrics are off. */
  readonly metrics: MetricsRecorder;
  readonly logger: Logger;
  readonly now: () => number;
  /** Default and largest `maxBytes`. */
  readonly fetchBytesDefault: number;
  readonly fetchBytesMax: number;
  /** True once the broker is stopping: long-polls answer with what they have. */
  isStopping(): boolean;
}

/** Serves `fetch` requests. */
export class FetchHandler {
  private readonly ctx: FetchContext;

  constructor(ctx: FetchContext) {
    this.ctx = ctx;
  }

  /** Serves one fetch, waiting up to `maxWaitMs` for records when there are none. */
  async fetch(request: FetchRequest, session: Session): Promise<FetchResult> {
    const { ctx } = this;
    const maxRecords = request.maxRecords ?? FETCH_RECORDS_MAX;
    const maxBytes = Math.min(request.maxBytes ?? ctx.fetchBytesDefault, ctx.fetchBytesMax);
    const waitMs = request.maxWaitMs ?? 0;
    const deadlineMs = ctx.now() + waitMs;
    // Taken now, in request order (see the file comment); an id that hands out nothing is skipped.
    const handOutId = request.group === undefined ? 0 : ctx.groups.nextHandOutId();
    for (;;) {
      const waiter = waitMs > 0 ? ctx.waiters.add(request.topic) : undefined;
      if (waiter !== undefined) session.waiters.add(waiter);
      try {
        // Reserve reply bytes before reading (reply-budget.ts); a waiting long-poll holds none.
        const admitted = session.replyBudget.acquire(maxBytes);
        if (admitted !== undefined) await admitted;
        let records: FetchedRecord[];
        let highWatermark: number;
        try {
          records =
            request.group === undefined
              ? await this.readPlain(request.topic, request.offset ?? 0, maxRecords, maxBytes)
              : await this.handOut(request, request.group, handOutId, maxRecords, maxBytes, session);
          highWatermark = await ctx.highWatermarks.get(request.topic);
        } finally {
          session.replyBudget.release(maxBytes);
        }
        const remainingMs = deadlineMs - ctx.now();
        if (records.length > 0 || waiter === undefined || remainingMs <= 0 || session.closed || ctx.isStopping()) {
          ctx.metrics.fetched(request.topic, records);
          return handOutId === 0 || records.length === 0 ? { records, highWatermark } : { records, highWatermark, handOutId };
        }
        await waiter.wait(remainingMs);
      } finally {
        if (waiter !== undefined) {
          ctx.waiters.remove(request.topic, waiter);
          session.waiters.delete(waiter);
        }
      }
    }
  }

  private async readPlain(topic: string, offset: number, maxRecords: number, maxBytes: number): Promise<FetchedRecord[]> {
    const { engine } = this.ctx;
    if (!engine.hasTopic(topic)) return [];
    const entries = await engine.readFrom(topic, offset, { maxEntries: maxRecords, maxBytes: readBytesFor(maxRecords, maxBytes) });
    const records = this.decodeAll(topic, entries);
    records.length = countWithinBudget(records, maxBytes);
    return records;
  }

  /**
   * Hands the next records of `group` to `session`, leased under `handOutId`. A fetch carrying
   * `maxDeliveries` sets the group's dead-letter policy when it has none yet (first use).
   */
  private async handOut(
    request: FetchRequest,
    groupName: string,
    handOutId: number,
    maxRecords: number,
    maxBytes: number,
    session: Session,
  ): Promise<FetchedRecord[]> {
    const { engine, groups } = this.ctx;
    const topic = request.topic;
    if (!engine.hasTopic(topic)) return [];
    if (request.maxDeliveries !== undefined) requireOtherTopic(topic, request.deadLetterTopic, request.id);
    const entry = await groups.get(topic, groupName);
    const previous = entry.handOuts;
    let endTurn!: () => void;
    entry.handOuts = new Promise<void>((resolve) => (endTurn = resolve));
    try {
      await previous;
      return await this.handOutInTurn(request, entry, handOutId, maxRecords, maxBytes, session);
    } finally {
      endTurn();
    }
  }

  /** `handOut` once the group's earlier hand-outs have ended. */
  private async handOutInTurn(
    request: FetchRequest,
    entry: GroupEntry,
    handOutId: number,
    maxRecords: number,
    maxBytes: number,
    session: Session,
  ): Promise<FetchedRecord[]> {
    const { engine, groups, highWatermarks } = this.ctx;
    const topic = request.topic;
    const groupName = entry.group.name;
    const leaseMs = request.ackTimeoutMs;
    const highWatermark = await highWatermarks.get(topic);
    const group = entry.group;
    if (request.maxDeliveries !== undefined && !group.hasPolicy) group.configure(request.maxDeliveries, request.deadLetterTopic);
    groups.expire(entry);
    // Retention may have reclaimed records the group never got: start at the first retained offset
    // instead of discovering the gap one reservation at a time.
    const skipped = group.forgetBelow(engine.firstRetainedOffset(topic));
    if (skipped > 0) {
      this.ctx.metrics.retentionSkipped(topic, groupName, skipped);
      this.ctx.logger.warn({ topic, group: groupName, skipped, firstRetained: group.frontier }, 'group fell behind retention; it resumes at the first retained offset');
    }
    const capacity = Math.min(maxRecords, GROUP_IN_FLIGHT_MAX - group.inFlight);
    if (capacity <= 0) return [];

    // Reserve synchronously (see the file comment); the reservation holds the cursor down meanwhile.
    const handOut = group.beginHandOut(capacity, highWatermark);
    if (handOut === undefined) return [];
    let read: ReservedRead;
    try {
      read = await this.readReserved(topic, handOut, maxBytes);
    } catch (error) {
      if (group.endHandOut(handOut)) group.putBack(reservedOffsets(handOut, new Set(), 0));
      throw error;
    }
    // From here to the end: no await, so leases, put-backs and the end of the hand-out are atomic.
    if (!group.endHandOut(handOut)) return []; // a seek moved the group meanwhile
    const records = read.records;
    if (session.closed) records.length = 0;
    const gone = read.gone;
    group.forgetCounts(gone);
    // Taken from the redelivery list, they come first in `records`; a tail some fetch put back
    // unread was never delivered, so only records leased before count as redelivered.
    let redelivered = 0;
    for (let i = 0; i < Math.min(records.length, read.redeliveredCount); i++) if (group.deliveryCount(records[i].offset) > 0) redelivered++;
    groups.leaseAll(entry, records, session.id, leaseMs, handOutId);
    if (redelivered > 0) this.ctx.metrics.redelivered(topic, groupName, redelivered);
    // Reserved, not handed out and still in the log: back for redelivery (they are the lowest pending).
    group.putBack(reservedOffsets(handOut, gone, records.length));
    return records;
  }

  /**
   * Reads the reserved offsets in hand-out order (redelivered ones run by run, then the fresh range)
   * until `maxBytes` is spent; at least one record when any is left. Offsets of a range below the
   * first entry the log returns for it are gone (retention) and reported in `gone`.
   */
  private async readReserved(topic: string, handOut: HandOut, maxBytes: number): Promise<ReservedRead> {
    const read: ReservedRead = { records: [], gone: new Set(), redeliveredCount: 0, bytes: 0, full: false };
    const redelivered = handOut.redelivered;
    for (let i = 0; i < redelivered.length && !read.full; ) {
      let j = i + 1;
      while (j < redelivered.length && redelivered[j] === redelivered[j - 1] + 1) j++;
      await this.readRange(topic, redelivered[i], redelivered[j - 1] + 1, maxBytes, read);
      i = j;
    }
    read.redeliveredCount = read.records.length;
    if (handOut.freshCount > 0 && !read.full) {
      await this.readRange(topic, handOut.freshStart, handOut.freshStart + handOut.freshCount, maxBytes, read);
    }
    return read;
  }

  /**
   * Reads [start, end) into `read` while the byte budget lasts (sets `full` when it ran out); marks
   * offsets below the first entry returned by a read as gone. One log read returns what its own
   * size estimate allows, so a range of larger records takes a few reads.
   */
  private async readRange(topic: string, start: number, end: number, maxBytes: number, read: ReservedRead): Promise<void> {
    const { engine, codec } = this.ctx;
    let next = start;
    while (next < end) {
      const count = end - next;
      const seen = read.records.length;
      const readBytes = readBytesFor(count, Math.max(1, maxBytes - read.bytes), seen === 0 ? undefined : Math.ceil(read.bytes / seen));
      const entries = await engine.readFrom(topic, next, { maxEntries: count, maxBytes: readBytes });
      // The log starts a read below its oldest retained entry at that entry; a read inside the
      // retained range starts exactly at `next`. So a later first offset means the gap is gone.
      const firstReturned = entries.length > 0 ? Math.min(entries[0].offset, end) : end;
      for (let o = next; o < firstReturned; o++) read.gone.add(o);
      next = firstReturned;
      for (const e of entries) {
        if (e.offset >= end) break;
        const record = codec.decode(e.offset, e.timestamp, e.data);
        const bytes = recordPayloadBytes(record) + FETCH_RECORD_OVERHEAD_BYTES;
        // The first record always goes, so one record larger than the budget is still deliverable.
        if (read.bytes + bytes > maxBytes && read.records.length > 0) {
          read.full = true;
          return;
        }
        read.records.push(record);
        read.bytes += bytes;
        next = e.offset + 1;
      }
    }
  }

  private decodeAll(topic: string, entries: readonly { offset: number; timestamp: number; data: Buffer }[]): FetchedRecord[] {
    const records: FetchedRecord[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      records[i] = this.ctx.codec.decode(e.offset, e.timestamp, e.data);
    }
    if (entries.length > 0) this.ctx.highWatermarks.advance(topic, entries[entries.length - 1].offset + 1);
    return records;
  }
}

/** What `readReserved` found. */
interface ReservedRead {
  records: FetchedRecord[];
  /** Reserved offsets the log no longer retains; they count as acknowledged. */
  gone: Set<number>;
  /** How many of `records` (the first ones) are redeliveries. */
  redeliveredCount: number;
  /** Reply bytes of `records` as `countWithinBudget` counts them. */
  bytes: number;
  /** The budget ran out: the rest of the reservation is not read. */
  full: boolean;
}

/**
 * Offsets of `handOut` in hand-out order (redelivered, then fresh), without the first `handedOut`
 * of them that are not in `gone` (those were handed out) and without any in `gone`; ascending.
 */
function reservedOffsets(handOut: HandOut, gone: ReadonlySet<number>, handedOut: number): number[] {
  const out: number[] = [];
  let skip = handedOut;
  const keep = (o: number): void => {
    if (gone.has(o)) return;
    if (skip > 0) skip--;
    else out.push(o);
  };
  for (const o of handOut.redelivered) keep(o);
  for (let o = handOut.freshStart; o < handOut.freshStart + handOut.freshCount; o++) keep(o);
  return out.sort((a, b) => a - b);
}

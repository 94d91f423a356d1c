/**
 * `fetch`: a plain read from an offset, or the next records for a consumer group (leased to the
 * calling connection); with `maxWaitMs`, a long-poll that answers as soon as records exist.
 *
 * Group hand-out without a lock: the offsets a fetch will hand out (redeliveries first, then fresh
 * ones up to the cached high watermark) are reserved synchronously, before the first await, so two
 * concurrent fetches of one group can never pick the same record. After the reads, whatever was
 * reserved but not handed out (reply budget, short read) is put back for redelivery, and offsets the
 * log no longer retains are dropped, which counts them as acknowledged.
 */
import { FETCH_RECORDS_MAX } from '../protocol/index.js';
import type { FetchedRecord, FetchRequest, FetchResult } from '../protocol/index.js';
import type { BrokerEngine } from './engine-port.js';
import { countWithinBudget, readBytesFor } from './fetch-budget.js';
import type { GroupRegistry } from './group-registry.js';
import type { HighWatermarks } from './high-watermarks.js';
import { GROUP_IN_FLIGHT_MAX } from './limits.js';
import type { TopicWaiters } from './long-poll.js';
import type { RecordCodec } from './record-codec.js';
import type { Session } from './session.js';

/** What `FetchHandler` needs from the broker. */
export interface FetchContext {
  readonly engine: BrokerEngine;
  readonly codec: RecordCodec;
  readonly highWatermarks: HighWatermarks;
  readonly waiters: TopicWaiters;
  readonly groups: GroupRegistry;
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
              : await this.handOut(request.topic, request.group, maxRecords, maxBytes, session, request.ackTimeoutMs);
          highWatermark = await ctx.highWatermarks.get(request.topic);
        } finally {
          session.replyBudget.release(maxBytes);
        }
        const remainingMs = deadlineMs - ctx.now();
        if (records.length > 0 || waiter === undefined || remainingMs <= 0 || session.closed || ctx.isStopping()) {
          return { records, highWatermark };
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

  /** Hands the next records of `group` to `session`, leased. */
  private async handOut(
    topic: string,
    groupName: string,
    maxRecords: number,
    maxBytes: number,
    session: Session,
    leaseMs: number | undefined,
  ): Promise<FetchedRecord[]> {
    const { engine, groups, highWatermarks } = this.ctx;
    if (!engine.hasTopic(topic)) return [];
    const entry = await groups.get(topic, groupName);
    const highWatermark = await highWatermarks.get(topic);
    const group = entry.group;
    group.expire(this.ctx.now());
    const capacity = Math.min(maxRecords, GROUP_IN_FLIGHT_MAX - group.inFlight);
    if (capacity <= 0) return [];

    // Reserve synchronously (see the file comment).
    const generation = group.generation;
    const redelivered = group.takeRedeliveries(capacity);
    const freshCount = Math.max(0, Math.min(capacity - redelivered.length, highWatermark - group.frontier));
    const freshStart = group.reserve(freshCount, 0);
    if (redelivered.length === 0 && freshCount === 0) return [];

    let records: FetchedRecord[];
    try {
      records = await this.readReserved(topic, redelivered, freshStart, freshCount, maxBytes);
    } catch (error) {
      if (group.generation === generation) group.putBack(reservedOffsets(redelivered, freshStart, freshCount, new Set()));
      throw error;
    }
    if (group.generation !== generation) return []; // a seek moved the group meanwhile
    const handed = session.closed ? 0 : countWithinBudget(records, maxBytes);
    records.length = handed;
    for (const r of records) this.ctx.groups.lease(entry, r.offset, session.id, leaseMs);

    // Put back what was reserved and neither handed out nor gone from the log.
    const firstRetained = records.length > 0 ? records[0].offset : undefined;
    const handedSet = new Set(records.map((r) => r.offset));
    const leftover = reservedOffsets(redelivered, freshStart, freshCount, handedSet);
    const putBack = await this.retained(topic, leftover, firstRetained);
    if (group.generation === generation) group.putBack(putBack);
    return records;
  }

  /** Reads the reserved offsets: redelivered ones run by run, then the fresh range. */
  private async readReserved(topic: string, redelivered: number[], freshStart: number, freshCount: number, maxBytes: number): Promise<FetchedRecord[]> {
    const { engine } = this.ctx;
    const records: FetchedRecord[] = [];
    for (let i = 0; i < redelivered.length; ) {
      let j = i + 1;
      while (j < redelivered.length && redelivered[j] === redelivered[j - 1] + 1) j++;
      const start = redelivered[i];
      const end = redelivered[j - 1] + 1;
      const entries = await engine.readFrom(topic, start, { maxEntries: end - start, maxBytes: readBytesFor(end - start, maxBytes) });
      for (const e of entries) if (e.offset >= start && e.offset < end) records.push(this.ctx.codec.decode(e.offset, e.timestamp, e.data));
      i = j;
    }
    if (freshCount > 0) {
      const end = freshStart + freshCount;
      const entries = await engine.readFrom(topic, freshStart, { maxEntries: freshCount, maxBytes: readBytesFor(freshCount, maxBytes) });
      for (const e of entries) if (e.offset < end) records.push(this.ctx.codec.decode(e.offset, e.timestamp, e.data));
    }
    return records;
  }

  /** Offsets of `leftover` the log still retains (the rest are gone and count as acknowledged). */
  private async retained(topic: string, leftover: number[], firstKnownRetained: number | undefined): Promise<number[]> {
    if (leftover.length === 0) return leftover;
    if (firstKnownRetained !== undefined && leftover[0] >= firstKnownRetained) return leftover;
    if (!this.ctx.engine.hasTopic(topic)) return [];
    const { firstOffset } = await this.ctx.engine.topicStats(topic);
    return leftover.filter((o) => o >= firstOffset);
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

/** Reserved offsets (redelivered ∪ fresh range) not in `exclude`, ascending. */
function reservedOffsets(redelivered: readonly number[], freshStart: number, freshCount: number, exclude: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (const o of redelivered) if (!exclude.has(o)) out.push(o);
  for (let o = freshStart; o < freshStart + freshCount; o++) if (!exclude.has(o)) out.push(o);
  return out.sort((a, b) => a - b);
}

/**
 * Every consumer group the broker has touched, keyed by topic and group: loads a group's persisted
 * cursor on first use, writes cursor changes to the log in order, expires leases on a timer,
 * releases a connection's leases when it closes, and copies records that exhausted their group's
 * `maxDeliveries` to its dead-letter topic before acknowledging them. The group name is the engine
 * cursor name as is (both follow `[A-Za-z0-9._-]{1,249}`; names starting with `__` are the log's own and rejected).
 */
import type { Logger } from 'pino';
import { ConsumerGroup, ReleaseReason } from './consumer-group.js';
import type { DeadLetterSink } from './dead-letters.js';
import type { BrokerEngine } from './engine-port.js';

/** A group plus the chain that orders its cursor writes. */
export interface GroupEntry {
  readonly group: ConsumerGroup;
  /** Settles after the last queued cursor write; each write is chained after the previous one. */
  writes: Promise<void>;
  /** Settles after the last queued dead-letter copy; copies go one at a time, in offset order per batch. */
  deadLetterWrites: Promise<void>;
  /** Settles when the last group fetch's hand-out has ended; hand-outs go one at a time (fetch-handler.ts). */
  handOuts: Promise<void>;
}

/** Options of `GroupRegistry`. */
export interface GroupRegistryOptions {
  engine: BrokerEngine;
  ackTimeoutMs: number;
  sweepIntervalMs: number;
  now: () => number;
  logger: Logger;
  /** Called with a topic whose group got records back for redelivery (wakes its long-polls). */
  onRedeliverable: (topic: string) => void;
  /** Copies records that exhausted `maxDeliveries` to their dead-letter topic. */
  deadLetters: DeadLetterSink;
}

/** All groups of all topics. */
export class GroupRegistry {
  private readonly options: GroupRegistryOptions;
  private readonly entries = new Map<string, GroupEntry>();
  /** Loads in progress, so concurrent first uses share one engine read. */
  private readonly loading = new Map<string, Promise<GroupEntry>>();
  /** Id of the last group hand-out (fetch that leased records); increases by one per hand-out. */
  private handOutIdLast = 0;
  /** Groups in which each connection holds leases, for release on close. */
  private readonly byOwner = new Map<number, Set<GroupEntry>>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: GroupRegistryOptions) {
    this.options = options;
  }

  get ackTimeoutMs(): number {
    return this.options.ackTimeoutMs;
  }

  /** Starts the lease-expiry sweep. */
  start(): void {
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  /** Stops the sweep. Leases are in memory only; the persisted cursors are all a restart needs. */
  stop(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** The group, loading its persisted cursor on first use. The topic must exist. */
  get(topic: string, name: string): Promise<GroupEntry> {
    const key = keyOf(topic, name);
    const entry = this.entries.get(key);
    if (entry !== undefined) return Promise.resolve(entry);
    let pending = this.loading.get(key);
    if (pending === undefined) {
      pending = this.load(topic, name, key);
      this.loading.set(key, pending);
      pending.finally(() => this.loading.delete(key)).catch(() => {});
    }
    return pending;
  }

  /** The loaded groups of `topic`. */
  loadedGroups(topic: string): ConsumerGroup[] {
    const out: ConsumerGroup[] = [];
    for (const entry of this.entries.values()) if (entry.group.topic === topic) out.push(entry.group);
    return out;
  }

  /** Every loaded group of every topic (read by metrics scrapes). */
  *allGroups(): IterableIterator<ConsumerGroup> {
    for (const entry of this.entries.values()) yield entry.group;
  }

  /** A new hand-out id, for the leases of one group fetch (`fetch.handOutId`, `commit.seenHandOutId`). */
  nextHandOutId(): number {
    this.handOutIdLast += 1;
    return this.handOutIdLast;
  }

  /** Leases `offset` in `entry` to `ownerId` by hand-out `handOutId` for `leaseMs` (default the broker's ackTimeoutMs). */
  lease(entry: GroupEntry, offset: number, ownerId: number, leaseMs: number = this.options.ackTimeoutMs, handOutId = 0): void {
    this.leaseAll(entry, [{ offset }], ownerId, leaseMs, handOutId);
  }

  /** `lease` for every record of one hand-out (one clock read, one shared lease). */
  leaseAll(entry: GroupEntry, records: readonly { readonly offset: number }[], ownerId: number, leaseMs: number = this.options.ackTimeoutMs, handOutId = 0): void {
    if (records.length === 0) return;
    entry.group.leaseAll(records, ownerId, this.options.now() + leaseMs, handOutId);
    let groups = this.byOwner.get(ownerId);
    if (groups === undefined) {
      groups = new Set();
      this.byOwner.set(ownerId, groups);
    }
    groups.add(entry);
  }

  /** Expires the group's due leases (a fetch does this before handing out); starts dead letters. */
  expire(entry: GroupEntry): void {
    if (entry.group.expire(this.options.now()) > 0) this.startDeadLetters(entry);
  }

  /**
   * `nack` from `ownerId`: the record is handed out again after `delayMs` (at once for 0) or, when it
   * exhausted `maxDeliveries`, dead-lettered. False when `ownerId` holds no lease on it.
   */
  nack(entry: GroupEntry, ownerId: number, offset: number, delayMs: number, reason: string | undefined): boolean {
    const availableAtMs = delayMs > 0 ? this.options.now() + delayMs : undefined;
    if (!entry.group.nack(ownerId, offset, availableAtMs, reason ?? ReleaseReason.nacked)) return false;
    this.startDeadLetters(entry);
    if (availableAtMs === undefined) this.options.onRedeliverable(entry.group.topic);
    return true;
  }

  /** Makes `ownerId`'s lease on `offset` end `ms` from now; returns that time, or undefined when it holds none. */
  extend(entry: GroupEntry, ownerId: number, offset: number, ms: number): number | undefined {
    const expiresAtMs = this.options.now() + ms;
    return entry.group.extend(ownerId, offset, expiresAtMs) ? expiresAtMs : undefined;
  }

  /**
   * Copies the group's records due for dead-lettering, one after another, each acknowledged on the
   * group (and the cursor persisted) only once its copy is durable: a crash in between duplicates.
   * A failed copy sends the record back to redelivery; it is tried again when it next comes back.
   */
  private startDeadLetters(entry: GroupEntry): void {
    const group = entry.group;
    const due = group.takeDeadLetters();
    if (due.length === 0) return;
    const { deadLetterTopic } = group.policy;
    entry.deadLetterWrites = entry.deadLetterWrites.then(async () => {
      let failed = false;
      for (const offset of due) {
        const info = group.deadLetterInfo(offset);
        try {
          await this.options.deadLetters.write({ topic: group.topic, group: group.name, offset, deadLetterTopic, ...info });
          if (!group.settleDeadLetter(offset)) continue; // a seek moved the group meanwhile
          this.options.logger.info({ topic: group.topic, group: group.name, offset, deadLetterTopic, ...info }, 'dead-lettered record');
        } catch (error) {
          this.options.logger.warn({ err: error, topic: group.topic, group: group.name, offset, deadLetterTopic }, 'dead-letter copy failed; record back for redelivery');
          if (group.failDeadLetter(offset)) failed = true;
        }
      }
      if (failed) this.options.onRedeliverable(group.topic);
      await this.persist(entry).catch((error: unknown) => {
        this.options.logger.warn({ err: error, topic: group.topic, group: group.name }, 'cursor write after dead-lettering failed');
      });
    });
  }

  /**
   * Writes the group's current cursor to the log after every earlier write of this group, and resolves
   * with the value once durable (as the consistency mode promises). Skips the write when unchanged.
   */
  persist(entry: GroupEntry): Promise<number> {
    const { engine } = this.options;
    const group = entry.group;
    const next = entry.writes.then(async () => {
      const cursor = group.cursor();
      if (cursor === group.persisted) return cursor;
      await engine.commitCursor(group.topic, group.name, cursor);
      if (group.persisted !== cursor) group.persisted = cursor;
      return cursor;
    });
    entry.writes = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  /** Returns every lease of a closed connection to its groups for redelivery. */
  releaseOwner(ownerId: number): void {
    const groups = this.byOwner.get(ownerId);
    if (groups === undefined) return;
    this.byOwner.delete(ownerId);
    for (const entry of groups) {
      const released = entry.group.release(ownerId);
      this.startDeadLetters(entry);
      if (released > 0) {
        this.options.logger.debug({ topic: entry.group.topic, group: entry.group.name, released }, 'released leases of closed connection');
        this.options.onRedeliverable(entry.group.topic);
      }
    }
  }

  /** Forgets every group of a deleted topic. */
  dropTopic(topic: string): void {
    for (const [key, entry] of this.entries) {
      if (entry.group.topic !== topic) continue;
      this.entries.delete(key);
      for (const groups of this.byOwner.values()) groups.delete(entry);
    }
  }

  /** Waits for every queued dead-letter copy and cursor write (graceful stop). */
  async flush(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.deadLetterWrites));
    await Promise.all([...this.entries.values()].map((e) => e.writes));
  }

  /** Expires leases; wakes long-polls of topics that got records back. */
  sweep(): void {
    const now = this.options.now();
    const topics = new Set<string>();
    for (const entry of this.entries.values()) {
      if (entry.group.inFlight === 0) continue;
      const expired = entry.group.expire(now);
      this.startDeadLetters(entry);
      if (expired > 0) {
        topics.add(entry.group.topic);
        this.options.logger.debug({ topic: entry.group.topic, group: entry.group.name, expired }, 'leases expired');
      }
    }
    for (const topic of topics) this.options.onRedeliverable(topic);
  }

  private async load(topic: string, name: string, key: string): Promise<GroupEntry> {
    const position = await this.options.engine.cursorPosition(topic, name);
    const existing = this.entries.get(key);
    if (existing !== undefined) return existing;
    const entry: GroupEntry = { group: new ConsumerGroup(topic, name, position), writes: Promise.resolve(), deadLetterWrites: Promise.resolve(), handOuts: Promise.resolve() };
    this.entries.set(key, entry);
    return entry;
  }
}

function keyOf(topic: string, group: string): string {
  // '/' never appears in a valid name, so the key is unambiguous.
  return `${topic}/${group}`;
}

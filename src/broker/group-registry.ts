/**
 * Every consumer group the broker has touched, keyed by topic and group: loads a group's persisted
 * cursor on first use, writes cursor changes to the log in order, expires leases on a timer, and
 * releases a connection's leases when it closes. The group name is the engine cursor name as is
 * (both follow `[A-Za-z0-9._-]{1,249}`; names starting with `__` are the log's own and rejected).
 */
import type { Logger } from 'pino';
import { ConsumerGroup } from './consumer-group.js';
import type { BrokerEngine } from './engine-port.js';

/** A group plus the chain that orders its cursor writes. */
export interface GroupEntry {
  readonly group: ConsumerGroup;
  /** Settles after the last queued cursor write; each write is chained after the previous one. */
  writes: Promise<void>;
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
}

/** All groups of all topics. */
export class GroupRegistry {
  private readonly options: GroupRegistryOptions;
  private readonly entries = new Map<string, GroupEntry>();
  /** Loads in progress, so concurrent first uses share one engine read. */
  private readonly loading = new Map<string, Promise<GroupEntry>>();
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

  /** Leases `offset` in `entry` to `ownerId` for `leaseMs` (default the broker's ackTimeoutMs). */
  lease(entry: GroupEntry, offset: number, ownerId: number, leaseMs: number = this.options.ackTimeoutMs): void {
    entry.group.lease(offset, ownerId, this.options.now() + leaseMs);
    let groups = this.byOwner.get(ownerId);
    if (groups === undefined) {
      groups = new Set();
      this.byOwner.set(ownerId, groups);
    }
    groups.add(entry);
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

  /** Waits for every queued cursor write (graceful stop). */
  async flush(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.writes));
  }

  /** Expires leases; wakes long-polls of topics that got records back. */
  sweep(): void {
    const now = this.options.now();
    const topics = new Set<string>();
    for (const entry of this.entries.values()) {
      if (entry.group.inFlight === 0) continue;
      const expired = entry.group.expire(now);
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
    const entry: GroupEntry = { group: new ConsumerGroup(topic, name, position), writes: Promise.resolve() };
    this.entries.set(key, entry);
    return entry;
  }
}

function keyOf(topic: string, group: string): string {
  // '/' never appears in a valid name, so the key is unambiguous.
  return `${topic}/${group}`;
}

/**
 * In-memory state of one consumer group on one topic: which records are leased to which member,
 * which are waiting to be handed out again, and where the never-handed-out region starts. No I/O and
 * no timers: the registry persists `cursor()` and drives `expire(now)`.
 *
 * Every offset in [cursor(), frontier) is exactly one of: leased (in `leases`), waiting for
 * redelivery (in `redeliver`), being handed out (reserved by a fetch that is still reading it, in
 * `handOuts`), or acknowledged (in none). Offsets below cursor() are all acknowledged; offsets from
 * `frontier` on were never handed out. Hence
 *   cursor() = min(frontier, min(redeliver), min(leases), min(handOuts' lowest offset)),
 * the lowest offset not yet acknowledged, which is what gets persisted as the group's log cursor.
 * (Counting hand-outs matters: without it a commit racing a fetch's read could persist a cursor past
 * records nobody has been given yet.)
 *
 * Sizing: `leases` holds at most GROUP_IN_FLIGHT_MAX entries (the caller checks `inFlight` before
 * leasing). Leases may differ in length (`fetch.ackTimeoutMs`), so `expire` scans them all, but only
 * once the earliest expiry (`nextExpiryMs`, a lower bound) has passed: a sweep with nothing due is O(1).
 */
import assert from 'node:assert';

/**
 * Offsets one fetch reserved and is reading: redeliveries plus a fresh range [freshStart,
 * freshStart + freshCount). `low` is the smallest of them.
 */
export interface HandOut {
  readonly redelivered: readonly number[];
  readonly freshStart: number;
  readonly freshCount: number;
  readonly low: number;
}

/** One handed-out record. */
interface Lease {
  ownerId: number;
  expiresAtMs: number;
}

/** State of one group on one topic. */
export class ConsumerGroup {
  readonly topic: string;
  readonly name: string;
  /** Next offset never handed out. */
  frontier: number;
  /** Cursor value last made durable in the log. */
  persisted: number;
  private readonly leases = new Map<number, Lease>();
  /** Offsets released by expiry or disconnect, ascending; handed out before new records. */
  private redeliver: number[] = [];
  /** No lease expires before this (a lower bound; Infinity when there are none). */
  private nextExpiryMs = Number.POSITIVE_INFINITY;
  /** Hand-outs in progress (reserved, being read, not yet leased). */
  private readonly handOuts = new Set<HandOut>();
  /** Offsets leased per member, for ack and release without scanning every lease. */
  private readonly byOwner = new Map<number, Set<number>>();

  constructor(topic: string, name: string, position: number) {
    this.topic = topic;
    this.name = name;
    this.frontier = position;
    this.persisted = position;
  }

  /** Records leased and not yet acknowledged. */
  get inFlight(): number {
    return this.leases.size;
  }

  /** Records waiting to be handed out again. */
  get pendingRedelivery(): number {
    return this.redeliver.length;
  }

  /** Lowest offset not yet acknowledged. O(leases): called once per commit. */
  cursor(): number {
    let lowest = this.frontier;
    if (this.redeliver.length > 0 && this.redeliver[0] < lowest) lowest = this.redeliver[0];
    for (const offset of this.leases.keys()) if (offset < lowest) lowest = offset;
    for (const h of this.handOuts) if (h.low < lowest) lowest = h.low;
    return lowest;
  }

  /** Removes and returns up to `max` offsets waiting for redelivery, lowest first. */
  takeRedeliveries(max: number): number[] {
    if (this.redeliver.length === 0 || max <= 0) return [];
    return this.redeliver.splice(0, max);
  }

  /** Puts offsets taken but not handed out (reply budget, read error) back for redelivery. */
  putBack(offsets: readonly number[]): void {
    if (offsets.length === 0) return;
    for (const offset of offsets) assert(!this.leases.has(offset), 'putting back a leased offset');
    this.redeliver.push(...offsets);
    this.redeliver.sort((a, b) => a - b);
  }

  /**
   * Reserves what one fetch may hand out: up to `capacity` offsets, redeliveries first, then fresh
   * ones below `highWatermark`. Returns undefined when there is nothing. The caller reads them, then
   * calls `endHandOut`, leases what it handed out and puts the rest back, all without awaiting.
   */
  beginHandOut(capacity: number, highWatermark: number): HandOut | undefined {
    const redelivered = this.takeRedeliveries(capacity);
    const freshCount = Math.max(0, Math.min(capacity - redelivered.length, highWatermark - this.frontier));
    const freshStart = this.frontier;
    this.frontier += freshCount;
    if (redelivered.length === 0 && freshCount === 0) return undefined;
    const low = redelivered.length > 0 ? Math.min(redelivered[0], freshStart) : freshStart;
    const handOut: HandOut = { redelivered, freshStart, freshCount, low };
    this.handOuts.add(handOut);
    return handOut;
  }

  /** Ends a hand-out; false when a `seek` cancelled it meanwhile (then nothing may be leased or put back). */
  endHandOut(handOut: HandOut): boolean {
    return this.handOuts.delete(handOut);
  }

  /** Marks `offset` handed to `ownerId` until `expiresAtMs`. */
  lease(offset: number, ownerId: number, expiresAtMs: number): void {
    assert(offset < this.frontier, 'leasing an offset beyond the frontier');
    assert(!this.leases.has(offset), 'leasing an offset twice');
    this.leases.set(offset, { ownerId, expiresAtMs });
    if (expiresAtMs < this.nextExpiryMs) this.nextExpiryMs = expiresAtMs;
    let owned = this.byOwner.get(ownerId);
    if (owned === undefined) {
      owned = new Set();
      this.byOwner.set(ownerId, owned);
    }
    owned.add(offset);
  }

  /** Acknowledges every record leased to `ownerId` below `below`; returns how many. */
  ack(ownerId: number, below: number): number {
    const owned = this.byOwner.get(ownerId);
    if (owned === undefined) return 0;
    let count = 0;
    for (const offset of owned) {
      if (offset >= below) continue;
      owned.delete(offset);
      this.leases.delete(offset);
      count++;
    }
    if (owned.size === 0) this.byOwner.delete(ownerId);
    return count;
  }

  /** True when `ownerId` holds any lease here. */
  hasOwner(ownerId: number): boolean {
    return this.byOwner.has(ownerId);
  }

  /** Releases every lease of `ownerId` (its connection closed) for redelivery; returns how many. */
  release(ownerId: number): number {
    const owned = this.byOwner.get(ownerId);
    if (owned === undefined) return 0;
    this.byOwner.delete(ownerId);
    const offsets = [...owned];
    for (const offset of offsets) this.leases.delete(offset);
    this.putBack(offsets);
    return offsets.length;
  }

  /** Releases every lease that expired at or before `nowMs`; returns how many. */
  expire(nowMs: number): number {
    if (nowMs < this.nextExpiryMs) return 0;
    const expired: number[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [offset, lease] of this.leases) {
      if (lease.expiresAtMs > nowMs) {
        if (lease.expiresAtMs < next) next = lease.expiresAtMs;
        continue;
      }
      expired.push(offset);
      const owned = this.byOwner.get(lease.ownerId);
      if (owned !== undefined) {
        owned.delete(offset);
        if (owned.size === 0) this.byOwner.delete(lease.ownerId);
      }
    }
    this.nextExpiryMs = next;
    for (const offset of expired) this.leases.delete(offset);
    this.putBack(expired);
    return expired.length;
  }

  /** Moves the group to `offset`: every lease and pending redelivery is dropped. */
  seek(offset: number): void {
    this.handOuts.clear();
    this.leases.clear();
    this.byOwner.clear();
    this.redeliver = [];
    this.frontier = offset;
  }

  /** Drops redeliveries and leases below `firstAvailable` (records the log no longer retains). */
  forgetBelow(firstAvailable: number): void {
    if (this.redeliver.length > 0 && this.redeliver[0] < firstAvailable) {
      this.redeliver = this.redeliver.filter((o) => o >= firstAvailable);
    }
    if (this.frontier < firstAvailable) this.frontier = firstAvailable;
  }
}

/**
 * In-memory state of one consumer group on one topic: which records are leased to which member,
 * which are waiting to be handed out again, and where the never-handed-out region starts. No I/O and
 * no timers: the registry persists `cursor()` and drives `expire(now)`.
 *
 * Every offset in [cursor(), frontier) is exactly one of: leased (in `leases`), waiting for
 * redelivery (in `redeliver`), or acknowledged (in neither). Offsets below cursor() are all
 * acknowledged; offsets from `frontier` on were never handed out. Hence
 *   cursor() = min(frontier, min(redeliver), min(leases)),
 * the lowest offset not yet acknowledged, which is what gets persisted as the group's log cursor.
 *
 * Sizing: `leases` holds at most GROUP_IN_FLIGHT_MAX entries (the caller checks `inFlight` before
 * leasing). Leases may differ in length (`fetch.ackTimeoutMs`), so `expire` scans them all, but only
 * once the earliest expiry (`nextExpiryMs`, a lower bound) has passed: a sweep with nothing due is O(1).
 */
import assert from 'node:assert';

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
  /** Bumped by `seek`; a hand-out that started before a seek must not lease or put back. */
  generation = 0;
  private readonly leases = new Map<number, Lease>();
  /** Offsets released by expiry or disconnect, ascending; handed out before new records. */
  private redeliver: number[] = [];
  /** No lease expires before this (a lower bound; Infinity when there are none). */
  private nextExpiryMs = Number.POSITIVE_INFINITY;
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
   * Reserves up to `count` never-handed-out offsets starting at `frontier` and moves the frontier past
   * them; returns the first reserved offset. `firstAvailable` skips offsets the log no longer retains.
   */
  reserve(count: number, firstAvailable: number): number {
    if (firstAvailable > this.frontier) this.frontier = firstAvailable;
    const start = this.frontier;
    this.frontier += count;
    return start;
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
    this.generation++;
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

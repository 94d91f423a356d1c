/**
 * In-memory state of one consumer group on one topic: which records are leased to which member,
 * which are waiting to be handed out again, and where the never-handed-out region starts. No I/O and
 * no timers: the registry persists `cursor()` and drives `expire(now)`.
 *
 * Every offset in [cursor(), frontier) is exactly one of: leased (in `leases`; a record nacked with
 * a delay is parked there under PARKED_OWNER until the delay ends), waiting for redelivery (in
 * `redeliver`), being handed out (reserved by a fetch that is still reading it, in `handOuts`), being
 * dead-lettered (in `deadLettering`: its copy is not yet durable in the dead-letter topic), or
 * acknowledged (in none). Offsets below cursor() are all acknowledged; offsets from `frontier` on
 * were never handed out. Hence
 *   cursor() = min(frontier, min(redeliver), min(leases), min(handOuts' lowest offset), min(deadLettering)),
 * the lowest offset not yet acknowledged, which is what gets persisted as the group's log cursor.
 * (Counting hand-outs matters: without it a commit racing a fetch's read could persist a cursor past
 * records nobody has been given yet. Counting dead-lettering ones makes "copy to the dead-letter
 * topic, then acknowledge" the order: a crash between the two duplicates the record, never loses it.)
 *
 * Delivery counts: an offset's count is its deliveries that ended without a commit (`returned`:
 * expiry, nack, its connection closing) plus one while it is leased to a member. Most records are
 * delivered once and committed, so they never get a `returned` entry: the hot path (lease, ack)
 * touches one map less. A record that comes back once its count reached the group's
 * `maxDeliveries` goes to `deadLettering` instead of `redeliver`; the registry copies it and calls
 * `settleDeadLetter`. Counts are in memory only: after a restart they start again at 0.
 *
 * Sizing: `leases` holds at most GROUP_IN_FLIGHT_MAX entries (the caller checks `inFlight` before
 * leasing; parked records count). The records of one hand-out share one `Lease` object (`leaseAll`);
 * a lease is never changed in place, `extend` gives its offset a new one. `returned` and `reasons`
 * hold only offsets that are leased, waiting or being dead-lettered, and redeliveries go out before
 * fresh records, so they stay near that size. Leases may differ in length (`fetch.ackTimeoutMs`), so
 * `expire` scans them all, but only once the earliest expiry (`nextExpiryMs`, a lower bound) has
 * passed: a sweep with nothing due is O(1).
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

/** Owner of parked records (nacked with a delay): no connection holds them; connection ids start at 1. */
export const PARKED_OWNER = 0;

/** Last reason of a record that came back without a commit, when no nack reason was given. */
export const ReleaseReason = {
  expired: 'lease expired',
  closed: 'connection closed',
  nacked: 'nacked',
} as const;

/** A group's dead-letter policy. */
export interface DeadLetterPolicy {
  /** Deliveries after which a record is dead-lettered instead of redelivered; 0 = unlimited. */
  readonly maxDeliveries: number;
  /** Where dead letters go; `<topic>.dlq` unless configured. */
  readonly deadLetterTopic: string;
}

/** What the dead-letter copy of a record says about it. */
export interface DeadLetterInfo {
  readonly deliveries: number;
  readonly reason: string;
}

/** One handed-out record, or every record of one hand-out (shared, so never changed in place). */
interface Lease {
  readonly ownerId: number;
  readonly expiresAtMs: number;
  /** The hand-out (group fetch) that leased it; 0 for parked records. */
  readonly handOutId: number;
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
  private readonly byOwner = new Map<number, OwnedOffsets>();
  /**
   * True while `leases` was filled in ascending offset order (since it was last empty): then its
   * first key is the lowest, and `cursor()` needs no scan. A redelivery or a parked record clears it.
   */
  private leasesAscending = true;
  private leasesLast = -1;
  /** Deliveries of each unacknowledged offset that ended without a commit (absent: none). */
  private readonly returned = new Map<number, number>();
  /** Last reason each offset came back without a commit. */
  private readonly reasons = new Map<number, string>();
  /** Offsets being copied to the dead-letter topic (not acknowledged until `settleDeadLetter`). */
  private readonly deadLettering = new Set<number>();
  /** Of those, the ones not yet taken by `takeDeadLetters`. */
  private deadLettersDue: number[] = [];
  /** Undefined until configured (by `configureGroup`, or a fetch on first use): unlimited deliveries. */
  private policyConfigured: DeadLetterPolicy | undefined;

  constructor(topic: string, name: string, position: number) {
    this.topic = topic;
    this.name = name;
    this.frontier = position;
    this.persisted = position;
  }

  /** The dead-letter policy in force (unlimited deliveries to `<topic>.dlq` until configured). */
  get policy(): DeadLetterPolicy {
    return this.policyConfigured ?? { maxDeliveries: 0, deadLetterTopic: `${this.topic}.dlq` };
  }

  /** True once a policy was set. */
  get hasPolicy(): boolean {
    return this.policyConfigured !== undefined;
  }

  /** Sets the dead-letter policy; applies to records as they next come back. */
  configure(maxDeliveries: number, deadLetterTopic: string | undefined): DeadLetterPolicy {
    assert(Number.isSafeInteger(maxDeliveries) && maxDeliveries >= 0);
    this.policyConfigured = { maxDeliveries, deadLetterTopic: deadLetterTopic ?? `${this.topic}.dlq` };
    return this.policyConfigured;
  }

  /** Times `offset` was leased since it was last acknowledged (0 when never, or after a restart). */
  deliveryCount(offset: number): number {
    const lease = this.leases.get(offset);
    return (this.returned.get(offset) ?? 0) + (lease !== undefined && lease.ownerId !== PARKED_OWNER ? 1 : 0);
  }

  /** Records leased and not yet acknowledged. */
  get inFlight(): number {
    return this.leases.size;
  }

  /** Records waiting to be handed out again. */
  get pendingRedelivery(): number {
    return this.redeliver.length;
  }

  /** Lowest offset not yet acknowledged. O(1) for leases taken in offset order, else O(leases); once per commit. */
  cursor(): number {
    let lowest = this.frontier;
    if (this.redeliver.length > 0 && this.redeliver[0] < lowest) lowest = this.redeliver[0];
    if (this.leasesAscending) {
      const first = this.leases.keys().next();
      if (first.done !== true && first.value < lowest) lowest = first.value;
    } else {
      for (const offset of this.leases.keys()) if (offset < lowest) lowest = offset;
    }
    for (const h of this.handOuts) if (h.low < lowest) lowest = h.low;
    for (const offset of this.deadLettering) if (offset < lowest) lowest = offset;
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

  /** Marks `offset` handed to `ownerId` by hand-out `handOutId` until `expiresAtMs`; counts one delivery. */
  lease(offset: number, ownerId: number, expiresAtMs: number, handOutId = 0): void {
    this.leaseAll([{ offset }], ownerId, expiresAtMs, handOutId);
  }

  /** `lease` for every record of one hand-out, sharing one `Lease`. */
  leaseAll(records: readonly { readonly offset: number }[], ownerId: number, expiresAtMs: number, handOutId: number): void {
    assert(ownerId !== PARKED_OWNER, 'leasing to the parked owner');
    if (records.length === 0) return;
    const lease: Lease = { ownerId, expiresAtMs, handOutId };
    let owned = this.byOwner.get(ownerId);
    if (owned === undefined) {
      owned = new OwnedOffsets();
      this.byOwner.set(ownerId, owned);
    }
    for (const record of records) {
      this.addLease(record.offset, lease);
      owned.add(record.offset);
    }
  }

  /** Parks `offset` (no member holds it) until `availableAtMs`. */
  private park(offset: number, availableAtMs: number): void {
    this.addLease(offset, { ownerId: PARKED_OWNER, expiresAtMs: availableAtMs, handOutId: 0 });
  }

  private addLease(offset: number, lease: Lease): void {
    assert(offset < this.frontier, 'leasing an offset beyond the frontier');
    const size = this.leases.size;
    if (size === 0) {
      this.leasesAscending = true;
      this.leasesLast = -1;
    }
    this.leases.set(offset, lease);
    assert(this.leases.size === size + 1, 'leasing an offset twice');
    if (offset > this.leasesLast) this.leasesLast = offset;
    else this.leasesAscending = false;
    if (lease.expiresAtMs < this.nextExpiryMs) this.nextExpiryMs = lease.expiresAtMs;
  }

  /** A delivery of `offset` ended without a commit. */
  private countReturn(offset: number): void {
    this.returned.set(offset, (this.returned.get(offset) ?? 0) + 1);
  }

  /** Removes the lease of `offset` held by `ownerId`; false when it holds none. */
  private dropLease(offset: number, ownerId: number): boolean {
    const lease = this.leases.get(offset);
    if (lease === undefined || lease.ownerId !== ownerId || ownerId === PARKED_OWNER) return false;
    this.leases.delete(offset);
    const owned = this.byOwner.get(ownerId);
    if (owned !== undefined) {
      owned.offsets.delete(offset);
      if (owned.offsets.size === 0) this.byOwner.delete(ownerId);
    }
    return true;
  }

  /** True when `offset` may not be handed out again under the current policy. */
  private exhausted(offset: number): boolean {
    const max = this.policy.maxDeliveries;
    return max > 0 && (this.returned.get(offset) ?? 0) >= max;
  }

  /**
   * Offsets that came back without a commit: each goes to dead-lettering when exhausted, else to
   * redelivery. `reason` undefined keeps the last reason (a parked record keeps its nack reason).
   */
  private giveBack(offsets: readonly number[], reason: string | undefined): void {
    const again: number[] = [];
    for (const offset of offsets) {
      if (reason !== undefined) this.reasons.set(offset, reason);
      if (this.exhausted(offset)) {
        this.deadLettering.add(offset);
        this.deadLettersDue.push(offset);
      } else {
        again.push(offset);
      }
    }
    this.putBack(again);
  }

  /**
   * The member `ownerId` gives back `offset`: it is handed out again at once (`availableAtMs`
   * undefined) or parked until `availableAtMs`; when exhausted it is dead-lettered instead. False
   * when `ownerId` holds no lease on it.
   */
  nack(ownerId: number, offset: number, availableAtMs: number | undefined, reason: string): boolean {
    if (!this.dropLease(offset, ownerId)) return false;
    this.countReturn(offset);
    this.reasons.set(offset, reason);
    if (availableAtMs === undefined || this.exhausted(offset)) this.giveBack([offset], undefined);
    else this.park(offset, availableAtMs);
    return true;
  }

  /** Makes the lease `ownerId` holds on `offset` end at `expiresAtMs`; false when it holds none. */
  extend(ownerId: number, offset: number, expiresAtMs: number): boolean {
    const lease = this.leases.get(offset);
    if (lease === undefined || lease.ownerId !== ownerId || ownerId === PARKED_OWNER) return false;
    this.leases.set(offset, { ownerId, expiresAtMs, handOutId: lease.handOutId });
    // nextExpiryMs stays a lower bound when the lease grows; it must drop when the lease shrinks.
    if (expiresAtMs < this.nextExpiryMs) this.nextExpiryMs = expiresAtMs;
    return true;
  }

  /** Removes and returns the offsets due for the dead-letter topic, lowest first. */
  takeDeadLetters(): number[] {
    if (this.deadLettersDue.length === 0) return [];
    const due = this.deadLettersDue.sort((a, b) => a - b);
    this.deadLettersDue = [];
    return due;
  }

  /** Delivery count and last reason of a record being dead-lettered. */
  deadLetterInfo(offset: number): DeadLetterInfo {
    return { deliveries: this.returned.get(offset) ?? 0, reason: this.reasons.get(offset) ?? ReleaseReason.nacked };
  }

  /** Its dead-letter copy is durable: acknowledges `offset`. False when a seek dropped it meanwhile. */
  settleDeadLetter(offset: number): boolean {
    if (!this.deadLettering.delete(offset)) return false;
    this.returned.delete(offset);
    this.reasons.delete(offset);
    return true;
  }

  /** Copying failed: `offset` waits for redelivery again (and is dead-lettered when it next comes back). */
  failDeadLetter(offset: number): boolean {
    if (!this.deadLettering.delete(offset)) return false;
    this.putBack([offset]);
    return true;
  }

  /** Forgets the counts of offsets the log no longer retains (acknowledged by being gone). */
  forgetCounts(offsets: Iterable<number>): void {
    if (this.returned.size === 0 && this.reasons.size === 0) return;
    for (const offset of offsets) {
      this.returned.delete(offset);
      this.reasons.delete(offset);
    }
  }

  /**
   * Acknowledges every record leased to `ownerId` below `below` by a hand-out numbered at most
   * `seenHandOutId` (the member has seen those); returns how many.
   */
  ack(ownerId: number, below: number, seenHandOutId = Number.POSITIVE_INFINITY): number {
    const owned = this.byOwner.get(ownerId);
    if (owned === undefined) return 0;
    let count = 0;
    const counted = this.returned.size > 0 || this.reasons.size > 0;
    const offsets = owned.offsets;
    for (const offset of offsets) {
      if (offset >= below) {
        // Held in ascending order: the rest is above `below` too. (A cumulative commit usually
        // covers the oldest part of what a member holds, so this is what keeps a commit cheap.)
        if (owned.ascending) break;
        continue;
      }
      if (this.leases.get(offset)!.handOutId > seenHandOutId) continue;
      offsets.delete(offset);
      this.leases.delete(offset);
      if (counted) {
        this.returned.delete(offset);
        this.reasons.delete(offset);
      }
      count++;
    }
    if (offsets.size === 0) this.byOwner.delete(ownerId);
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
    const offsets = [...owned.offsets];
    for (const offset of offsets) {
      this.leases.delete(offset);
      this.countReturn(offset);
    }
    this.giveBack(offsets, ReleaseReason.closed);
    return offsets.length;
  }

  /**
   * Releases every lease that expired at or before `nowMs` (parked records whose delay ended
   * included, keeping their nack reason); returns how many.
   */
  expire(nowMs: number): number {
    if (nowMs < this.nextExpiryMs) return 0;
    const expired: number[] = [];
    const unparked: number[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [offset, lease] of this.leases) {
      if (lease.expiresAtMs > nowMs) {
        if (lease.expiresAtMs < next) next = lease.expiresAtMs;
        continue;
      }
      if (lease.ownerId === PARKED_OWNER) unparked.push(offset);
      else expired.push(offset);
      const owned = this.byOwner.get(lease.ownerId);
      if (owned !== undefined) {
        owned.offsets.delete(offset);
        if (owned.offsets.size === 0) this.byOwner.delete(lease.ownerId);
      }
    }
    this.nextExpiryMs = next;
    for (const offset of expired) {
      this.leases.delete(offset);
      this.countReturn(offset);
    }
    for (const offset of unparked) this.leases.delete(offset);
    this.giveBack(expired, ReleaseReason.expired);
    this.giveBack(unparked, undefined);
    return expired.length + unparked.length;
  }

  /** Moves the group to `offset`: every lease and pending redelivery is dropped. */
  seek(offset: number): void {
    this.handOuts.clear();
    this.leases.clear();
    this.byOwner.clear();
    this.redeliver = [];
    this.returned.clear();
    this.reasons.clear();
    this.deadLettering.clear();
    this.deadLettersDue = [];
    this.frontier = offset;
  }

  /**
   * Drops redeliveries and leases below `firstAvailable` (records the log no longer retains); returns
   * how many never-handed-out offsets the frontier skipped.
   */
  forgetBelow(firstAvailable: number): number {
    if (this.redeliver.length > 0 && this.redeliver[0] < firstAvailable) {
      this.redeliver = this.redeliver.filter((o) => o >= firstAvailable);
    }
    for (const offset of this.returned.keys()) {
      if (offset < firstAvailable && !this.leases.has(offset) && !this.deadLettering.has(offset)) this.forgetCounts([offset]);
    }
    if (this.frontier >= firstAvailable) return 0;
    const skipped = firstAvailable - this.frontier;
    this.frontier = firstAvailable;
    return skipped;
  }
}

/**
 * The offsets one member holds, in the order it was given them, and whether that order is
 * ascending (true for one member reading fresh records; a redelivery of a lower offset ends it until
 * the member holds nothing and the set is made anew).
 */
class OwnedOffsets {
  readonly offsets = new Set<number>();
  ascending = true;
  #last = -1;

  add(offset: number): void {
    this.offsets.add(offset);
    if (offset > this.#last) this.#last = offset;
    else this.ascending = false;
  }
}

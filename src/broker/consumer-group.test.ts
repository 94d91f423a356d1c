import { describe, expect, it } from 'vitest';
import { ConsumerGroup, ReleaseReason } from './consumer-group.js';

/** Hands the next `count` fresh records to `owner` (the high watermark is never the limit here). */
function handOut(g: ConsumerGroup, owner: number, count: number, expiresAtMs: number): number[] {
  const h = g.beginHandOut(count, Number.MAX_SAFE_INTEGER)!;
  expect(g.endHandOut(h)).toBe(true);
  const offsets = Array.from({ length: h.freshCount }, (_, i) => h.freshStart + i);
  for (const o of offsets) g.lease(o, owner, expiresAtMs);
  return offsets;
}

describe('ConsumerGroup', () => {
  it('cursor is the lowest unacknowledged offset across members', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 3, 100); // 0,1,2 to member 1
    handOut(g, 2, 3, 100); // 3,4,5 to member 2
    expect(g.cursor()).toBe(0);
    expect(g.ack(2, 6)).toBe(3);
    expect(g.cursor()).toBe(0); // member 1 still holds 0..2
    expect(g.ack(1, 2)).toBe(2); // acks 0,1 only
    expect(g.cursor()).toBe(2);
    expect(g.ack(1, 100)).toBe(1);
    expect(g.cursor()).toBe(6);
    expect(g.inFlight).toBe(0);
  });

  it('leaseAll shares one lease per hand-out; extending one record leaves the others as they were', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    const h = g.beginHandOut(3, Number.MAX_SAFE_INTEGER)!;
    expect(g.endHandOut(h)).toBe(true);
    g.leaseAll([{ offset: 0 }, { offset: 1 }, { offset: 2 }], 1, 100, 5);
    expect(g.inFlight).toBe(3);
    expect([0, 1, 2].map((o) => g.deliveryCount(o))).toEqual([1, 1, 1]);
    expect(g.extend(1, 1, 500)).toBe(true);
    expect(g.expire(200)).toBe(2); // 0 and 2 expire; 1 was extended
    expect(g.takeRedeliveries(10)).toEqual([0, 2]);
    expect(g.deliveryCount(0)).toBe(1); // one delivery that ended without a commit
    expect(g.ack(1, 3, 4)).toBe(0); // hand-out 5 is not seen yet
    expect(g.ack(1, 3, 5)).toBe(1);
    expect(g.deliveryCount(1)).toBe(0);
  });

  it('cursor and ack stay exact when a member is given a lower offset after higher ones', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 3, 100); // 0,1,2 to member 1
    handOut(g, 2, 5, 100); // 3..7 to member 2
    expect(g.ack(2, 5)).toBe(2); // 3,4: the ascending fast path stops at 5
    expect(g.cursor()).toBe(0);
    expect(g.ack(1, 1)).toBe(1);
    expect(g.cursor()).toBe(1);
    handOut(g, 2, 2, 300); // 8,9
    expect(g.expire(150)).toBe(5); // 1,2 (member 1) and 5,6,7 (member 2) come back
    expect(g.takeRedeliveries(1)).toEqual([1]);
    g.lease(1, 2, 300); // redelivered below what member 2 holds: order no longer ascending
    expect(g.cursor()).toBe(1);
    expect(g.ack(2, 9)).toBe(2); // 1 and 8, found by a full scan
    expect(g.cursor()).toBe(2);
    expect(g.inFlight).toBe(1);
    expect(g.ack(2, 100)).toBe(1);
    expect(g.cursor()).toBe(2); // 2, 5, 6, 7 wait for redelivery
  });

  it('acks only what the committing member was given', () => {
    const g = new ConsumerGroup('t', 'g', 10);
    handOut(g, 1, 2, 100);
    expect(g.ack(2, 100)).toBe(0);
    expect(g.cursor()).toBe(10);
  });

  it('expired leases come back lowest first and keep the cursor down', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 2, 100);
    handOut(g, 1, 2, 200);
    expect(g.expire(99)).toBe(0);
    expect(g.expire(150)).toBe(2);
    expect(g.cursor()).toBe(0);
    expect(g.inFlight).toBe(2);
    expect(g.takeRedeliveries(1)).toEqual([0]);
    g.lease(0, 2, 300);
    expect(g.takeRedeliveries(10)).toEqual([1]);
    g.lease(1, 2, 300);
    expect(g.ack(1, 10)).toBe(2); // 2,3 from the original member
    expect(g.cursor()).toBe(0);
    expect(g.ack(2, 10)).toBe(2);
    expect(g.cursor()).toBe(4);
  });

  it('leases of different lengths expire independently', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 1, 500); // offset 0, long lease
    handOut(g, 2, 1, 100); // offset 1, short lease
    expect(g.expire(50)).toBe(0);
    expect(g.expire(200)).toBe(1);
    expect(g.takeRedeliveries(5)).toEqual([1]);
    expect(g.inFlight).toBe(1);
    expect(g.expire(499)).toBe(0);
    expect(g.expire(500)).toBe(1);
    expect(g.takeRedeliveries(5)).toEqual([0]);
  });

  it('a closed member releases everything it held; a late ack from it is a no-op', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 3, 100);
    expect(g.release(1)).toBe(3);
    expect(g.pendingRedelivery).toBe(3);
    expect(g.ack(1, 10)).toBe(0);
    expect(g.cursor()).toBe(0);
  });

  it('seek drops leases and redeliveries', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 3, 100);
    g.expire(100);
    g.seek(50);
    expect(g.cursor()).toBe(50);
    expect(g.inFlight).toBe(0);
    expect(g.pendingRedelivery).toBe(0);
  });

  it('a hand-out being read holds the cursor down, even across another member\'s commit', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 5, 100); // 0..4 to member 1
    const reading = g.beginHandOut(5, 100)!; // 5..9 reserved by member 2's fetch, still reading
    expect(reading).toMatchObject({ freshStart: 5, freshCount: 5, low: 5 });
    g.ack(1, 5);
    expect(g.cursor()).toBe(5); // not 10: nobody has been given 5..9 yet
    expect(g.endHandOut(reading)).toBe(true);
    g.lease(5, 2, 100);
    g.putBack([6, 7, 8, 9]);
    expect(g.cursor()).toBe(5);
  });

  it('redeliveries come before fresh records and respect the high watermark', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 3, 100);
    g.release(1);
    const h = g.beginHandOut(5, 4)!;
    expect(h).toMatchObject({ redelivered: [0, 1, 2], freshStart: 3, freshCount: 1, low: 0 });
    expect(g.beginHandOut(5, 4)).toBeUndefined();
  });

  it('seek cancels hand-outs in progress', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    const h = g.beginHandOut(5, 10)!;
    g.seek(7);
    expect(g.endHandOut(h)).toBe(false);
    expect(g.cursor()).toBe(7);
  });

  it('counts deliveries per offset until acknowledged', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 2, 100);
    expect(g.deliveryCount(0)).toBe(1);
    g.expire(100);
    expect(g.takeRedeliveries(5)).toEqual([0, 1]);
    g.lease(0, 2, 300);
    expect(g.deliveryCount(0)).toBe(2);
    g.ack(2, 1);
    expect(g.deliveryCount(0)).toBe(0);
  });

  it('nack gives a record back at once; only its holder may nack it', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 3, 100);
    expect(g.nack(2, 1, undefined, 'x')).toBe(false);
    expect(g.nack(1, 7, undefined, 'x')).toBe(false);
    expect(g.nack(1, 1, undefined, 'bad')).toBe(true);
    expect(g.nack(1, 1, undefined, 'bad')).toBe(false); // no longer held
    expect(g.inFlight).toBe(2);
    expect(g.takeRedeliveries(5)).toEqual([1]);
    expect(g.ack(1, 3)).toBe(2); // a commit from the nacking member skips the nacked record
  });

  it('a record nacked with a delay is parked: held down, not handed out, back when the delay ends', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 2, 1000);
    expect(g.nack(1, 0, 500, 'later')).toBe(true);
    g.ack(1, 2);
    expect(g.cursor()).toBe(0);
    expect(g.beginHandOut(5, 2)).toBeUndefined();
    expect(g.ack(1, 10)).toBe(0); // parked records belong to nobody
    expect(g.expire(499)).toBe(0);
    expect(g.expire(500)).toBe(1);
    expect(g.takeRedeliveries(5)).toEqual([0]);
  });

  it('extend moves a lease past its original expiry; only its holder may extend it', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    handOut(g, 1, 2, 100);
    expect(g.extend(2, 0, 1000)).toBe(false);
    expect(g.extend(1, 0, 1000)).toBe(true);
    expect(g.expire(100)).toBe(1); // offset 1 only
    expect(g.takeRedeliveries(5)).toEqual([1]);
    expect(g.expire(999)).toBe(0);
    expect(g.extend(1, 0, 50)).toBe(true); // shortening is allowed and honoured
    expect(g.expire(60)).toBe(1);
    expect(g.takeRedeliveries(5)).toEqual([0]);
  });

  it('a record back maxDeliveries times is dead-lettered: held down until settled, then acknowledged', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    g.configure(2, undefined);
    expect(g.policy).toEqual({ maxDeliveries: 2, deadLetterTopic: 't.dlq' });
    handOut(g, 1, 2, 100); // 0, 1: first delivery
    g.ack(1, 1); // 0 done
    g.expire(100);
    expect(g.takeRedeliveries(5)).toEqual([1]);
    g.lease(1, 1, 200); // second delivery
    expect(g.takeDeadLetters()).toEqual([]);
    g.expire(200);
    expect(g.pendingRedelivery).toBe(0);
    expect(g.takeDeadLetters()).toEqual([1]);
    expect(g.takeDeadLetters()).toEqual([]);
    expect(g.deadLetterInfo(1)).toEqual({ deliveries: 2, reason: ReleaseReason.expired });
    expect(g.cursor()).toBe(1); // not acknowledged before the copy is durable
    expect(g.settleDeadLetter(1)).toBe(true);
    expect(g.cursor()).toBe(2);
    expect(g.settleDeadLetter(1)).toBe(false);
  });

  it('nack and close count toward maxDeliveries and name the last reason', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    g.configure(1, 'parking');
    handOut(g, 1, 2, 100);
    g.nack(1, 0, 10_000, 'poison'); // exhausted: dead-lettered now, not parked
    g.release(1);
    expect(g.takeDeadLetters()).toEqual([0, 1]);
    expect(g.deadLetterInfo(0)).toEqual({ deliveries: 1, reason: 'poison' });
    expect(g.deadLetterInfo(1)).toEqual({ deliveries: 1, reason: ReleaseReason.closed });
    expect(g.inFlight).toBe(0);
  });

  it('a failed dead-letter copy goes back to redelivery; a seek cancels copies in progress', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    g.configure(1, undefined);
    handOut(g, 1, 2, 100);
    g.expire(100);
    expect(g.takeDeadLetters()).toEqual([0, 1]);
    expect(g.failDeadLetter(0)).toBe(true);
    expect(g.takeRedeliveries(5)).toEqual([0]);
    g.seek(5);
    expect(g.settleDeadLetter(1)).toBe(false);
    expect(g.cursor()).toBe(5);
    expect(g.deliveryCount(0)).toBe(0);
  });

  it('maxDeliveries 0 means unlimited', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    g.configure(0, undefined);
    handOut(g, 1, 1, 100);
    for (let i = 0; i < 5; i++) {
      g.release(1);
      expect(g.takeRedeliveries(1)).toEqual([0]);
      g.lease(0, 1, 100);
    }
    expect(g.deliveryCount(0)).toBe(6);
    expect(g.takeDeadLetters()).toEqual([]);
  });

  it('a commit skips leases from hand-outs the member has not seen', () => {
    const g = new ConsumerGroup('t', 'g', 0);
    const h = g.beginHandOut(3, 10)!;
    g.endHandOut(h);
    g.lease(0, 1, 100, 1);
    g.lease(1, 1, 100, 1);
    g.lease(2, 1, 100, 2); // e.g. a nacked record handed straight back, reply still in flight
    expect(g.ack(1, 3, 1)).toBe(2);
    expect(g.cursor()).toBe(2);
    expect(g.ack(1, 3, 2)).toBe(1);
    expect(g.cursor()).toBe(3);
  });
});

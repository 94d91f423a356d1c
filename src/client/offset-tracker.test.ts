import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OffsetTracker } from './offset-tracker.js';

describe('OffsetTracker', () => {
  it('reports 0 before anything is given', () => {
    expect(new OffsetTracker().commitOffset()).toBe(0);
  });

  it('commits one past the highest once everything given is done', () => {
    const tracker = new OffsetTracker();
    for (const offset of [0, 1, 2]) tracker.give(offset);
    expect(tracker.commitOffset()).toBe(0);
    tracker.done(0);
    tracker.done(1);
    expect(tracker.commitOffset()).toBe(2);
    tracker.done(2);
    expect(tracker.commitOffset()).toBe(3);
  });

  it('never passes a pending offset, even when later ones are done', () => {
    const tracker = new OffsetTracker();
    for (const offset of [10, 11, 12]) tracker.give(offset);
    tracker.done(11);
    tracker.done(12);
    expect(tracker.commitOffset()).toBe(10);
    tracker.give(3); // a redelivery of an older record
    tracker.done(10);
    expect(tracker.commitOffset()).toBe(3);
    tracker.done(3);
    expect(tracker.commitOffset()).toBe(13);
  });

  it('flags duplicates of pending offsets', () => {
    const tracker = new OffsetTracker();
    expect(tracker.give(5)).toBe(true);
    expect(tracker.give(5)).toBe(false);
    tracker.done(5);
    expect(tracker.give(5)).toBe(true);
  });

  it('matches a brute-force model', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('give' as const), offset: fc.nat(50) }),
      fc.record({ kind: fc.constant('done' as const), offset: fc.nat(50) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const tracker = new OffsetTracker();
        const pending = new Set<number>();
        let highest = -1;
        for (const { kind, offset } of ops) {
          if (kind === 'give') {
            tracker.give(offset);
            pending.add(offset);
            highest = Math.max(highest, offset);
          } else {
            tracker.done(offset);
            pending.delete(offset);
          }
          const expected = pending.size > 0 ? Math.min(...pending) : highest + 1;
          if (tracker.commitOffset() !== expected) return false;
        }
        return true;
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backoffDelayMs } from './backoff.js';

const policy = { initialDelayMs: 100, maxDelayMs: 5_000, multiplier: 2, jitter: 0.5 };

describe('backoffDelayMs', () => {
  it('doubles from the initial delay up to the cap when random is pinned high', () => {
    const delays = Array.from({ length: 10 }, (_, attempt) => backoffDelayMs(attempt, policy, () => 1));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
  });

  it('takes off at most the jitter fraction', () => {
    expect(backoffDelayMs(0, policy, () => 0)).toBe(50);
    expect(backoffDelayMs(20, policy, () => 0)).toBe(2_500);
  });

  it('never exceeds the cap nor goes below the floor, for any attempt', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const delay = backoffDelayMs(attempt, policy, () => r);
        return delay >= 50 && delay <= policy.maxDelayMs;
      }),
    );
  });

  it('is constant without growth or jitter', () => {
    const flat = { initialDelayMs: 250, maxDelayMs: 250, multiplier: 1, jitter: 0 };
    expect(backoffDelayMs(0, flat, Math.random)).toBe(250);
    expect(backoffDelayMs(99, flat, Math.random)).toBe(250);
  });
});

import { describe, expect, it } from 'vitest';
import { ByteBudget } from './byte-budget.js';

describe('ByteBudget', () => {
  it('admits up to the exact capacity, then makes the next caller wait', async () => {
    const budget = new ByteBudget(100);
    expect(budget.tryAcquire(60)).toBe(true);
    expect(budget.tryAcquire(40)).toBe(true);
    expect(budget.tryAcquire(1)).toBe(false);
    let granted = false;
    const waiting = budget.acquire(1).then(() => (granted = true));
    await Promise.resolve();
    expect(granted).toBe(false);
    budget.release(40);
    await waiting;
    expect(budget.usedBytes).toBe(61);
  });

  it('grants waiters in FIFO order; a small later request does not overtake a big earlier one', async () => {
    const budget = new ByteBudget(10);
    budget.tryAcquire(10);
    const order: string[] = [];
    const big = budget.acquire(8).then(() => order.push('big'));
    expect(budget.tryAcquire(1)).toBe(false);
    const small = budget.acquire(2).then(() => order.push('small'));
    budget.release(10);
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
  });

  it('admits one oversized request when nothing else is held', async () => {
    const budget = new ByteBudget(10);
    expect(budget.tryAcquire(11)).toBe(true);
    expect(budget.tryAcquire(1)).toBe(false);
    budget.release(11);
    expect(budget.tryAcquire(0)).toBe(true);
  });

  it('rejects a waiter whose signal aborts and lets the next one through', async () => {
    const budget = new ByteBudget(10);
    budget.tryAcquire(5);
    const controller = new AbortController();
    const aborted = budget.acquire(10, controller.signal);
    const next = budget.acquire(5);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    await next;
    expect(budget.usedBytes).toBe(10);
  });

  it('rejectAll fails every waiter', async () => {
    const budget = new ByteBudget(1);
    budget.tryAcquire(1);
    const a = budget.acquire(1);
    budget.rejectAll(new Error('closed'));
    await expect(a).rejects.toThrow('closed');
  });
});

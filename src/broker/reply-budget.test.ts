import { describe, expect, it } from 'vitest';
import { ReplyBudget } from './reply-budget.js';

describe('ReplyBudget', () => {
  it('admits up to the cap, queues the rest in order, and admits them on pump', async () => {
    const queued = { bytes: 0 };
    const budget = new ReplyBudget(100, () => queued.bytes);
    expect(budget.acquire(60)).toBeUndefined();
    const order: number[] = [];
    const second = budget.acquire(60)!;
    const third = budget.acquire(10)!; // would fit, but waits behind the second (FIFO)
    void second.then(() => order.push(2));
    void third.then(() => order.push(3));
    budget.release(60);
    queued.bytes = 150; // the first reply is queued and the client is not reading: over the cap
    budget.pump();
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual([]);
    queued.bytes = 0; // client read it
    budget.pump();
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual([2, 3]);
    expect(budget.reservedBytes).toBe(70);
  });

  it('lets one oversized fetch run when nothing is reserved and the queue is within the cap', () => {
    const budget = new ReplyBudget(100, () => 0);
    expect(budget.acquire(1000)).toBeUndefined();
  });

  it('admits nothing while the queue is over the cap, everyone once closed', async () => {
    const budget = new ReplyBudget(100, () => 500);
    const waiting = budget.acquire(1)!;
    expect(waiting).toBeInstanceOf(Promise);
    budget.close();
    await waiting;
  });
});

import { describe, expect, it } from 'vitest';
import { CommitScheduler } from './commit-scheduler.js';
import { ConnectionError } from './errors.js';

/** A fake commit sender: records offsets, replies when told to. */
function harness() {
  const sent: number[] = [];
  const replies: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const scheduler = new CommitScheduler(
    (offset) =>
      new Promise<void>((resolve, reject) => {
        sent.push(offset);
        replies.push({ resolve, reject });
      }),
  );
  return { scheduler, sent, replies };
}

function giveAndYield(scheduler: CommitScheduler, offsets: number[], firstSequence = 0): void {
  offsets.forEach((offset, i) => {
    scheduler.give(offset);
    scheduler.yielded(firstSequence + i, offset);
  });
}

describe('CommitScheduler', () => {
  it('commits one past the message: the user never does offset + 1', async () => {
    const { scheduler, sent, replies } = harness();
    giveAndYield(scheduler, [0, 1, 2]);
    const done = scheduler.done(0);
    expect(sent).toEqual([1]);
    replies[0].resolve();
    await done;
  });

  it('is cumulative in yield order', async () => {
    const { scheduler, sent, replies } = harness();
    giveAndYield(scheduler, [5, 6, 7]);
    const done = scheduler.done(2);
    expect(sent).toEqual([8]);
    replies[0].resolve();
    await done;
    expect(scheduler.outstandingCount).toBe(0);
  });

  it('folds marks made while a commit is in flight into one follow-up', async () => {
    const { scheduler, sent, replies } = harness();
    giveAndYield(scheduler, [0, 1, 2, 3]);
    const first = scheduler.done(0);
    const second = scheduler.done(1);
    const third = scheduler.done(2);
    expect(sent).toEqual([1]);
    replies[0].resolve();
    await first;
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toEqual([1, 3]);
    replies[1].resolve();
    await Promise.all([second, third]);
  });

  it('never acknowledges a record still buffered below a done one, and does not block on it', async () => {
    const { scheduler, sent } = harness();
    giveAndYield(scheduler, [10, 11]);
    scheduler.give(3); // a redelivery sitting in the buffer, not yet yielded
    await scheduler.done(1); // resolves: nothing can be sent yet
    expect(sent).toEqual([]);
  });

  it('re-commits when a record comes back below what was acknowledged', async () => {
    const { scheduler, sent, replies } = harness();
    giveAndYield(scheduler, [0, 1]);
    const a = scheduler.done(1);
    replies[0].resolve();
    await a;
    scheduler.give(1); // its lease expired before our commit landed and it came back to us
    scheduler.yielded(2, 1);
    const b = scheduler.done(2);
    expect(sent).toEqual([2, 2]);
    replies[1].resolve();
    await b;
  });

  it('resolves when the connection dropped (the lease is gone) and rejects other failures', async () => {
    const { scheduler, replies } = harness();
    giveAndYield(scheduler, [0, 1]);
    const lost = scheduler.done(0);
    replies[0].reject(new ConnectionError('CONNECTION_LOST', 'lost', true));
    await expect(lost).resolves.toBeUndefined();
    const failed = scheduler.done(1);
    replies[1].reject(new Error('boom'));
    await expect(failed).rejects.toThrow('boom');
  });

  it('starts over after reset', async () => {
    const { scheduler, sent, replies } = harness();
    giveAndYield(scheduler, [40, 41]);
    scheduler.reset();
    expect(scheduler.outstandingCount).toBe(0);
    giveAndYield(scheduler, [40], 10);
    const done = scheduler.done(10);
    expect(sent).toEqual([41]);
    replies[0].resolve();
    await done;
  });

  it('a released (nacked) message no longer holds the offset down, and a later done() does not count it', async () => {
    const { scheduler, sent, replies } = harness();
    giveAndYield(scheduler, [0, 1, 2]);
    scheduler.release(1, 1);
    const first = scheduler.done(2); // 0 and 2 done; 1 was given back
    expect(sent).toEqual([3]);
    replies[0].resolve();
    await first;
    // The broker handed 1 back to this connection: a new message, pending until done.
    expect(scheduler.give(1)).toBe(true);
    scheduler.yielded(3, 1);
    expect(scheduler.unfinishedCount).toBe(1);
    const second = scheduler.done(3);
    expect(sent).toEqual([3, 3]);
    replies[1].resolve();
    await second;
    expect(scheduler.unfinishedCount).toBe(0);
  });
});

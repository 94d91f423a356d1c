import { describe, expect, it } from 'vitest';
import { TopicWaiters, Waiter } from './long-poll.js';
import type { BrokerEngine } from './engine-port.js';

/** Just the watch part of the engine. */
function watchOnly() {
  const listeners = new Map<string, Set<(n: number) => void>>();
  const engine = {
    hasTopic: () => true,
    watch(topic: string, listener: (n: number) => void) {
      const set = listeners.get(topic) ?? new Set();
      listeners.set(topic, set);
      set.add(listener);
      return () => set.delete(listener);
    },
  } as unknown as BrokerEngine;
  const emit = (topic: string, n: number) => listeners.get(topic)?.forEach((l) => l(n));
  return { engine, emit, listeners };
}

describe('Waiter', () => {
  it('remembers a wake that came before wait()', async () => {
    const w = new Waiter();
    w.wake();
    await w.wait(60_000); // resolves at once
    expect(w.woken).toBe(true);
  });

  it('resolves at the deadline when nobody wakes it', async () => {
    const w = new Waiter();
    await w.wait(5);
    expect(w.woken).toBe(true);
  });
});

describe('TopicWaiters', () => {
  it('subscribes to the engine while a topic has waiters and wakes them on notifications', async () => {
    const { engine, emit, listeners } = watchOnly();
    const seen: Array<[string, number]> = [];
    const waiters = new TopicWaiters(engine, (topic, n) => seen.push([topic, n]));
    const a = waiters.add('t');
    const b = waiters.add('t');
    expect(listeners.get('t')!.size).toBe(1);
    emit('t', 7);
    await Promise.all([a.wait(60_000), b.wait(60_000)]);
    expect(seen).toEqual([['t', 7]]);
    waiters.remove('t', a);
    waiters.remove('t', b);
    expect(listeners.get('t')!.size).toBe(0);
    expect(waiters.size).toBe(0);
  });

  it('notify and wakeAll wake only what they should', () => {
    const { engine } = watchOnly();
    const waiters = new TopicWaiters(engine, () => {});
    const x = waiters.add('x');
    const y = waiters.add('y');
    waiters.notify('x');
    expect([x.woken, y.woken]).toEqual([true, false]);
    waiters.wakeAll();
    expect(y.woken).toBe(true);
  });
});

/**
 * Long-poll waiters per topic. A fetch registers a waiter *before* it reads, so a record that becomes
 * visible between the read and the wait still wakes it (the waiter remembers the wake). Waiters are
 * woken by the engine's `watch` notifications (subscribed while a topic has waiters), by the broker's
 * own produces, by lease expiry and releases (group fetches), and all at once at shutdown.
 *
 * Sizing: at most one waiter per fetch in flight, and fetches per connection are capped
 * (CONNECTION_REQUESTS_IN_FLIGHT_MAX), so the sets stay bounded by connections × that cap.
 */
import type { BrokerEngine } from './engine-port.js';

/** One fetch waiting for records on one topic. */
export class Waiter {
  woken = false;
  private resolveWait: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** Resolves when woken (immediately if already woken) or after `waitMs`. */
  wait(waitMs: number): Promise<void> {
    if (this.woken || waitMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.resolveWait = resolve;
      this.timer = setTimeout(() => this.wake(), waitMs);
    });
  }

  /** Wakes the waiter; idempotent. */
  wake(): void {
    this.woken = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const resolve = this.resolveWait;
    this.resolveWait = undefined;
    resolve?.();
  }
}

/** Waiters by topic, plus the engine subscriptions that wake them. */
export class TopicWaiters {
  private readonly engine: BrokerEngine;
  private readonly onVisible: (topic: string, nextOffset: number) => void;
  private readonly byTopic = new Map<string, Set<Waiter>>();
  private readonly unsubscribes = new Map<string, () => void>();

  /** `onVisible` sees every engine notification (the broker advances its high watermarks with it). */
  constructor(engine: BrokerEngine, onVisible: (topic: string, nextOffset: number) => void) {
    this.engine = engine;
    this.onVisible = onVisible;
  }

  /** Waiters currently registered (for metrics and tests). */
  get size(): number {
    let n = 0;
    for (const set of this.byTopic.values()) n += set.size;
    return n;
  }

  /** Registers a waiter on `topic`; call `remove` when done with it. */
  add(topic: string): Waiter {
    const waiter = new Waiter();
    let set = this.byTopic.get(topic);
    if (set === undefined) {
      set = new Set();
      this.byTopic.set(topic, set);
    }
    set.add(waiter);
    if (!this.unsubscribes.has(topic)) this.subscribe(topic);
    return waiter;
  }

  remove(topic: string, waiter: Waiter): void {
    const set = this.byTopic.get(topic);
    if (set === undefined) return;
    set.delete(waiter);
    if (set.size > 0) return;
    this.byTopic.delete(topic);
    const unsubscribe = this.unsubscribes.get(topic);
    this.unsubscribes.delete(topic);
    unsubscribe?.();
  }

  /** Wakes every waiter on `topic`. */
  notify(topic: string): void {
    const set = this.byTopic.get(topic);
    if (set === undefined) return;
    for (const waiter of set) waiter.wake();
  }

  /** Drops the engine subscription of a deleted topic and wakes its waiters so they re-read. */
  forgetTopic(topic: string): void {
    const unsubscribe = this.unsubscribes.get(topic);
    this.unsubscribes.delete(topic);
    unsubscribe?.();
    const set = this.byTopic.get(topic);
    if (set !== undefined) for (const waiter of set) waiter.wake();
  }

  /** Wakes every waiter (shutdown). */
  wakeAll(): void {
    for (const set of this.byTopic.values()) for (const waiter of set) waiter.wake();
  }

  /** Subscribes to engine notifications for `topic` (the engine accepts watches on topics not yet created). */
  private subscribe(topic: string): void {
    const unsubscribe = this.engine.watch(topic, (nextOffset) => {
      this.onVisible(topic, nextOffset);
      const set = this.byTopic.get(topic);
      if (set !== undefined) for (const waiter of set) waiter.wake();
    });
    this.unsubscribes.set(topic, unsubscribe);
  }
}

/**
 * Cached `nextOffset` per topic, so a fetch reply's `highWatermark` and a group's "how many records
 * can I reserve" cost no engine call. The broker is the log's only writer, so the cache is advanced by
 * its own produces and by the engine's `watch` notifications; it is filled from `topicStats` once per
 * topic and forgotten when the topic is deleted.
 */
import type { BrokerEngine } from './engine-port.js';

/** Per-topic next-offset cache. */
export class HighWatermarks {
  private readonly engine: BrokerEngine;
  private readonly nextOffsets = new Map<string, number>();

  constructor(engine: BrokerEngine) {
    this.engine = engine;
  }

  /** Next offset of `topic`; 0 when it does not exist. */
  async get(topic: string): Promise<number> {
    const cached = this.nextOffsets.get(topic);
    if (cached !== undefined) return cached;
    if (!this.engine.hasTopic(topic)) return 0;
    const stats = await this.engine.topicStats(topic);
    this.advance(topic, stats.nextOffset);
    return this.nextOffsets.get(topic) ?? stats.nextOffset;
  }

  /** Cached value only (undefined when not loaded). */
  peek(topic: string): number | undefined {
    return this.nextOffsets.get(topic);
  }

  /** Records that `topic` now holds offsets below `nextOffset`; never moves backwards. */
  advance(topic: string, nextOffset: number): void {
    const cached = this.nextOffsets.get(topic);
    if (cached === undefined || nextOffset > cached) this.nextOffsets.set(topic, nextOffset);
  }

  /** Forgets `topic` (deleted). */
  forget(topic: string): void {
    this.nextOffsets.delete(topic);
  }
}

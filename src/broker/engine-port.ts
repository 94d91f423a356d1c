/**
 * The part of the engine (`Walrus`, src/engine) the broker uses. The broker depends on this shape,
 * not on the class, so tests and benches can hand `startBroker` an opened engine or a double.
 */
import type { Entry, ReadFromOptions, TopicStats } from '../engine/types.js';

/** Engine operations the broker calls. `Walrus` satisfies it structurally. */
export interface BrokerEngine {
  appendForTopic(topic: string, data: Uint8Array): Promise<number>;
  batchAppendForTopic(topic: string, entries: Uint8Array[]): Promise<{ baseOffset: number; count: number }>;
  readFrom(topic: string, offset: number, options?: ReadFromOptions): Promise<Entry[]>;
  commitCursor(topic: string, cursor: string, nextOffset: number): Promise<void>;
  cursorPosition(topic: string, cursor?: string): Promise<number>;
  topics(): string[];
  topicStats(topic: string): Promise<TopicStats>;
  createTopic(topic: string, config?: { retentionMs?: number; retentionBytes?: number }): Promise<void>;
  firstRetainedOffset(topic: string): number;
  hasTopic(topic: string): boolean;
  deleteTopic(topic: string): Promise<void>;
  close(): Promise<void>;
  watch(topic: string, listener: (nextOffset: number) => void): () => void;
  readonly backend: { name: string; reason: string };
  /** Read path (`mmap` or `pread`) and why. */
  readonly reads: { name: string; reason: string };
}

export type { Entry, TopicStats };

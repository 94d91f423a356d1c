/** The systems a benchmark can load. */
/** `walrus` goes through our SDK; `walrus-raw` sends protocol frames itself (the broker's own cost). */
export const TargetKind = { Walrus: 'walrus', WalrusRaw: 'walrus-raw', Redis: 'redis', JetStream: 'jetstream' } as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

/** Where a worker sends its load: one topic (stream / subject) and one consumer group per case. */
export interface TargetSpec {
  kind: TargetKind;
  host: string;
  port: number;
  /** Topic (Redis stream key, JetStream stream and subject) unique to the case. */
  topic: string;
  /** Consumer group (Redis group, JetStream durable consumer). */
  group: string;
  /** Our SDK producer's linger in ms for this case; unset = WALRUS_LINGER_MS, else the SDK default. */
  lingerMs?: number;
}

/** One producer connection. `send` resolves when the target acknowledged the message. */
export interface ProducerClient {
  send(value: Buffer): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * One group member. `run` delivers each message's payload to `onMessage` and acknowledges what it
 * delivered in batches (the target's group commit), until `signal` aborts.
 */
export interface ConsumerClient {
  run(onMessage: (value: Uint8Array) => void, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** How to load one kind of system. */
export interface TargetDriver {
  /** Creates the topic and a group that starts at the first message; run once before any worker. */
  prepare(spec: TargetSpec): Promise<void>;
  producer(spec: TargetSpec): Promise<ProducerClient>;
  consumer(spec: TargetSpec, memberName: string): Promise<ConsumerClient>;
}

import type { Connection } from './connection.js';
import { clientError, ClientErrorCode } from './errors.js';
import { validateName } from './options.js';
import type { CallOptions, GroupLag, SeekTarget, TopicDescription, TopicRetention } from './types.js';

/**
 * Topic and group administration: thin typed calls over the admin ops. Each fails with the broker's
 * code (`NOT_FOUND`, `INVALID_TOPIC`, …) or a retriable connection code; none is retried silently.
 */
export class Admin {
  readonly #connection: Connection;

  /** Made by the client; reach it as `client.admin`. */
  constructor(connection: Connection) {
    this.#connection = connection;
  }

  /**
   * Creates a topic, with optional retention caps (on an existing topic, given caps replace its caps).
   * Resolves `{ created: false }` when it already existed.
   */
  async createTopic(topic: string, options?: CallOptions & TopicRetention): Promise<{ created: boolean }> {
    const request = { topic: validateName('topic', topic), retentionMs: options?.retentionMs, retentionBytes: options?.retentionBytes };
    const result = await this.#connection.request('createTopic', request, options);
    return { created: result.created };
  }

  /** Deletes a topic, its records and its groups' cursors. */
  async deleteTopic(topic: string, options?: CallOptions): Promise<void> {
    await this.#connection.request('deleteTopic', { topic: validateName('topic', topic) }, options);
  }

  /** Names of all topics. */
  async listTopics(options?: CallOptions): Promise<string[]> {
    const result = await this.#connection.request('listTopics', {}, options);
    return [...result.topics];
  }

  /** Offsets, bytes and per-group progress of one topic. */
  async describeTopic(topic: string, options?: CallOptions): Promise<TopicDescription> {
    const result = await this.#connection.request('describeTopic', { topic: validateName('topic', topic) }, options);
    return {
      topic: result.topic,
      firstOffset: result.firstOffset,
      nextOffset: result.nextOffset,
      bytes: result.bytes,
      retentionMs: result.retentionMs,
      retentionBytes: result.retentionBytes,
      groups: result.groups.map((g) => ({ group: g.group, committed: g.committed, inFlight: g.inFlight, lag: g.lag })),
    };
  }

  /** Progress of one group on a topic, or undefined when the group has no cursor there yet. */
  async groupLag(topic: string, group: string, options?: CallOptions): Promise<GroupLag | undefined> {
    validateName('group', group);
    const description = await this.describeTopic(topic, options);
    return description.groups.find((g) => g.group === group);
  }

  /**
   * Moves a group's cursor to an offset, the oldest retained record (`'earliest'`) or past the newest
   * (`'latest'`), dropping its leases. Resolves with the new cursor.
   */
  async seek(topic: string, group: string, to: SeekTarget, options?: CallOptions): Promise<{ offset: number }> {
    if (to !== 'earliest' && to !== 'latest' && !(Number.isSafeInteger(to) && to >= 0)) {
      throw clientError(ClientErrorCode.INVALID_ARGUMENT, 'seek target must be an offset ≥ 0, "earliest" or "latest"');
    }
    const result = await this.#connection.request(
      'seek',
      { topic: validateName('topic', topic), group: validateName('group', group), to },
      options,
    );
    return { offset: result.offset };
  }
}

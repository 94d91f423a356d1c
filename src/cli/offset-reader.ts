import { Connection } from '../client/connection.js';
import { resolveConnectOptions } from '../client/options.js';
import type { FetchedRecord } from '../protocol/index.js';
import type { BrokerTarget } from './session.js';

/**
 * Plain offset reads (`fetch` with `offset`, no group) for `tail` without `--group` and for finding
 * an offset by time. The SDK exposes only group consumers, so this opens its own SDK `Connection`
 * (the same request/reply machinery the client uses, without reconnecting): a second connection
 * next to the client's, used by nothing else.
 */
export class OffsetReader {
  readonly #connection: Connection;

  private constructor(connection: Connection) {
    this.#connection = connection;
  }

  /** Connects (one attempt, bounded by the target's connect timeout). */
  static async open(target: BrokerTarget): Promise<OffsetReader> {
    const settings = resolveConnectOptions({
      host: target.host,
      port: target.port,
      token: target.token,
      tls: target.tls,
      clientId: 'walrus-cli-reader',
      reconnect: false,
      connectTimeoutMs: target.connectTimeoutMs,
    });
    const ignore = (): void => {};
    const connection = new Connection(settings, { onConnected: ignore, onDisconnected: ignore, onReconnecting: ignore, onGaveUp: ignore });
    await connection.start(AbortSignal.timeout(target.connectTimeoutMs));
    return new OffsetReader(connection);
  }

  /**
   * Records from `offset` on (from the oldest retained one when `offset` is below it), at most
   * `maxRecords`; with `maxWaitMs` > 0 waits that long for a first record.
   */
  async read(topic: string, offset: number, maxRecords: number, maxWaitMs = 0, signal?: AbortSignal): Promise<{ records: FetchedRecord[]; highWatermark: number }> {
    const result = await this.#connection.request('fetch', { topic, offset, maxRecords, maxWaitMs }, { signal });
    return { records: result.records ?? [], highWatermark: result.highWatermark };
  }

  /**
   * The first offset in `[firstOffset, nextOffset)` whose record was appended at or after `timeMs`,
   * or `nextOffset` when none was. A binary search over one-record reads: append timestamps are
   * taken in offset order, so they do not decrease (a clock stepped back breaks that, and the search
   * then lands on some record near the step).
   */
  async offsetAtTime(topic: string, firstOffset: number, nextOffset: number, timeMs: number): Promise<number> {
    let low = firstOffset;
    let high = nextOffset;
    while (low < high) {
      const middle = low + Math.floor((high - low) / 2);
      const [record] = (await this.read(topic, middle, 1)).records;
      if (record === undefined || record.timestamp >= timeMs) high = middle;
      else low = record.offset + 1;
    }
    return low;
  }

  /** Closes the connection. */
  close(): void {
    this.#connection.close();
  }
}

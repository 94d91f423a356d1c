/**
 * The seam between the connection state machine and the network. Only `node-transport.ts` imports
 * `node:net`/`node:tls`; tests or other runtimes can hand `connect()` a different `TransportConnector`.
 */

/** Where to connect. */
export interface TransportTarget {
  readonly host: string;
  readonly port: number;
  /** TLS options (passed to `tls.connect`), or undefined for plain TCP. */
  readonly tls: Readonly<Record<string, unknown>> | undefined;
}

/** Callbacks a transport drives; each `close` fires exactly once per transport. */
export interface TransportEvents {
  /** Bytes from the peer, in order. The chunk is owned by the receiver (never reused by the transport). */
  onData(chunk: Buffer): void;
  /** The stream ended, failed or was destroyed; `error` is undefined for a clean end. */
  onClose(error: Error | undefined): void;
}

/** An open byte stream to the broker. */
export interface Transport {
  /** Queues bytes for sending, in order; dropped silently once the stream is closing. */
  write(bytes: Buffer): void;
  /** Tears the stream down now; `onClose` follows. */
  destroy(error?: Error): void;
}

/** Opens a transport; rejects when the connection cannot be established or `signal` aborts. */
export type TransportConnector = (
  target: TransportTarget,
  events: TransportEvents,
  signal: AbortSignal,
) => Promise<Transport>;

/**
 * The SDK's one error family. Callers branch on `code` (stable strings, listed in docs/errors.md and
 * docs/client.md), and on `retriable`: true means "the same call may succeed later, unchanged".
 *
 * Codes come from two tables: the broker's wire codes (`ErrorCode` in src/protocol, each with its own
 * `retriable` flag) and the SDK's own codes below, for failures that never reach the broker.
 */

/** Codes raised by the SDK itself, with whether retrying the same call can succeed. */
export const ClientErrorCode = {
  /** The request was written but the connection dropped before its reply: it may or may not have taken effect. */
  CONNECTION_LOST: { code: 'CONNECTION_LOST', retriable: true },
  /** The client is between connections (reconnecting): the request was not sent. */
  NOT_CONNECTED: { code: 'NOT_CONNECTED', retriable: true },
  /** A connect attempt or `hello` exchange did not finish in time. */
  CONNECT_TIMEOUT: { code: 'CONNECT_TIMEOUT', retriable: true },
  /** The broker sent something the SDK cannot interpret; the connection is dropped and re-opened. */
  PROTOCOL_VIOLATION: { code: 'PROTOCOL_VIOLATION', retriable: true },
  /** `close()` was called; nothing further will be sent. */
  CLIENT_CLOSED: { code: 'CLIENT_CLOSED', retriable: false },
  /** The caller's `AbortSignal` fired. `cause` holds `signal.reason`. */
  ABORTED: { code: 'ABORTED', retriable: false },
  /** An option failed validation; raised before any socket opens. */
  INVALID_OPTION: { code: 'INVALID_OPTION', retriable: false },
  /** An argument to a call (value, topic, message) is of the wrong type or size. */
  INVALID_ARGUMENT: { code: 'INVALID_ARGUMENT', retriable: false },
  /** One record cannot fit in a frame the broker accepts (`hello.maxFrameBytes`); nothing was sent. */
  RECORD_TOO_LARGE: { code: 'RECORD_TOO_LARGE', retriable: false },
  /** The configured serializer threw; `cause` holds its error. */
  SERIALIZE_FAILED: { code: 'SERIALIZE_FAILED', retriable: false },
  /** The configured deserializer threw on a record; `cause` holds its error. */
  DESERIALIZE_FAILED: { code: 'DESERIALIZE_FAILED', retriable: false },
  /**
   * This client already has a consumer for the topic and group, or had one that closed holding
   * unfinished records on the current connection: either way they would share one lease set.
   */
  CONSUMER_EXISTS: { code: 'CONSUMER_EXISTS', retriable: false },
  /** A consumer has one reader at a time; another `messages()`/`batches()` loop is running. */
  ITERATOR_ACTIVE: { code: 'ITERATOR_ACTIVE', retriable: false },
} as const;
/** A code raised by the SDK itself. */
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode]['code'];

/** Options common to every `WalrusError`. */
export interface WalrusErrorOptions {
  /** The underlying error (socket error, signal reason, serializer exception, …). */
  cause?: unknown;
}

/** Base class of every error the SDK throws on purpose. */
export class WalrusError extends Error {
  /** Stable code: one of `ClientErrorCode` or a broker wire code such as `INVALID_TOPIC`. */
  readonly code: string;
  /** True when the same call may succeed later without change (after a reconnect, for example). */
  readonly retriable: boolean;

  constructor(code: string, message: string, retriable: boolean, options?: WalrusErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = retriable;
  }
}

/** An error reply from the broker (`ok: false`): `code` is the broker's wire code. */
export class BrokerError extends WalrusError {}

/** The connection failed, dropped, or is not up; every code of this class is retriable. */
export class ConnectionError extends WalrusError {}

/** The client is closed. */
export class ClientClosedError extends WalrusError {
  constructor(message = 'the client is closed') {
    super(ClientErrorCode.CLIENT_CLOSED.code, message, false);
  }
}

/** The caller's `AbortSignal` fired; `cause` is `signal.reason`. */
export class AbortedError extends WalrusError {
  constructor(reason: unknown) {
    super(ClientErrorCode.ABORTED.code, 'the operation was aborted', false, { cause: reason });
  }
}

/** A bad option or argument, detected before anything was sent. */
export class UsageError extends WalrusError {}

/** Builds the error for a client-side code, taking `retriable` from the table. */
export function clientError(
  entry: (typeof ClientErrorCode)[keyof typeof ClientErrorCode],
  message: string,
  options?: WalrusErrorOptions,
): WalrusError {
  switch (entry.code) {
    case 'CONNECTION_LOST':
    case 'NOT_CONNECTED':
    case 'CONNECT_TIMEOUT':
    case 'PROTOCOL_VIOLATION':
      return new ConnectionError(entry.code, message, entry.retriable, options);
    case 'CLIENT_CLOSED':
      return new ClientClosedError(message);
    case 'ABORTED':
      return new AbortedError(options?.cause);
    default:
      return new UsageError(entry.code, message, entry.retriable, options);
  }
}

/** True for errors worth retrying unchanged; anything that is not a `WalrusError` is not. */
export function isRetriable(error: unknown): boolean {
  return error instanceof WalrusError && error.retriable;
}

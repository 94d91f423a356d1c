/**
 * Every error code that can appear on the wire, as data. A client branches on `code` and on
 * `retriable` (whether sending the same request again, possibly after reconnecting, can succeed);
 * never on message text. docs/errors.md describes each code; keep the two in step.
 */

/** One row of the table. */
export interface ErrorCodeInfo {
  readonly code: string;
  /** True when an identical retry (after a delay or a reconnect) may succeed. */
  readonly retriable: boolean;
  /** True when the broker closes the connection after sending this error. */
  readonly closesConnection: boolean;
  readonly description: string;
}

function row(code: string, retriable: boolean, closesConnection: boolean, description: string): ErrorCodeInfo {
  return { code, retriable, closesConnection, description };
}

/** The wire error table, keyed by code. */
export const ErrorCodes = {
  BAD_FRAME: row('BAD_FRAME', false, false, 'The frame body is not one valid msgpack map.'),
  FRAME_TOO_LARGE: row('FRAME_TOO_LARGE', false, true, 'The declared frame length exceeds maxFrameBytes.'),
  UNKNOWN_OP: row('UNKNOWN_OP', false, false, 'The request op is not one this broker knows.'),
  INVALID_REQUEST: row('INVALID_REQUEST', false, false, 'A field is missing, has the wrong type or is out of range.'),
  INVALID_TOPIC: row('INVALID_TOPIC', false, false, 'The topic name is not 1-249 of [A-Za-z0-9._-], or is "." or "..".'),
  INVALID_GROUP: row('INVALID_GROUP', false, false, 'The group name is not 1-249 of [A-Za-z0-9._-], is "." or "..", or starts with "__".'),
  BATCH_TOO_LARGE: row('BATCH_TOO_LARGE', false, false, 'A produceBatch has more than 2,000 records or too many bytes.'),
  RECORD_TOO_LARGE: row('RECORD_TOO_LARGE', false, false, 'One record exceeds the largest entry the log stores.'),
  NOT_FOUND: row('NOT_FOUND', false, false, 'The topic (or group) does not exist.'),
  NOT_LEASED: row('NOT_LEASED', false, false, 'nack or extend named a record not leased to this connection in this group.'),
  STORAGE_FULL: row('STORAGE_FULL', true, false, 'The broker\'s disk is full; nothing of this request was written.'),
  STORAGE_ERROR: row('STORAGE_ERROR', true, false, 'An I/O error in the log; the request may be retried.'),
  CORRUPT_DATA: row('CORRUPT_DATA', false, false, 'Stored data failed its checksum where valid data must be.'),
  UNSUPPORTED_VERSION: row('UNSUPPORTED_VERSION', false, false, 'hello asked for a protocol version this broker does not speak.'),
  UNAUTHORIZED: row('UNAUTHORIZED', false, true, 'hello carried no token or a wrong one, and the broker requires one.'),
  HELLO_REQUIRED: row('HELLO_REQUIRED', false, false, 'A request arrived before a successful hello on this connection.'),
  TOO_MANY_CONNECTIONS: row('TOO_MANY_CONNECTIONS', true, true, 'The broker is at maxConnections.'),
  SHUTTING_DOWN: row('SHUTTING_DOWN', true, true, 'The broker is stopping; reconnect to another or later.'),
  INTERNAL: row('INTERNAL', false, false, 'A broker bug; the message says what failed.'),
} as const;

/** Every wire error code, as an enum-like object: `ErrorCode.BAD_FRAME === 'BAD_FRAME'`. */
export const ErrorCode = Object.freeze(
  Object.fromEntries(Object.keys(ErrorCodes).map((code) => [code, code])),
) as { readonly [K in keyof typeof ErrorCodes]: K };

/** A wire error code string. */
export type ErrorCode = keyof typeof ErrorCodes;

/** True when `code` is one of ours (a newer broker may send codes this build does not know). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ErrorCodes, code);
}

/** Whether a code is retriable; unknown codes are treated as not retriable. */
export function isRetriable(code: string): boolean {
  return isErrorCode(code) ? ErrorCodes[code].retriable : false;
}

/**
 * A protocol-level operating error. `requestId` is set when the failing frame carried a usable
 * `id`, so the reply can be matched to its request; connection-level errors use id 0.
 */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly requestId: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; requestId?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolError';
    this.code = code;
    this.retriable = ErrorCodes[code].retriable;
    this.requestId = options?.requestId ?? 0;
  }
}

/**
 * Wire-level limits. Each bounds memory or work a single peer can cause; the broker may lower
 * (never raise past the engine's) some of them through its options. Units are in the names.
 */
import assert from 'node:assert';

/** Version spoken by this module; `hello.version` must equal it. */
export const PROTOCOL_VERSION = 1;

/** Bytes of the big-endian length prefix in front of every frame. */
export const FRAME_HEADER_BYTES = 4;

/** Default largest frame body accepted; caps per-connection memory before the body is buffered. */
export const FRAME_BYTES_MAX = 16 * 1024 * 1024;

/** Absolute ceiling for a configured `maxFrameBytes`: the length prefix is a uint32 and 1 GiB is already hostile. */
export const FRAME_BYTES_CEILING = 256 * 1024 * 1024;

/** Smallest configurable `maxFrameBytes`: a reply must fit one record of a useful size plus framing. */
export const FRAME_BYTES_FLOOR = 64 * 1024;

/** Records in one `produceBatch`; the engine appends at most 2,000 entries atomically. */
export const BATCH_RECORDS_MAX = 2000;

/** Records one `fetch` may ask for; matches the engine's per-read entry cap. */
export const FETCH_RECORDS_MAX = 2000;

/** Default and ceiling of `fetch.maxBytes`: a reply must fit in a frame with room for framing. */
export const FETCH_BYTES_DEFAULT = 1024 * 1024;

/** Longest `fetch.maxWaitMs`; bounds how long a long-poll holds broker state. */
export const FETCH_WAIT_MS_MAX = 5 * 60 * 1000;

/** Shortest and longest lease a fetch may ask for (`fetch.ackTimeoutMs`); a day bounds lease-table lifetime. */
export const ACK_TIMEOUT_MS_MIN = 10;
export const ACK_TIMEOUT_MS_MAX = 24 * 60 * 60 * 1000;

/** Largest `maxDeliveries` of a group; counts are in-memory integers, the cap only rejects nonsense. */
export const DELIVERIES_MAX = 1_000_000;

/** Longest `nack.delayMs`: a nacked record is parked like a lease, so the lease ceiling applies. */
export const NACK_DELAY_MS_MAX = ACK_TIMEOUT_MS_MAX;

/** Characters of `nack.reason` kept (it travels in a dead-letter header). */
export const NACK_REASON_LENGTH_MAX = 1024;

/** Headers on one record; headers are metadata, not a second payload. */
export const HEADERS_COUNT_MAX = 64;

/** UTF-8 bytes of one header name. */
export const HEADER_NAME_BYTES_MAX = 256;

/** Characters of `clientId` kept for logs. */
export const CLIENT_ID_LENGTH_MAX = 256;

/** Characters of a topic or group name; mirrors the engine's `[A-Za-z0-9._-]{1,249}`. */
export const NAME_LENGTH_MAX = 249;

/** Nesting depth the encoder follows; responses are at most a few levels deep, so deeper is a bug. */
export const ENCODE_DEPTH_MAX = 16;

assert(FRAME_BYTES_FLOOR <= FRAME_BYTES_MAX && FRAME_BYTES_MAX <= FRAME_BYTES_CEILING);
assert(FRAME_BYTES_CEILING < 2 ** 32);
assert(FETCH_BYTES_DEFAULT < FRAME_BYTES_MAX);

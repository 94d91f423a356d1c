import assert from 'node:assert/strict';

/**
 * Every buffer, queue, batch and wait the SDK keeps, with its default and its hard maximum.
 * Options are validated against these once, in `connect()` / `producer()` / `consumer()`, before any
 * socket opens; the hot path never re-checks them.
 */

/** Records in one `produceBatch` frame; the broker rejects more with `BATCH_TOO_LARGE`. */
export const BATCH_RECORDS_MAX = 2_000;

/** Largest frame the SDK will build, before the broker tells us its own limit in `hello`. */
export const FRAME_BYTES_MAX = 16 * 1024 * 1024;

/** Bytes a batch frame spends besides its records (op, id, a ≤ 249-byte topic, map headers); generous. */
export const FRAME_OVERHEAD_BYTES = 4 * 1024;

/** Per-record envelope in a batch (map header, field names, bin headers, offset ints). */
export const RECORD_OVERHEAD_BYTES = 32;

/**
 * How long a producer waits for more sends before it ships a batch. 0 ships at the end of the
 * event-loop turn, which still gathers every send made in that turn; the broker's group commit
 * gathers the rest. Measured (bench/RESULTS.md): 0 gave 1.5–2.1× the produce throughput of 2 ms.
 */
export const LINGER_MS_DEFAULT = 0;
/** Upper bound on linger: past this a "batching delay" is a latency bug, not a tuning knob. */
export const LINGER_MS_MAX = 1_000;

/** Payload bytes gathered into one `produceBatch` before it ships without waiting for linger. */
export const BATCH_BYTES_DEFAULT = 1024 * 1024;
/** A batch must fit one frame with room for the envelope. */
export const BATCH_BYTES_MAX = FRAME_BYTES_MAX - FRAME_OVERHEAD_BYTES;

/** Bytes of sends accepted but not yet acknowledged; `send` waits (backpressure) beyond this. */
export const IN_FLIGHT_BYTES_DEFAULT = 16 * 1024 * 1024;
/** Caps the memory a producer may pin while the broker is slow or away. */
export const IN_FLIGHT_BYTES_MAX = 1024 * 1024 * 1024;

/** Bytes a consumer prefetches ahead of its reader (plus at most one record). */
export const BUFFERED_BYTES_DEFAULT = 4 * 1024 * 1024;
/** Caps consumer memory per topic; prefetched records also hold broker leases, so more is not better. */
export const BUFFERED_BYTES_MAX = 256 * 1024 * 1024;

/** Records asked for in one fetch; the broker caps a fetch at a batch's worth. */
export const FETCH_RECORDS_MAX = BATCH_RECORDS_MAX;
/**
 * Group fetches a consumer keeps in flight while records are flowing: the broker prepares the next
 * reply while this process decodes the last one, instead of each side waiting for the other (both
 * were ~50 % idle with one fetch at a time). Each asks for at most `maxBufferedBytes / 2`, so the
 * buffer cap still holds; a drained topic gets one long-poll only.
 */
export const FETCHES_IN_FLIGHT_MAX = 2;
/** Long-poll wait of one fetch; short enough that an abandoned poll frees the broker soon. */
export const FETCH_WAIT_MS = 2_000;

/** Pause before a consumer retries a fetch that failed with a retriable broker error (connection still up). */
export const FETCH_RETRY_DELAY_MS = 100;

/** Lease the broker grants a handed-out record before giving it to another member (broker default 30 s). */
export const ACK_TIMEOUT_MS_DEFAULT = 30_000;
/** Smallest lease worth asking for: below this, records ping-pong between members while in the network. */
export const ACK_TIMEOUT_MS_MIN = 100;
/** Largest lease: a dead member's records must come back within a day. */
export const ACK_TIMEOUT_MS_MAX = 24 * 60 * 60 * 1000;

/** Largest `maxDeliveries` (the broker's cap). */
export const DELIVERIES_MAX = 1_000_000;

/** Longest `nack` delay and longest reason (the broker's caps). */
export const NACK_DELAY_MS_MAX = 24 * 60 * 60 * 1000;
export const NACK_REASON_LENGTH_MAX = 1024;

/** First reconnect delay. */
export const RECONNECT_INITIAL_DELAY_MS_DEFAULT = 100;
/** Reconnect delay cap; a restarted broker is found within this plus jitter. */
export const RECONNECT_MAX_DELAY_MS_DEFAULT = 5_000;
/** Highest cap accepted: beyond a minute a client looks dead to its operator. */
export const RECONNECT_MAX_DELAY_MS_MAX = 60_000;
/** Growth of the delay per failed attempt. */
export const RECONNECT_MULTIPLIER_DEFAULT = 2;
/** Fraction of each delay that is randomised, so restarted fleets do not reconnect in lockstep. */
export const RECONNECT_JITTER_DEFAULT = 0.5;

/** One TCP (+TLS) connect and `hello` exchange; past this the attempt counts as failed. */
export const CONNECT_TIMEOUT_MS_DEFAULT = 10_000;

/** Default bound of `close()`; after it the socket is destroyed and pending work fails. */
export const CLOSE_TIMEOUT_MS_DEFAULT = 5_000;

/** Requests awaiting a reply on one connection; ids are u32 so this also bounds id reuse. */
export const PENDING_REQUESTS_MAX = 65_536;
/** Request ids are msgpack unsigned ints below this; they wrap around. */
export const REQUEST_ID_LIMIT = 2 ** 32;

/** Longest client id we send in `hello`; it only appears in broker logs. */
export const CLIENT_ID_LENGTH_MAX = 255;

/** Records in one `batches()` batch. */
export const BATCH_RECORDS_DEFAULT = 100;
/** Wait for a batch to fill after its first record. */
export const BATCH_WAIT_MS_DEFAULT = 50;

assert(BATCH_BYTES_DEFAULT <= BATCH_BYTES_MAX);
assert(BATCH_BYTES_MAX + FRAME_OVERHEAD_BYTES <= FRAME_BYTES_MAX);
assert(BATCH_BYTES_DEFAULT <= IN_FLIGHT_BYTES_DEFAULT);
assert(IN_FLIGHT_BYTES_DEFAULT <= IN_FLIGHT_BYTES_MAX);
assert(BUFFERED_BYTES_DEFAULT <= BUFFERED_BYTES_MAX);
assert(RECONNECT_INITIAL_DELAY_MS_DEFAULT <= RECONNECT_MAX_DELAY_MS_DEFAULT);
assert(RECONNECT_MAX_DELAY_MS_DEFAULT <= RECONNECT_MAX_DELAY_MS_MAX);
assert(ACK_TIMEOUT_MS_MIN <= ACK_TIMEOUT_MS_DEFAULT && ACK_TIMEOUT_MS_DEFAULT <= ACK_TIMEOUT_MS_MAX);
assert(FETCH_WAIT_MS < CLOSE_TIMEOUT_MS_DEFAULT);

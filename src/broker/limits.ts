/**
 * Broker limits and defaults. Each bounds memory, time or work that clients can cause; options may
 * override the ones named in `BrokerOptions`, and are validated against these before any socket opens.
 */
import assert from 'node:assert';
import {
  ACK_TIMEOUT_MS_MAX as PROTOCOL_ACK_TIMEOUT_MS_MAX,
  ACK_TIMEOUT_MS_MIN as PROTOCOL_ACK_TIMEOUT_MS_MIN,
  FETCH_BYTES_DEFAULT,
  FRAME_BYTES_MAX,
} from '../protocol/index.js';

/** Default TCP port. */
export const PORT_DEFAULT = 9797;

/** Default bind address: loopback, so a fresh install is not reachable from the network. */
export const HOST_DEFAULT = '127.0.0.1';

/** Default `maxConnections`; each connection costs buffers (see below) and a file descriptor. */
export const CONNECTIONS_MAX_DEFAULT = 1024;

/** Default `maxFrameBytes` (the protocol's default). */
export const FRAME_BYTES_MAX_DEFAULT = FRAME_BYTES_MAX;

/**
 * Reply bytes queued on one connection (socket buffer + not yet flushed) past which the broker stops
 * reading requests from it until it drains: a slow reader cannot grow broker memory without bound.
 * A single reply may overshoot it by up to one frame.
 */
export const CONNECTION_QUEUED_BYTES_MAX = 8 * 1024 * 1024;

/** Requests being served at once on one connection; past it, reading pauses (pipelining stays bounded). */
export const CONNECTION_REQUESTS_IN_FLIGHT_MAX = 1024;

/** Default lease of a record handed to a group member before it is handed out again. */
export const ACK_TIMEOUT_MS_DEFAULT = 30_000;

/** Shortest and longest configurable lease (`--ack-timeout-ms`, `fetch.ackTimeoutMs`): the protocol's range. */
export const ACK_TIMEOUT_MS_MIN = PROTOCOL_ACK_TIMEOUT_MS_MIN;
export const ACK_TIMEOUT_MS_MAX = PROTOCOL_ACK_TIMEOUT_MS_MAX;

/** Longest pause between lease-expiry sweeps; shorter leases sweep at a quarter of their length. */
export const LEASE_SWEEP_INTERVAL_MS_MAX = 1000;

/**
 * Records of one group handed out and not yet acknowledged. Bounds the per-group lease table (and the
 * O(n) scans over it on commit); a group at the cap gets only redeliveries until members commit.
 */
export const GROUP_IN_FLIGHT_MAX = 20_000;

/** Default and largest `fetch.maxBytes` before the frame-size clamp below. */
export const FETCH_BYTES_DEFAULT_BROKER = FETCH_BYTES_DEFAULT;

/**
 * Reply bytes reserved per fetched record for its msgpack framing (offset, timestamp, field names, bin
 * headers); used to keep a fetch reply inside `maxFrameBytes`.
 */
export const FETCH_RECORD_OVERHEAD_BYTES = 64;

/** Bytes of a reply frame reserved for everything but the records (id, ok, highWatermark, headers). */
export const FETCH_REPLY_OVERHEAD_BYTES = 1024;

/**
 * Bytes a fetch asks the log to read per requested record, and the floor of that request. The log
 * reads about `maxBytes` from disk even for a few records (measured: 10 × 100 B records from random
 * offsets cost ~1.6 ms with maxBytes 1 MiB, ~0.3 ms with 64 KiB), so small fetches ask for less.
 * Larger records still come back (at least one per read), just fewer per fetch.
 */
export const FETCH_READ_BYTES_PER_RECORD = 512;
export const FETCH_READ_BYTES_MIN = 64 * 1024;

/** Longest a graceful stop waits for in-flight requests before closing anyway. */
export const SHUTDOWN_GRACE_MS_DEFAULT = 10_000;

/** Longest auth token; the protocol caps `hello.token` at the same length. */
export const AUTH_TOKEN_LENGTH_MAX = 4096;

/** Tokens accepted at once; `hello` hashes against every one, so this bounds its cost (~1 µs each). */
export const AUTH_TOKENS_MAX = 1024;

/** Largest token file read; a few thousand tokens with comments fit many times over. */
export const AUTH_TOKEN_FILE_BYTES_MAX = 1024 * 1024;

/** Longest a TLS handshake may take before the socket is dropped (Node's default is 120 s). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

assert(CONNECTION_QUEUED_BYTES_MAX >= 1024 * 1024);
assert(ACK_TIMEOUT_MS_MIN <= ACK_TIMEOUT_MS_DEFAULT && ACK_TIMEOUT_MS_DEFAULT <= ACK_TIMEOUT_MS_MAX);
assert(FETCH_BYTES_DEFAULT_BROKER + FETCH_REPLY_OVERHEAD_BYTES < FRAME_BYTES_MAX_DEFAULT);

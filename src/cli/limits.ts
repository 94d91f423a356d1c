/**
 * Bounds of the `walrus` CLI. Each caps memory or waiting on behalf of an operator's shell, where a
 * mistyped flag must not hang or balloon the process.
 */

/** Default broker address; the daemon's own default (src/broker/limits.ts). */
export const BROKER_DEFAULT = '127.0.0.1:9797';

/** Longest the CLI waits for connect + `hello` before exit code 2; a shell user wants a prompt back. */
export const CONNECT_TIMEOUT_MS_DEFAULT = 5_000;

/** Sends not yet acknowledged that `produce` keeps in memory; the SDK's byte backpressure applies too. */
export const PRODUCE_PENDING_MAX = 1_024;

/** Longest stdin line (bytes) `produce` accepts; bounds the line buffer before a record is formed. */
export const STDIN_LINE_BYTES_MAX = 16 * 1024 * 1024;

/** Records asked for per plain `fetch` by `tail`; the protocol's own maximum is 2,000. */
export const TAIL_FETCH_RECORDS_MAX = 500;

/** Long-poll of one `tail --follow` fetch; short enough that Ctrl-C is answered promptly. */
export const TAIL_POLL_MS = 1_000;

/** How often a non-follow group `tail` checks whether its group has caught up with the topic's end. */
export const TAIL_IDLE_CHECK_MS = 500;

/** Round trips `ping` makes at most; it is a probe, not a benchmark. */
export const PING_COUNT_MAX = 1_000;

/** Whole msgpack input `produce --format msgpack` buffers before decoding (values may span chunks). */
export const MSGPACK_STDIN_BYTES_MAX = 256 * 1024 * 1024;

/** `--header` flags accepted; the protocol allows 64 headers per record. */
export const HEADERS_MAX = 64;

/** `describeTopic` requests in flight at once when listing every topic; the SDK refuses past 65,536. */
export const DESCRIBE_CONCURRENCY_MAX = 64;

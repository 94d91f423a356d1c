/**
 * Options of `startBroker`, their defaults, and validation. Everything is checked here, before the
 * engine opens or a socket binds; an invalid value is a RangeError naming the option.
 */
import { FsyncSchedule, ReadConsistency } from '../engine/index.js';
import type { Logger } from 'pino';
import { createSecureContext } from 'node:tls';
import { validateTokens } from './auth-tokens.js';
import { FRAME_BYTES_CEILING, FRAME_BYTES_FLOOR } from '../protocol/index.js';
import type { BrokerEngine } from './engine-port.js';
import {
  ACK_TIMEOUT_MS_DEFAULT,
  ACK_TIMEOUT_MS_MAX,
  ACK_TIMEOUT_MS_MIN,
  CONNECTION_QUEUED_BYTES_MAX,
  CONNECTIONS_MAX_DEFAULT,
  FRAME_BYTES_MAX_DEFAULT,
  HOST_DEFAULT,
  PORT_DEFAULT,
  SHUTDOWN_GRACE_MS_DEFAULT,
} from './limits.js';

/** Options of `startBroker`. */
export interface BrokerOptions {
  /** Data directory of the log (ignored when `engine` is given). Required otherwise. */
  dataDir?: string;
  /** Bind address. Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one (read it from `broker.port`). Default 9797. */
  port?: number;
  /** `sync-each` (default: an ack means the data is on disk), `<n>ms`, `none`, or a FsyncSchedule. */
  fsync?: string | FsyncSchedule;
  /** `strict` (default) or `at-least-once:<n>`, or a ReadConsistency. */
  consistency?: string | ReadConsistency;
  /** Largest request frame accepted. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Open connections accepted at once. Default 1024. */
  maxConnections?: number;
  /** Lease of a record handed to a group member. Default 30,000 ms. */
  ackTimeoutMs?: number;
  /** When set, `hello` must carry this token (or one of `authTokens`). */
  authToken?: string;
  /** Tokens accepted in `hello` besides `authToken` (e.g. read with `readTokenFile`). Default none. */
  authTokens?: readonly string[];
  /** PEM certificate chain and private key: when set, the broker speaks TLS (node:tls). */
  tls?: BrokerTlsOptions;
  /** Longest a graceful stop waits for in-flight requests. Default 10,000 ms. */
  shutdownGraceMs?: number;
  /** Reply bytes queued per connection before reading from it pauses. Default 8 MiB. */
  queuedBytesMax?: number;
  /** Engine file I/O backend (`auto`, `fs`, `uring`). Default `fs`. See docs/engine.md, "I/O backends". */
  ioBackend?: 'auto' | 'fs' | 'uring';
  /** HTTP port of /metrics, /healthz and /readyz on `host`; 0 picks a free one. Default: off. */
  metricsPort?: number;
  /** Logger; default a pino logger at `info` on stdout. */
  logger?: Logger;
  /** An engine opened by the caller; `stop()` closes it too. Default: open one on `dataDir`. */
  engine?: BrokerEngine;
  /** Clock in ms since the epoch. Default Date.now. */
  now?: () => number;
}

/** TLS material of the listener, PEM text or bytes. */
export interface BrokerTlsOptions {
  /** Certificate chain. */
  cert: string | Buffer;
  /** Private key of the certificate. */
  key: string | Buffer;
}

/** Options with every default filled in and checked. */
export interface ResolvedBrokerOptions {
  dataDir: string | undefined;
  host: string;
  port: number;
  fsync: FsyncSchedule;
  consistency: ReadConsistency;
  maxFrameBytes: number;
  maxConnections: number;
  ackTimeoutMs: number;
  /** Tokens `hello` must carry one of; empty when none is required. Never log these. */
  authTokens: readonly string[];
  tls: BrokerTlsOptions | undefined;
  shutdownGraceMs: number;
  queuedBytesMax: number;
  /** Undefined: the engine's default (fs, or WALRUS_IO_BACKEND). */
  ioBackend: 'auto' | 'fs' | 'uring' | undefined;
  /** Undefined: no metrics and no HTTP port. */
  metricsPort: number | undefined;
}

/** Parses `strict` / `strictly-at-once` / `at-least-once:<n>`. */
export function parseConsistency(text: string): ReadConsistency {
  const t = text.trim().toLowerCase();
  if (t === 'strict' || t === 'strictly-at-once') return ReadConsistency.StrictlyAtOnce;
  const m = /^at-least-once(?::(\d+))?$/.exec(t);
  if (m) return ReadConsistency.AtLeastOnce({ persistEvery: Number(m[1] ?? 1000) });
  throw new RangeError(`unknown consistency "${text}": use strict or at-least-once:<n>`);
}

/** Formats a consistency mode the way the CLI spells it. */
export function formatConsistency(c: ReadConsistency): string {
  return c.kind === 'strictly-at-once' ? 'strict' : `at-least-once:${c.persistEvery}`;
}

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function ioBackendOf(value: unknown): 'auto' | 'fs' | 'uring' | undefined {
  if (value === undefined) return undefined;
  if (value === 'auto' || value === 'fs' || value === 'uring') return value;
  throw new RangeError(`ioBackend must be auto, fs or uring, got ${String(value)}`);
}

/** Checks that both PEM parts are present and that they load (key matches certificate). */
function tlsOf(value: BrokerTlsOptions | undefined): BrokerTlsOptions | undefined {
  if (value === undefined) return undefined;
  const { cert, key } = value;
  const pem = (v: unknown): boolean => (typeof v === 'string' || Buffer.isBuffer(v)) && v.length > 0;
  if (!pem(cert) || !pem(key)) throw new RangeError('tls needs both cert and key (PEM)');
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new RangeError(`tls cert/key do not load: ${(error as Error).message}`, { cause: error });
  }
  return { cert, key };
}

function metricsPortOf(value: number | undefined, port: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  integerIn('metricsPort', value, 0, 65535);
  if (value !== 0 && value === (port ?? PORT_DEFAULT)) throw new RangeError(`metricsPort must differ from port (${value})`);
  return value;
}

/** Fills defaults and validates; throws RangeError on the first bad option. */
export function resolveBrokerOptions(options: BrokerOptions): ResolvedBrokerOptions {
  if (options.engine === undefined && (typeof options.dataDir !== 'string' || options.dataDir.length === 0)) {
    throw new RangeError('dataDir is required');
  }
  const fsync = typeof options.fsync === 'string' ? FsyncSchedule.parse(options.fsync) : (options.fsync ?? FsyncSchedule.SyncEach);
  const consistency =
    typeof options.consistency === 'string' ? parseConsistency(options.consistency) : (options.consistency ?? ReadConsistency.StrictlyAtOnce);
  const host = options.host ?? HOST_DEFAULT;
  if (typeof host !== 'string' || host.length === 0) throw new RangeError('host must be a non-empty string');
  return {
    dataDir: options.dataDir,
    host,
    port: integerIn('port', options.port ?? PORT_DEFAULT, 0, 65535),
    fsync,
    consistency,
    maxFrameBytes: integerIn('maxFrameBytes', options.maxFrameBytes ?? FRAME_BYTES_MAX_DEFAULT, FRAME_BYTES_FLOOR, FRAME_BYTES_CEILING),
    maxConnections: integerIn('maxConnections', options.maxConnections ?? CONNECTIONS_MAX_DEFAULT, 1, 1_000_000),
    ackTimeoutMs: integerIn('ackTimeoutMs', options.ackTimeoutMs ?? ACK_TIMEOUT_MS_DEFAULT, ACK_TIMEOUT_MS_MIN, ACK_TIMEOUT_MS_MAX),
    authTokens: validateTokens([...(options.authToken === undefined || options.authToken === '' ? [] : [options.authToken]), ...(options.authTokens ?? [])]),
    tls: tlsOf(options.tls),
    shutdownGraceMs: integerIn('shutdownGraceMs', options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS_DEFAULT, 0, 10 * 60 * 1000),
    queuedBytesMax: integerIn('queuedBytesMax', options.queuedBytesMax ?? CONNECTION_QUEUED_BYTES_MAX, 64 * 1024, 2 ** 31),
    ioBackend: ioBackendOf(options.ioBackend),
    metricsPort: metricsPortOf(options.metricsPort, options.port),
  };
}

import { readFileSync } from 'node:fs';
import { connect, type WalrusClient } from '../client/index.js';
import { CliUsageError, reportError } from './cli-error.js';
import { BROKER_DEFAULT, CONNECT_TIMEOUT_MS_DEFAULT } from './limits.js';
import { Output } from './output.js';

/** Flags every verb takes (yargs global options). */
export interface GlobalArgs {
  broker?: string;
  token?: string;
  json?: boolean;
  'timeout-ms'?: number;
  tls?: boolean;
  'tls-ca'?: string;
}

/** Where and how to reach the broker, validated once before any socket opens. */
export interface BrokerTarget {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly connectTimeoutMs: number;
  /** TLS options (`ca` when `--tls-ca` names a file), or undefined for plain TCP. */
  readonly tls: { ca?: Buffer } | undefined;
}

/** Parses `host:port` (`[v6]:port` too); a bare host keeps the default port. Throws `CliUsageError`. */
export function parseBrokerAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text.trim());
  const port = match?.[3] === undefined ? 9797 : Number(match[3]);
  if (match === null || port < 1 || port > 65_535) {
    throw new CliUsageError(`--broker must be host:port, got ${JSON.stringify(text)}`);
  }
  return { host: match[1] ?? match[2]!, port };
}

/**
 * Resolves the global flags, with `WALRUS_BROKER`, `WALRUS_TOKEN` and `WALRUS_TLS_CA` as fallbacks
 * (a flag wins). `--tls-ca` implies `--tls`; an unreadable CA file is a usage error.
 */
export function resolveTarget(args: GlobalArgs, env: NodeJS.ProcessEnv): BrokerTarget {
  const address = parseBrokerAddress(args.broker ?? nonEmpty(env.WALRUS_BROKER) ?? BROKER_DEFAULT);
  const timeoutMs = args['timeout-ms'] ?? CONNECT_TIMEOUT_MS_DEFAULT;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new CliUsageError('--timeout-ms must be a positive integer');
  const caPath = args['tls-ca'] ?? nonEmpty(env.WALRUS_TLS_CA);
  let tls: BrokerTarget['tls'];
  if (caPath !== undefined) {
    try {
      tls = { ca: readFileSync(caPath) };
    } catch (error) {
      throw new CliUsageError(`--tls-ca: cannot read ${caPath}: ${(error as Error).message}`);
    }
  } else if (args.tls === true) {
    tls = {};
  }
  return { ...address, token: args.token ?? nonEmpty(env.WALRUS_TOKEN), connectTimeoutMs: timeoutMs, tls };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Connects without reconnecting (a CLI run is one attempt: a dropped connection is an error to
 * report, not to hide), bounded by the connect timeout, runs `body`, and always closes the client.
 */
export async function withClient<T>(target: BrokerTarget, body: (client: WalrusClient) => Promise<T>): Promise<T> {
  const client = await connect({
    host: target.host,
    port: target.port,
    token: target.token,
    tls: target.tls,
    clientId: 'walrus-cli',
    reconnect: false,
    connectTimeoutMs: target.connectTimeoutMs,
    signal: AbortSignal.timeout(target.connectTimeoutMs),
  });
  try {
    return await body(client);
  } finally {
    await client.close({ timeoutMs: 1_000 });
  }
}

/** What each verb handler receives: the broker target and where to print. */
export interface VerbContext {
  readonly target: BrokerTarget;
  readonly output: Output;
}

/** Builds the verb context from the parsed global flags. */
export function verbContext(args: GlobalArgs): VerbContext {
  return { target: resolveTarget(args, process.env), output: new Output(args.json === true, process.stdout) };
}

/**
 * Runs one verb: builds its context, awaits `body` and turns a thrown error into its printed code and
 * exit status (set on `process.exitCode`, so pending output still flushes).
 */
export async function runVerb(args: GlobalArgs, body: (context: VerbContext) => Promise<void>): Promise<void> {
  try {
    await body(verbContext(args));
  } catch (error) {
    process.exitCode = reportError(error, (text) => process.stderr.write(text));
  }
}

#!/usr/bin/env node
/**
 * `walrus-broker` daemon entry point. Every flag has a `WALRUS_*` environment fallback
 * (`--data-dir` ↔ `WALRUS_DATA_DIR`, …); an explicit flag wins over the environment, which wins over
 * the default. Logs are pino JSON lines on stdout; the first one after start is
 * `{"msg":"listening","host":…,"port":…,"fsync":…,"consistency":…}` (tests parse the port from it).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { pino } from 'pino';
import { readFileSync } from 'node:fs';
import { readTokenFile } from './auth-tokens.js';
import { startBroker } from './server.js';
import {
  ACK_TIMEOUT_MS_DEFAULT,
  CONNECTIONS_MAX_DEFAULT,
  FRAME_BYTES_MAX_DEFAULT,
  HOST_DEFAULT,
  PORT_DEFAULT,
  SHUTDOWN_GRACE_MS_DEFAULT,
} from './limits.js';

/** Extra time past the grace period before a stuck stop is abandoned with exit code 1. */
const STOP_HARD_LIMIT_EXTRA_MS = 5000;

/**
 * The `WALRUS_*` fallback of a flag (`max-frame-bytes` → `WALRUS_MAX_FRAME_BYTES`). Done by hand, not
 * with yargs `.env()`, because other tools share the `WALRUS_` prefix (WALRUS_QUIET, bench
 * settings) and `.strict()` would reject them as unknown flags.
 */
function env(flag: string): string | undefined {
  const value = process.env[`WALRUS_${flag.toUpperCase().replace(/-/g, '_')}`];
  return value === undefined || value === '' ? undefined : value;
}

/** A decimal integer flag value; NaN (rejected with the flag's name by option validation) otherwise. */
function integer(text: string): number {
  return /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
}

/** Reads `--tls-cert`/`--tls-key`; both or neither (RangeError naming the missing one). */
function tlsFiles(certPath: string | undefined, keyPath: string | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) throw new RangeError(`--tls-cert and --tls-key go together; missing ${certPath === undefined ? '--tls-cert' : '--tls-key'}`);
  return { cert: readFileSync(certPath), key: readFileSync(keyPath) };
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('walrus-broker')
    .usage('$0 --data-dir DIR [options]\n\nRuns the walrus-broker daemon. Every flag can also be set as WALRUS_<FLAG> (e.g. WALRUS_DATA_DIR, WALRUS_FSYNC); an explicit flag wins.')
    .option('data-dir', { type: 'string', default: env('data-dir'), describe: 'Directory of the write-ahead log (created when missing); required' })
    .option('host', { type: 'string', default: env('host') ?? HOST_DEFAULT, describe: 'Address to listen on' })
    .option('port', { type: 'string', default: env('port') ?? String(PORT_DEFAULT), describe: 'TCP port; 0 picks a free port (logged as "port" in the "listening" line)' })
    .option('fsync', { type: 'string', default: env('fsync') ?? 'sync-each', describe: 'When appends are made durable: sync-each (an ack means on disk, group commit), <n>ms, or none' })
    .option('consistency', { type: 'string', default: env('consistency') ?? 'strict', describe: 'When consumer-group commits are made durable: strict (before the reply) or at-least-once:<n>' })
    .option('max-frame-bytes', { type: 'string', default: env('max-frame-bytes') ?? String(FRAME_BYTES_MAX_DEFAULT), describe: 'Largest request frame accepted, in bytes' })
    .option('max-connections', { type: 'string', default: env('max-connections') ?? String(CONNECTIONS_MAX_DEFAULT), describe: 'Open connections accepted at once' })
    .option('ack-timeout-ms', { type: 'string', default: env('ack-timeout-ms') ?? String(ACK_TIMEOUT_MS_DEFAULT), describe: 'Lease of records handed to a consumer-group member before redelivery' })
    .option('auth-token', { type: 'string', default: env('auth-token'), describe: 'When set, clients must send this token in hello (prefer --auth-token-file: argv is visible to other users)' })
    .option('auth-token-file', { type: 'string', default: env('auth-token-file'), describe: 'File of accepted tokens, one per line (blank lines and # comments ignored); clients must send one in hello' })
    .option('tls-cert', { type: 'string', default: env('tls-cert'), describe: 'PEM certificate chain: listen with TLS (needs --tls-key)' })
    .option('tls-key', { type: 'string', default: env('tls-key'), describe: 'PEM private key of --tls-cert' })
    .option('shutdown-grace-ms', { type: 'string', default: env('shutdown-grace-ms') ?? String(SHUTDOWN_GRACE_MS_DEFAULT), describe: 'Longest a graceful stop waits for in-flight requests' })
    .option('io-backend', { type: 'string', default: env('io-backend'), choices: ['auto', 'fs', 'uring'], describe: 'Engine file I/O: auto (the default: uring when it works here, else fs), fs (node:fs) or uring (the io_uring addon; fails if it cannot run)' })
    .option('metrics-port', { type: 'string', default: env('metrics-port'), describe: 'HTTP port for /metrics (Prometheus), /healthz and /readyz on --host; off when unset; 0 picks a free port (logged as "metricsPort")' })
    .option('log-level', { type: 'string', default: env('log-level') ?? 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], describe: 'Log level' })
    .check((a) => (typeof a['data-dir'] === 'string' && a['data-dir'].length > 0 ? true : 'Missing --data-dir (or WALRUS_DATA_DIR)'))
    .strict()
    // A flag given twice: the last one wins (as with most daemons), instead of an array.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .help()
    .version(false)
    .parseAsync();

  const logger = pino({ level: argv['log-level'], base: { pid: process.pid } });
  let broker;
  try {
    const authTokens = argv['auth-token-file'] === undefined ? [] : readTokenFile(argv['auth-token-file']);
    broker = await startBroker({
      dataDir: argv['data-dir'],
      host: argv.host,
      port: integer(argv.port),
      fsync: argv.fsync,
      consistency: argv.consistency,
      maxFrameBytes: integer(argv['max-frame-bytes']),
      maxConnections: integer(argv['max-connections']),
      ackTimeoutMs: integer(argv['ack-timeout-ms']),
      authToken: argv['auth-token'],
      authTokens,
      tls: tlsFiles(argv['tls-cert'], argv['tls-key']),
      shutdownGraceMs: integer(argv['shutdown-grace-ms']),
      ioBackend: argv['io-backend'] as 'auto' | 'fs' | 'uring' | undefined,
      metricsPort: argv['metrics-port'] === undefined ? undefined : integer(argv['metrics-port']),
      logger,
    });
  } catch (error) {
    const e = error as Error & { code?: string };
    logger.fatal({ err: e.message, code: e.code }, 'failed to start');
    process.exitCode = 1;
    return;
  }
  const running = broker;
  const stopOnce = { started: false };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopOnce.started) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopOnce.started = true;
    logger.info({ signal }, 'signal received');
    const hardLimit = setTimeout(() => {
      logger.error('graceful stop took too long: exiting');
      process.exit(1);
    }, running.options.shutdownGraceMs + STOP_HARD_LIMIT_EXTRA_MS);
    hardLimit.unref();
    running.stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ err: error.message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

void main();

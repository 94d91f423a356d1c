import { WalrusError } from '../client/index.js';

/** Process exit codes of `walrus`: scripts branch on these. */
export const ExitCode = {
  ok: 0,
  /** Bad flags or arguments; nothing was sent to the broker. */
  usage: 1,
  /** The broker (or the connection to it) refused or failed the request. */
  broker: 2,
} as const;
/** One of `ExitCode`. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A usage error found by the CLI itself (bad `--from`, malformed `--header`): exit code 1. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/**
 * A failure the CLI reports with a stable code but that the broker did not raise, e.g. a group that
 * has no cursor on any topic (`NOT_FOUND`): exit code 2, like a broker refusal.
 */
export class CliBrokerStateError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'CliBrokerStateError';
    this.code = code;
  }
}

/**
 * Prints `error` to stderr as `walrus: CODE: message` and returns the exit code it maps to. SDK
 * argument errors (`INVALID_ARGUMENT`, `INVALID_OPTION`) are usage errors: nothing reached the broker.
 */
export function reportError(error: unknown, write: (text: string) => void): ExitCode {
  if (error instanceof CliUsageError) {
    write(`walrus: ${error.message}\n`);
    return ExitCode.usage;
  }
  if (error instanceof WalrusError || error instanceof CliBrokerStateError) {
    write(`walrus: ${error.code}: ${error.message}\n`);
    return error.code === 'INVALID_ARGUMENT' || error.code === 'INVALID_OPTION' ? ExitCode.usage : ExitCode.broker;
  }
  write(`walrus: INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.broker;
}

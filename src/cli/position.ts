import { CliUsageError } from './cli-error.js';

/** Where `tail --from` starts: an end of the log, an offset, or the first record at/after a time. */
export type StartPosition =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'time'; readonly timeMs: number };

const OFFSET_PATTERN = /^\d{1,16}$/;
/** ISO-8601 date or date-time (`2026-11-26`, `2026-11-26T13:00:00Z`, with offset or fraction). */
const ISO_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses `earliest|latest|OFFSET|ISO-time`. Throws `CliUsageError` naming `flag`. */
export function parseStartPosition(flag: string, text: string): StartPosition {
  const value = text.trim();
  if (value === 'earliest' || value === 'latest') return { kind: value };
  if (OFFSET_PATTERN.test(value)) {
    const offset = Number(value);
    if (Number.isSafeInteger(offset)) return { kind: 'offset', offset };
  }
  if (ISO_TIME_PATTERN.test(value)) {
    const timeMs = Date.parse(value);
    if (Number.isFinite(timeMs)) return { kind: 'time', timeMs };
  }
  throw new CliUsageError(`${flag} must be earliest, latest, an offset or an ISO-8601 time, got ${JSON.stringify(text)}`);
}

/** Parses a seek target `earliest|latest|OFFSET` (no times: seek takes what the broker takes). */
export function parseSeekTarget(flag: string, text: string): 'earliest' | 'latest' | number {
  const value = text.trim();
  if (value === 'earliest' || value === 'latest') return value;
  const offset = Number(value);
  if (OFFSET_PATTERN.test(value) && Number.isSafeInteger(offset)) return offset;
  throw new CliUsageError(`${flag} must be earliest, latest or an offset, got ${JSON.stringify(text)}`);
}

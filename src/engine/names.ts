import { InvalidCursorError, InvalidTopicError } from './errors.js';
import { NAME_BYTES_MAX } from './limits.js';

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,249}$/;

/** The default per-topic read cursor's internal name; user cursor names may not start with `__`. */
export const DEFAULT_CURSOR = '__default';

/** Throws InvalidTopicError unless `topic` is 1-249 of [A-Za-z0-9._-] and not `.` or `..`. */
export function validateTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || !NAME_PATTERN.test(topic) || topic === '.' || topic === '..') {
    throw new InvalidTopicError(topic);
  }
}

/** Throws InvalidCursorError unless `cursor` is 1-249 of [A-Za-z0-9._-] and does not start with `__`. */
export function validateCursor(cursor: unknown): asserts cursor is string {
  if (typeof cursor !== 'string' || !NAME_PATTERN.test(cursor) || cursor.startsWith('__')) {
    throw new InvalidCursorError(cursor);
  }
}

/** Resolves the optional user cursor name to the internal one. */
export function cursorName(cursor: string | undefined): string {
  if (cursor === undefined) return DEFAULT_CURSOR;
  validateCursor(cursor);
  return cursor;
}

/**
 * Turns an instance key into a directory name as Walrus does: characters outside [A-Za-z0-9._-]
 * become `_`; a result that is empty, all `_`, or `.`/`..` becomes `ns_<FNV-1a-64 hex of the key>`.
 */
export function sanitizeKey(key: string): string {
  const cleaned = key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, NAME_BYTES_MAX);
  if (cleaned.length === 0 || /^_+$/.test(cleaned) || cleaned === '.' || cleaned === '..') {
    return `ns_${fnv1a64Hex(key)}`;
  }
  return cleaned;
}

function fnv1a64Hex(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

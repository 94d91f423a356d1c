/**
 * Auth tokens: parsing a token file and checking `hello.token` in constant time.
 *
 * Token file format: one token per line; surrounding whitespace is trimmed; blank lines and lines
 * starting with `#` are ignored. Every listed token is accepted (so a token can be rotated by adding
 * the new one, moving clients, then removing the old one).
 *
 * Comparison: each accepted token is hashed with SHA-256 once at start; a presented token is hashed
 * and compared with `timingSafeEqual` against every digest, without stopping at a match. Digests are
 * all 32 bytes, so neither the length nor the content of an accepted token shows in the timing.
 * Tokens are never logged: nothing here or in its callers puts one in a log field or error message.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { AUTH_TOKEN_FILE_BYTES_MAX, AUTH_TOKEN_LENGTH_MAX, AUTH_TOKENS_MAX } from './limits.js';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Tokens listed in a token file's text (format in the file comment). */
export function parseTokenFile(text: string): string[] {
  const tokens: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    tokens.push(line);
  }
  return tokens;
}

/**
 * Reads and parses a token file. Throws a RangeError naming the path (never a token) when it is
 * unreadable, too large, or lists no token: a broker pointed at an empty file must not start open.
 */
export function readTokenFile(path: string): string[] {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > AUTH_TOKEN_FILE_BYTES_MAX) throw new RangeError(`is ${size} bytes; at most ${AUTH_TOKEN_FILE_BYTES_MAX}`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RangeError(`auth token file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const tokens = parseTokenFile(text);
  if (tokens.length === 0) throw new RangeError(`auth token file ${path} lists no token`);
  return tokens;
}

/** Checks tokens for validity as options: RangeError (naming the position, never the token) otherwise. */
export function validateTokens(tokens: readonly string[]): string[] {
  if (tokens.length > AUTH_TOKENS_MAX) throw new RangeError(`at most ${AUTH_TOKENS_MAX} auth tokens, got ${tokens.length}`);
  tokens.forEach((token, i) => {
    if (typeof token !== 'string' || token.length === 0 || token.length > AUTH_TOKEN_LENGTH_MAX) {
      throw new RangeError(`auth token #${i + 1} must be a string of 1..${AUTH_TOKEN_LENGTH_MAX} characters`);
    }
  });
  return [...new Set(tokens)];
}

/** The accepted tokens, as digests. With no token configured, every `hello` is accepted. */
export class TokenChecker {
  private readonly digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(sha256);
  }

  /** True when a token is required. */
  get required(): boolean {
    return this.digests.length > 0;
  }

  /** True when `token` is accepted (always, when none is required). Constant time per digest. */
  accepts(token: string | undefined): boolean {
    if (this.digests.length === 0) return true;
    if (token === undefined) return false;
    const presented = sha256(token);
    let match = false;
    for (const digest of this.digests) match = timingSafeEqual(presented, digest) || match;
    return match;
  }
}

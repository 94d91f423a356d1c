import { describe, expect, it } from 'vitest';
import { parseTokenFile, TokenChecker, validateTokens } from './auth-tokens.js';
import { AUTH_TOKEN_LENGTH_MAX, AUTH_TOKENS_MAX } from './limits.js';

describe('parseTokenFile', () => {
  it('takes one trimmed token per line, skipping blank lines and # comments (LF or CRLF)', () => {
    expect(parseTokenFile('# ops tokens\n\n  alpha  \r\n#beta\nbeta\n\t\n')).toEqual(['alpha', 'beta']);
    expect(parseTokenFile('')).toEqual([]);
    expect(parseTokenFile('# only a comment')).toEqual([]);
  });
});

describe('validateTokens', () => {
  it('accepts 1..max characters and drops duplicates; refuses empty and max+1 without echoing the token', () => {
    expect(validateTokens(['x'.repeat(AUTH_TOKEN_LENGTH_MAX), 'a', 'a'])).toHaveLength(2);
    expect(() => validateTokens(['ok', ''])).toThrow(/auth token #2/);
    const long = 's'.repeat(AUTH_TOKEN_LENGTH_MAX + 1);
    expect(() => validateTokens([long])).toThrow(RangeError);
    try {
      validateTokens([long]);
    } catch (error) {
      expect((error as Error).message).not.toContain(long);
    }
    expect(() => validateTokens(Array.from({ length: AUTH_TOKENS_MAX + 1 }, (_, i) => `t${i}`))).toThrow(/at most/);
  });
});

describe('TokenChecker', () => {
  it('accepts every hello when no token is configured', () => {
    const open = new TokenChecker([]);
    expect(open.required).toBe(false);
    expect(open.accepts(undefined)).toBe(true);
  });

  it('accepts exactly the listed tokens, whatever their length', () => {
    const checker = new TokenChecker(['first', 'second-much-longer-token']);
    expect(checker.required).toBe(true);
    expect(checker.accepts('first')).toBe(true);
    expect(checker.accepts('second-much-longer-token')).toBe(true);
    for (const wrong of [undefined, '', 'firs', 'first ', 'FIRST', 'second-much-longer-token2']) expect(checker.accepts(wrong)).toBe(false);
  });
});

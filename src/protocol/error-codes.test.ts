import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ErrorCode, ErrorCodes, ProtocolError, isRetriable } from './error-codes.js';

describe('error code table', () => {
  it('names every code after its key, with a description', () => {
    for (const [key, info] of Object.entries(ErrorCodes)) {
      expect(info.code).toBe(key);
      expect((ErrorCode as Record<string, string>)[key]).toBe(key);
      expect(info.description.length).toBeGreaterThan(10);
    }
  });

  it('marks retriable codes and treats unknown codes as fatal', () => {
    expect(isRetriable('STORAGE_FULL')).toBe(true);
    expect(isRetriable('INVALID_TOPIC')).toBe(false);
    expect(isRetriable('SOMETHING_NEW')).toBe(false);
    expect(new ProtocolError(ErrorCode.SHUTTING_DOWN, 'x').retriable).toBe(true);
  });

  it('is documented code by code in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    for (const code of Object.keys(ErrorCodes)) expect(doc, code).toContain(`\`${code}\``);
  });
});

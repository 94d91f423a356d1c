import { describe, expect, it } from 'vitest';
import { CliUsageError } from './cli-error.js';
import { parseSeekTarget, parseStartPosition } from './position.js';

describe('parseStartPosition', () => {
  it('reads ends, offsets and ISO times', () => {
    expect(parseStartPosition('--from', 'earliest')).toEqual({ kind: 'earliest' });
    expect(parseStartPosition('--from', ' latest ')).toEqual({ kind: 'latest' });
    expect(parseStartPosition('--from', '0')).toEqual({ kind: 'offset', offset: 0 });
    expect(parseStartPosition('--from', '9007199254740991')).toEqual({ kind: 'offset', offset: Number.MAX_SAFE_INTEGER });
    expect(parseStartPosition('--from', '2026-11-26T13:00:00Z')).toEqual({ kind: 'time', timeMs: Date.UTC(2026, 10, 26, 13) });
    expect(parseStartPosition('--from', '2026-11-26T13:00:00.250+01:00')).toEqual({ kind: 'time', timeMs: Date.UTC(2026, 10, 26, 12, 0, 0, 250) });
    expect(parseStartPosition('--from', '2026-11-26')).toEqual({ kind: 'time', timeMs: Date.UTC(2026, 10, 26) });
  });

  it('refuses everything else', () => {
    for (const text of ['', ' ', '-1', '1.5', '1e3', '9007199254740992', 'yesterday', '2026-13-45', '2026-11-26T25:00Z', 'now']) {
      expect(() => parseStartPosition('--from', text), text).toThrow(CliUsageError);
    }
  });
});

describe('parseSeekTarget', () => {
  it('takes ends and offsets, not times', () => {
    expect(parseSeekTarget('--to', 'earliest')).toBe('earliest');
    expect(parseSeekTarget('--to', 'latest')).toBe('latest');
    expect(parseSeekTarget('--to', '42')).toBe(42);
    expect(() => parseSeekTarget('--to', '2026-11-26')).toThrow(/--to must be earliest, latest or an offset/);
    expect(() => parseSeekTarget('--to', '')).toThrow(CliUsageError);
  });
});

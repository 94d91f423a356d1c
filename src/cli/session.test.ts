import { describe, expect, it } from 'vitest';
import { CliUsageError } from './cli-error.js';
import { formatTable } from './output.js';
import { parseHeaders } from './produce.js';
import { parseBrokerAddress, resolveTarget } from './session.js';

describe('parseBrokerAddress', () => {
  it('reads host:port, [v6]:port and a bare host', () => {
    expect(parseBrokerAddress('127.0.0.1:9797')).toEqual({ host: '127.0.0.1', port: 9797 });
    expect(parseBrokerAddress('broker.internal:1')).toEqual({ host: 'broker.internal', port: 1 });
    expect(parseBrokerAddress('[::1]:65535')).toEqual({ host: '::1', port: 65535 });
    expect(parseBrokerAddress('localhost')).toEqual({ host: 'localhost', port: 9797 });
  });

  it('refuses ports out of range and malformed addresses', () => {
    for (const text of ['', 'host:0', 'host:65536', 'host:', 'host:x', '::1', ':9797', 'a:1:2']) {
      expect(() => parseBrokerAddress(text), text).toThrow(CliUsageError);
    }
  });
});

describe('resolveTarget', () => {
  it('lets flags win over WALRUS_BROKER / WALRUS_TOKEN, which win over defaults', () => {
    const env = { WALRUS_BROKER: 'env-host:1000', WALRUS_TOKEN: 'env-token' };
    expect(resolveTarget({}, env)).toMatchObject({ host: 'env-host', port: 1000, token: 'env-token' });
    expect(resolveTarget({ broker: 'flag:2000', token: 'flag-token' }, env)).toMatchObject({ host: 'flag', port: 2000, token: 'flag-token' });
    expect(resolveTarget({}, { WALRUS_BROKER: '', WALRUS_TOKEN: '' })).toMatchObject({ host: '127.0.0.1', port: 9797, token: undefined });
    expect(() => resolveTarget({ 'timeout-ms': 0 }, {})).toThrow(CliUsageError);
  });
});

describe('parseHeaders', () => {
  it('splits at the first = and refuses a missing name', () => {
    expect(parseHeaders(['a=1', 'b=x=y', 'c='])).toEqual({ a: '1', b: 'x=y', c: '' });
    expect(parseHeaders(undefined)).toBeUndefined();
    expect(() => parseHeaders(['=v'])).toThrow(CliUsageError);
    expect(() => parseHeaders(['novalue'])).toThrow(CliUsageError);
    expect(() => parseHeaders(Array.from({ length: 65 }, (_, i) => `h${i}=v`))).toThrow(CliUsageError);
    expect(Object.keys(parseHeaders(Array.from({ length: 64 }, (_, i) => `h${i}=v`))!)).toHaveLength(64);
  });
});

describe('formatTable', () => {
  it('aligns text left and numbers right under upper-case headers', () => {
    const text = formatTable(
      [
        { name: 'a', n: 1 },
        { name: 'longer', n: 1234 },
      ],
      [
        { header: 'name', cell: (r) => r.name },
        { header: 'n', cell: (r) => r.n, numeric: true },
      ],
    );
    expect(text).toBe('NAME       N\na          1\nlonger  1234\n');
  });
});

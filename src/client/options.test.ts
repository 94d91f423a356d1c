import { describe, expect, it } from 'vitest';
import { resolveConnectOptions, resolveConsumerOptions, resolveProducerOptions, validateName } from './options.js';
import { BATCH_BYTES_MAX, BUFFERED_BYTES_MAX, LINGER_MS_MAX } from './limits.js';

describe('resolveConnectOptions', () => {
  it('fills defaults', () => {
    const settings = resolveConnectOptions({});
    expect(settings.target).toEqual({ host: '127.0.0.1', port: 9797, tls: undefined });
    expect(settings.reconnect).toEqual({ initialDelayMs: 100, maxDelayMs: 5000, multiplier: 2, jitter: 0.5 });
  });

  it('accepts reconnect: false and tls: true', () => {
    const settings = resolveConnectOptions({ port: 1, reconnect: false, tls: true });
    expect(settings.reconnect).toBeUndefined();
    expect(settings.target.tls).toEqual({});
  });

  it.each([
    { port: 0 },
    { port: 65_536 },
    { port: 1.5 },
    { host: '' },
    { reconnect: { jitter: 1.01 } },
    { reconnect: { multiplier: 0.5 } },
    { reconnect: { maxDelayMs: 60_001 } },
    { reconnect: { initialDelayMs: 10, maxDelayMs: 5 } },
    { clientId: '' },
    { clientId: 'x'.repeat(256) },
    { connectTimeoutMs: 0 },
  ])('rejects %j with INVALID_OPTION', (options) => {
    expect(() => resolveConnectOptions(options as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', retriable: false }));
  });
});

describe('resolveProducerOptions', () => {
  it('accepts the maxima exactly', () => {
    const settings = resolveProducerOptions({ lingerMs: LINGER_MS_MAX, batchBytesMax: BATCH_BYTES_MAX });
    expect(settings.batchBytesMax).toBe(BATCH_BYTES_MAX);
    expect(settings.inFlightBytesMax).toBeGreaterThanOrEqual(BATCH_BYTES_MAX);
  });

  it.each([{ lingerMs: LINGER_MS_MAX + 1 }, { lingerMs: -1 }, { batchBytesMax: BATCH_BYTES_MAX + 1 }, { batchBytesMax: 100, inFlightBytesMax: 99 }])(
    'rejects %j',
    (options) => {
      expect(() => resolveProducerOptions(options)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    },
  );
});

describe('resolveConsumerOptions', () => {
  it('fills defaults', () => {
    const settings = resolveConsumerOptions({ topic: 'orders', group: 'billing' });
    expect(settings).toMatchObject({ autoCommit: false, ackTimeoutMs: undefined });
  });

  it('rejects bad names with INVALID_ARGUMENT and bad sizes with INVALID_OPTION', () => {
    expect(() => resolveConsumerOptions({ topic: '../etc', group: 'g' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveConsumerOptions({ topic: 't', group: '' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveConsumerOptions({ topic: 't', group: 'g', maxBufferedBytes: BUFFERED_BYTES_MAX + 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
    expect(() => resolveConsumerOptions({ topic: 't', group: 'g', ackTimeoutMs: 99 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('takes maxDeliveries 1 … 1,000,000 and a dead-letter topic other than the topic', () => {
    expect(resolveConsumerOptions({ topic: 't', group: 'g' })).toMatchObject({ maxDeliveries: undefined, deadLetterTopic: undefined });
    expect(resolveConsumerOptions({ topic: 't', group: 'g', maxDeliveries: 1_000_000, deadLetterTopic: 'dead' })).toMatchObject({
      maxDeliveries: 1_000_000,
      deadLetterTopic: 'dead',
    });
    const invalid = expect.objectContaining({ code: 'INVALID_OPTION' });
    expect(() => resolveConsumerOptions({ topic: 't', group: 'g', maxDeliveries: 0 })).toThrow(invalid);
    expect(() => resolveConsumerOptions({ topic: 't', group: 'g', maxDeliveries: 1_000_001 })).toThrow(invalid);
    expect(() => resolveConsumerOptions({ topic: 't', group: 'g', maxDeliveries: 2, deadLetterTopic: 't' })).toThrow(invalid);
    expect(() => resolveConsumerOptions({ topic: 't', group: 'g', deadLetterTopic: 'dead' })).toThrow(invalid);
    expect(() => resolveConsumerOptions({ topic: 't', group: 'g', maxDeliveries: 2, deadLetterTopic: '../x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('validateName', () => {
  it('takes 249 characters and refuses 250, "." and ".."', () => {
    expect(validateName('topic', 'a'.repeat(249))).toHaveLength(249);
    for (const bad of ['a'.repeat(250), '.', '..', 'a/b', '']) {
      expect(() => validateName('topic', bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});

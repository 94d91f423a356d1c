import { describe, expect, it } from 'vitest';
import { RequestTable } from './request-table.js';
import { ConnectionError } from './errors.js';
import { REQUEST_ID_LIMIT } from './limits.js';

describe('RequestTable', () => {
  it('settles each request by id, in any order', async () => {
    const table = new RequestTable();
    const a = table.allocateId();
    const b = table.allocateId();
    expect(b).not.toBe(a);
    const pa = table.add<{ v: number }>(a, undefined);
    const pb = table.add<{ v: number }>(b, undefined);
    table.settle({ id: b, ok: true, v: 2 });
    table.settle({ id: a, ok: true, v: 1 });
    expect((await pa).v).toBe(1);
    expect((await pb).v).toBe(2);
    expect(table.size).toBe(0);
  });

  it('maps error replies to BrokerError with the table retriable flag; unknown codes are not retriable', async () => {
    const table = new RequestTable();
    const p1 = table.add(1, undefined);
    const p2 = table.add(2, undefined);
    const p3 = table.add(3, undefined);
    table.settle({ id: 1, ok: false, error: { code: 'STORAGE_FULL', message: 'full' } });
    table.settle({ id: 2, ok: false, error: { code: 'FROM_THE_FUTURE', message: '?' } });
    table.settle({ id: 3, ok: false, error: 'garbage' });
    await expect(p1).rejects.toMatchObject({ name: 'BrokerError', code: 'STORAGE_FULL', retriable: true, message: 'full' });
    await expect(p2).rejects.toMatchObject({ code: 'FROM_THE_FUTURE', retriable: false });
    await expect(p3).rejects.toMatchObject({ code: 'INTERNAL', retriable: false });
  });

  it('drops replies to unknown ids and to aborted requests', async () => {
    const table = new RequestTable();
    const controller = new AbortController();
    const p = table.add(7, controller.signal);
    controller.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    table.settle({ id: 7, ok: true });
    table.settle({ id: 0, ok: false, error: { code: 'BAD_FRAME', message: '' } });
    table.settle({ ok: true });
    expect(table.size).toBe(0);
  });

  it('wraps from 2^32-1 to 1, never uses 0, and skips ids still pending', () => {
    const table = new RequestTable(REQUEST_ID_LIMIT - 2);
    const held = table.allocateId();
    expect(held).toBe(REQUEST_ID_LIMIT - 2);
    void table.add(held, undefined).catch(() => {});
    expect(table.allocateId()).toBe(REQUEST_ID_LIMIT - 1);
    const afterWrap = table.allocateId();
    expect(afterWrap).toBe(1);
    void table.add(afterWrap, undefined).catch(() => {});
    const wrapped = new RequestTable(REQUEST_ID_LIMIT - 1);
    void wrapped.add(1, undefined).catch(() => {});
    expect(wrapped.allocateId()).toBe(REQUEST_ID_LIMIT - 1);
    expect(wrapped.allocateId()).toBe(2); // 1 is still pending
    table.failAll(new ConnectionError('CONNECTION_LOST', 'gone', true));
    wrapped.failAll(new ConnectionError('CONNECTION_LOST', 'gone', true));
    expect(table.size).toBe(0);
  });
});

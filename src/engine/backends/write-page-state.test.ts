import { describe, expect, it } from 'vitest';
import { PAGE_BYTES } from './aligned-buffer-pool.js';
import { TailPageCache } from './tail-page-cache.js';
import { ZeroedPages } from './zeroed-pages.js';

describe('ZeroedPages', () => {
  it('knows whole zero-filled pages until they are written, across contiguous fills', () => {
    const z = new ZeroedPages();
    z.zeroed(100, 3 * PAGE_BYTES); // page 0 is only partly zeroed: not known
    expect([0, 1, 2, 3].map((p) => z.isZero(p))).toEqual([false, true, true, false]);
    z.zeroed(3 * PAGE_BYTES, 5 * PAGE_BYTES); // the next preallocation step extends the range
    expect([3, 4, 5].map((p) => z.isZero(p))).toEqual([true, true, false]);
    z.markWritten(2, 3);
    expect([1, 2, 3, 4].map((p) => z.isZero(p))).toEqual([true, false, false, true]);
    z.forgetFrom(4);
    expect(z.isZero(4)).toBe(false);
    expect(z.isZero(1)).toBe(true);
  });

  it('starts over on a fill that is not contiguous with what it knows', () => {
    const z = new ZeroedPages();
    z.zeroed(0, 2 * PAGE_BYTES);
    z.markWritten(0, 0);
    z.zeroed(10 * PAGE_BYTES, 12 * PAGE_BYTES);
    expect([0, 1, 10, 11].map((p) => z.isZero(p))).toEqual([false, false, true, true]);
  });
});

describe('TailPageCache', () => {
  const page = (fill: number): Buffer => Buffer.alloc(PAGE_BYTES, fill);

  it('returns the last image set for a page and forgets ranges', () => {
    const c = new TailPageCache(4);
    c.set(7, page(1));
    c.set(7, page(2));
    c.set(9, page(3));
    const into = Buffer.alloc(2 * PAGE_BYTES);
    expect(c.copyTo(7, into, PAGE_BYTES)).toBe(true);
    expect(into[PAGE_BYTES]).toBe(2);
    c.forget(8, 9);
    expect(c.copyTo(9, into, 0)).toBe(false);
    expect(c.copyTo(7, into, 0)).toBe(true);
    c.forgetFrom(0);
    expect(c.copyTo(7, into, 0)).toBe(false);
  });

  it('keeps at most `limit` pages, dropping the oldest, and copies images rather than keeping views', () => {
    const c = new TailPageCache(2);
    const source = page(5);
    c.set(1, source);
    source.fill(9); // the caller reuses its buffer
    c.set(2, page(6));
    c.set(3, page(7));
    const into = Buffer.alloc(PAGE_BYTES);
    expect(c.copyTo(1, into, 0)).toBe(false);
    expect(c.copyTo(2, into, 0) && into[0]).toBe(6);
    expect(c.copyTo(3, into, 0) && into[0]).toBe(7);
    const again = new TailPageCache(2);
    const s2 = page(5);
    again.set(1, s2);
    s2.fill(9);
    expect(again.copyTo(1, into, 0) && into[0]).toBe(5);
  });
});

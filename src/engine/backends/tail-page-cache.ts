/**
 * Copies of the last page of recent direct writes, one per write head. The engine appends to many
 * blocks of one segment file at once (one per active topic), and each append's first page is the last
 * page of that block's previous append: with one cached page per file, all but one write head read
 * their first page back from disk with a synchronous O_DIRECT read on every cycle (measured: ~1 ms
 * per cycle with 8 topics). Pages are kept in insertion order and the oldest is dropped past `limit`.
 */
import { PAGE_BYTES } from './aligned-buffer-pool.js';

export class TailPageCache {
  private readonly pages = new Map<number, Buffer>();

  constructor(private readonly limit = 64) {}

  /** Copies the cached image of `page` into `into` at `offset`; false when it is not cached. */
  copyTo(page: number, into: Buffer, offset: number): boolean {
    const image = this.pages.get(page);
    if (!image) return false;
    image.copy(into, offset);
    return true;
  }

  /** Records `image` (one page) as what the disk holds for `page` once the write in flight completes. */
  set(page: number, image: Uint8Array): void {
    let copy = this.pages.get(page);
    if (copy) this.pages.delete(page); // re-inserted below: newest last
    else if (this.pages.size >= this.limit) {
      const oldest = this.pages.keys().next().value as number;
      copy = this.pages.get(oldest);
      this.pages.delete(oldest);
    }
    copy ??= Buffer.allocUnsafe(PAGE_BYTES);
    copy.set(image);
    this.pages.set(page, copy);
  }

  /** Forgets every cached page in [firstPage, lastPage]. */
  forget(firstPage: number, lastPage: number): void {
    if (this.pages.size === 0) return;
    if (lastPage - firstPage + 1 < this.pages.size) {
      for (let p = firstPage; p <= lastPage; p++) this.pages.delete(p);
      return;
    }
    for (const p of [...this.pages.keys()]) if (p >= firstPage && p <= lastPage) this.pages.delete(p);
  }

  /** Forgets every cached page from `firstPage` on. */
  forgetFrom(firstPage: number): void {
    for (const p of [...this.pages.keys()]) if (p >= firstPage) this.pages.delete(p);
  }
}

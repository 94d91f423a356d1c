/**
 * FIFO of fetched records with a running byte count: the consumer's prefetch buffer. An array with a
 * moving head; the consumed prefix is dropped once it is both over 1,024 entries and over half the
 * array, so a shift is O(1) amortised and dead slots never exceed the live ones (plus 1,024).
 */
export class RecordQueue<T extends { readonly bytes: number }> {
  #items: T[] = [];
  #head = 0;
  #bytes = 0;

  /** Records queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Sum of the queued records' `bytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends one record. */
  push(item: T, bytes: number = item.bytes): void {
    this.#items.push(item);
    this.#bytes += bytes;
  }

  /** The oldest record, without removing it. */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** Removes and returns the oldest record. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined as unknown as T; // let it be collected
    this.#head += 1;
    this.#bytes -= item.bytes;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Drops everything. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}

/**
 * Which commit offset a group consumer may send.
 *
 * The broker's `commit {offset}` acknowledges every record this connection was given below `offset`,
 * so the SDK may only send `offset = the lowest offset given and not yet done` (or, when everything
 * given is done, one past the highest given). Sending more would acknowledge a record nobody handled.
 *
 * State: the set of pending offsets, plus a min-heap over them with lazy deletion (a done offset stays
 * in the heap until it reaches the top). The heap holds at most the records given since the lowest
 * pending one, which the broker's lease and the consumer's byte cap both bound.
 */
export class OffsetTracker {
  readonly #pending = new Set<number>();
  readonly #heap: number[] = [];
  #highestGiven = -1;

  /** Records an offset handed to this connection. Returns false if it was already pending (a duplicate). */
  give(offset: number): boolean {
    if (offset > this.#highestGiven) this.#highestGiven = offset;
    if (this.#pending.has(offset)) return false;
    this.#pending.add(offset);
    this.#push(offset);
    return true;
  }

  /** Marks an offset handled. Unknown or already-done offsets are ignored. */
  done(offset: number): void {
    this.#pending.delete(offset);
  }

  /** True while `offset` was given and not yet marked done. */
  isPending(offset: number): boolean {
    return this.#pending.has(offset);
  }

  /** Offsets given and not done. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The largest offset `commit` may send now (0 when nothing was ever given). */
  commitOffset(): number {
    while (this.#heap.length > 0 && !this.#pending.has(this.#heap[0])) this.#pop();
    if (this.#heap.length > 0) return this.#heap[0];
    return this.#highestGiven + 1;
  }

  /** Forgets everything (the connection that held the leases is gone). */
  reset(): void {
    this.#pending.clear();
    this.#heap.length = 0;
    this.#highestGiven = -1;
  }

  #push(value: number): void {
    const heap = this.#heap;
    let index = heap.push(value) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent] <= value) break;
      heap[index] = heap[parent];
      index = parent;
    }
    heap[index] = value;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right] < heap[left] ? right : left;
      if (heap[child] >= last) break;
      heap[index] = heap[child];
      index = child;
    }
    heap[index] = last;
  }
}

import assert from 'node:assert/strict';
import { AbortedError } from './errors.js';

/**
 * A byte-counting semaphore: the producer's in-flight cap. `acquire(n)` resolves at once while the
 * total stays within `capacityBytes`, otherwise it waits in FIFO order until `release` frees room.
 *
 * One request larger than the whole capacity is admitted alone (when nothing else is held), so a big
 * record can never deadlock; memory is then bounded by max(capacity, largest record).
 */
export class ByteBudget {
  readonly capacityBytes: number;
  #usedBytes = 0;
  readonly #waiters: Waiter[] = [];

  constructor(capacityBytes: number) {
    assert(Number.isSafeInteger(capacityBytes) && capacityBytes > 0);
    this.capacityBytes = capacityBytes;
  }

  /** Bytes currently held. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Takes `bytes` now if they fit and nobody is queued ahead; returns whether it did. */
  tryAcquire(bytes: number): boolean {
    if (this.#waiters.length > 0 || !this.#fits(bytes)) return false;
    this.#usedBytes += bytes;
    return true;
  }

  /** Waits until `bytes` fit, then takes them. Rejects with `AbortedError` if `signal` fires first. */
  acquire(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire(bytes)) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(new AbortedError(signal.reason));
          this.#grant(); // the head may have changed
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Returns bytes taken by `acquire`/`tryAcquire` and wakes waiters that now fit. */
  release(bytes: number): void {
    assert(bytes >= 0 && bytes <= this.#usedBytes, 'released more bytes than held');
    this.#usedBytes -= bytes;
    this.#grant();
  }

  /** Fails every waiter (used by close). */
  rejectAll(error: Error): void {
    for (const waiter of this.#waiters.splice(0)) {
      if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(error);
    }
  }

  #fits(bytes: number): boolean {
    return this.#usedBytes + bytes <= this.capacityBytes || this.#usedBytes === 0;
  }

  #grant(): void {
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0].bytes)) {
      const waiter = this.#waiters.shift()!;
      if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.#usedBytes += waiter.bytes;
      waiter.resolve();
    }
  }
}

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

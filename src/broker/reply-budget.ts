/**
 * Per-connection budget for fetch replies, so a client that pipelines many fetches and does not read
 * cannot make the broker read and queue all their records at once. A fetch reserves its `maxBytes`
 * before reading; it may proceed when
 *   queued reply bytes + reserved bytes + its own maxBytes <= capBytes,
 * or when nothing else is reserved and the queue is within the cap (so one fetch larger than the cap
 * still runs when the client keeps up). Others wait, first come first served.
 *
 * Releases do not wake waiters by themselves: the connection calls `pump()` after it has encoded a
 * reply (and on 'drain'), so the freed reservation is already counted as queued bytes when the next
 * fetch is admitted.
 */

/** Reservation bookkeeping for one connection. */
export class ReplyBudget {
  private readonly capBytes: number;
  private readonly queuedBytes: () => number;
  private reserved = 0;
  private waiters: Array<{ bytes: number; resolve: () => void }> = [];
  private closed = false;

  constructor(capBytes: number, queuedBytes: () => number) {
    this.capBytes = capBytes;
    this.queuedBytes = queuedBytes;
  }

  /** Bytes currently reserved. */
  get reservedBytes(): number {
    return this.reserved;
  }

  /** Reserves `bytes`; resolves at once (undefined) when admitted, else a promise settled on admission. */
  acquire(bytes: number): Promise<void> | undefined {
    if (this.waiters.length === 0 && this.admits(bytes)) {
      this.reserved += bytes;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  /** Returns a reservation. Call `pump()` once the reply it covered is queued. */
  release(bytes: number): void {
    this.reserved -= bytes;
  }

  /** Admits waiting fetches in order while the budget allows. */
  pump(): void {
    while (this.waiters.length > 0) {
      const next = this.waiters[0];
      if (!this.closed && !this.admits(next.bytes)) return;
      this.waiters.shift();
      this.reserved += next.bytes;
      next.resolve();
    }
  }

  /** Admits everyone (the connection closed: their replies will be dropped). */
  close(): void {
    this.closed = true;
    this.pump();
  }

  private admits(bytes: number): boolean {
    if (this.closed) return true;
    const queued = this.queuedBytes();
    if (this.reserved === 0) return queued <= this.capBytes;
    return queued + this.reserved + bytes <= this.capBytes;
  }
}

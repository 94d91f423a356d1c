import { isRetriable } from './errors.js';
import { OffsetTracker } from './offset-tracker.js';

/**
 * Turns "done with this message" into as few `commit` requests as possible, never acknowledging a
 * record that is not done.
 *
 * - `give(offset)` when a fetch hands a record to this connection; `yielded(sequence, offset)` when
 *   the reader receives it; `done(sequence)` marks it and every earlier-yielded message done
 *   (cumulative in yield order, like Kafka's committed offset, so "commit the last of a batch" works).
 * - The wire offset is `OffsetTracker.commitOffset()`: everything given below it is done.
 * - At most one commit request is in flight; marks made meanwhile are folded into the next one.
 *   A `done()` promise resolves when a commit sent after the mark is answered, or at once when the
 *   wire offset cannot move yet (an earlier record is still held by the reader or the buffer).
 * - A commit that fails because the connection dropped resolves: the leases died with the connection,
 *   so the broker will hand those records out again. Other failures reject.
 */
export class CommitScheduler {
  readonly #tracker = new OffsetTracker();
  /** Yielded and not yet done: parallel arrays, oldest first, from `#head`. */
  readonly #sequences: number[] = [];
  readonly #offsets: number[] = [];
  #head = 0;
  /**
   * Every record given below this is acknowledged or in a commit in flight; a commit is sent only to
   * move past it. Infinity while nothing is held; a record given below it lowers it.
   */
  #requested = Number.POSITIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  /** Bumped by reset(); replies to commits of an older lease set must not touch `#requested`. */
  #epoch = 0;
  #next: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;
  readonly #send: (offset: number) => Promise<void>;

  /** `send` issues one `commit {offset}` on the current connection. */
  constructor(send: (offset: number) => Promise<void>) {
    this.#send = send;
  }

  /** A fetch handed `offset` to this connection. Returns false for a duplicate of a record we hold. */
  give(offset: number): boolean {
    // A record given below what we already acknowledged (a lease that expired and came back, or the
    // first record after a reset) needs a commit once done, even if that commit repeats an offset.
    if (offset < this.#requested) this.#requested = offset;
    return this.#tracker.give(offset);
  }

  /** The reader received the message with this sequence and offset. */
  yielded(sequence: number, offset: number): void {
    this.#sequences.push(sequence);
    this.#offsets.push(offset);
  }

  /** Records given to this connection and not yet done (buffered, in a handler, or dropped by close). */
  get unfinishedCount(): number {
    return this.#tracker.pendingCount;
  }

  /** Messages yielded and not yet done. */
  get outstandingCount(): number {
    return this.#sequences.length - this.#head;
  }

  /** Marks every yielded message up to `sequence` done and commits as far as that allows. */
  done(sequence: number): Promise<void> {
    while (this.#head < this.#sequences.length && this.#sequences[this.#head] <= sequence) {
      this.#tracker.done(this.#offsets[this.#head]);
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#sequences.length) {
      this.#sequences.splice(0, this.#head);
      this.#offsets.splice(0, this.#head);
      this.#head = 0;
    }
    return this.flush();
  }

  /**
   * The message with this sequence left this connection's hands without being done (the broker took
   * it back on `nack`): it no longer holds the wire offset down, and no later `done` may count it (a
   * redelivered copy of the same offset is a new message). With `copyHeld`, a copy handed back
   * before the nack was answered is already held: the offset stays pending for that copy.
   */
  release(sequence: number, offset: number, copyHeld = false): void {
    for (let i = this.#head; i < this.#sequences.length; i++) {
      if (this.#sequences[i] !== sequence) continue;
      this.#offsets[i] = -1; // never given, so `done` ignores it
      break;
    }
    if (!copyHeld) this.#tracker.done(offset);
  }

  /** Sends a commit if the wire offset moved; resolves as described above. */
  flush(): Promise<void> {
    const target = this.#tracker.commitOffset();
    if (target <= this.#requested) return this.#inFlight ?? Promise.resolve();
    if (this.#inFlight !== undefined) {
      if (this.#next === undefined) {
        let resolve!: () => void;
        let reject!: (error: Error) => void;
        const promise = new Promise<void>((res, rej) => {
          resolve = res;
          reject = rej;
        });
        this.#next = { promise, resolve, reject };
      }
      return this.#next.promise;
    }
    return this.#start(target);
  }

  /** Waits for the commit in flight and any queued after it. */
  async drain(): Promise<void> {
    while (this.#inFlight !== undefined) await this.#inFlight.catch(() => undefined);
  }

  /** Forgets all leases (the connection that held them is gone). */
  reset(): void {
    this.#tracker.reset();
    this.#sequences.length = 0;
    this.#offsets.length = 0;
    this.#head = 0;
    this.#requested = Number.POSITIVE_INFINITY;
    this.#epoch += 1;
  }

  #start(target: number): Promise<void> {
    const previous = this.#requested;
    const epoch = this.#epoch;
    this.#requested = target;
    const sent = this.#send(target).catch((error: unknown) => {
      // Not stored: let the next flush send it again (unless the lease set was reset meanwhile).
      if (epoch === this.#epoch && this.#requested === target) this.#requested = previous;
      if (!isRetriable(error)) throw error;
    });
    const inFlight = sent.finally(() => {
      this.#inFlight = undefined;
      const next = this.#next;
      this.#next = undefined;
      if (next === undefined) return;
      const target = this.#tracker.commitOffset();
      if (target > this.#requested) this.#start(target).then(next.resolve, next.reject);
      else next.resolve();
    });
    this.#inFlight = inFlight;
    return inFlight;
  }
}

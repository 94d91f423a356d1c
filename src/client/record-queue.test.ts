import { describe, expect, it } from 'vitest';
import { RecordQueue } from './record-queue.js';

describe('RecordQueue', () => {
  it('is FIFO and counts bytes', () => {
    const queue = new RecordQueue<{ bytes: number; n: number }>();
    expect(queue.shift()).toBeUndefined();
    for (let n = 0; n < 5; n++) queue.push({ bytes: 10, n });
    expect(queue.length).toBe(5);
    expect(queue.bytes).toBe(50);
    expect(queue.shift()?.n).toBe(0);
    expect(queue.peek()?.n).toBe(1);
    expect(queue.bytes).toBe(40);
    queue.clear();
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  it('keeps order across compactions', () => {
    const queue = new RecordQueue<{ bytes: number; n: number }>();
    let next = 0;
    const out: number[] = [];
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) queue.push({ bytes: 1, n: next++ });
      for (let i = 0; i < 90; i++) out.push(queue.shift()!.n);
    }
    while (queue.length > 0) out.push(queue.shift()!.n);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(queue.bytes).toBe(0);
  });
});

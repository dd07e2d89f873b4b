import { afterEach, describe, expect, it, vi } from 'vitest';
import { IDLE, ItemBuffer } from '../../src/replay/itemBuffer.js';

/** Whether a promise has settled, after letting pending callbacks run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** Fakes only the idle timer: `settled` still needs a real setImmediate. */
function fakeTimeouts(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ItemBuffer', () => {
  it('push then next hands the items back in order', async () => {
    const buffer = new ItemBuffer<number>();
    buffer.push(1);
    buffer.push(2);
    expect(await buffer.next()).toBe(1);
    expect(await buffer.next()).toBe(2);
  });

  it('next waits for a push', async () => {
    const buffer = new ItemBuffer<string>();
    const pending = buffer.next();
    expect(await settled(pending)).toBe(false);
    buffer.push('a');
    expect(await pending).toBe('a');
  });

  it('next waits again after the buffer runs dry', async () => {
    const buffer = new ItemBuffer<string>();
    buffer.push('a');
    expect(await buffer.next()).toBe('a');
    const pending = buffer.next();
    expect(await settled(pending)).toBe(false);
    buffer.push('b');
    buffer.push('c');
    expect(await pending).toBe('b');
    expect(await buffer.next()).toBe('c');
  });

  it('end() after buffered items: they are drained first, then undefined (every time)', async () => {
    const buffer = new ItemBuffer<number>();
    buffer.push(1);
    buffer.push(2);
    buffer.end();
    expect(buffer.isEnded).toBe(true);
    expect(await buffer.next()).toBe(1);
    expect(await buffer.next()).toBe(2);
    expect(await buffer.next()).toBeUndefined();
    expect(await buffer.next()).toBeUndefined();
  });

  it('end() wakes a waiting next with undefined', async () => {
    const buffer = new ItemBuffer<number>();
    const pending = buffer.next();
    expect(await settled(pending)).toBe(false);
    buffer.end();
    expect(await pending).toBeUndefined();
  });

  it('is not ended until end() or fail()', () => {
    const buffer = new ItemBuffer<number>();
    buffer.push(1);
    expect(buffer.isEnded).toBe(false);
  });

  it('fail() throws once the buffered items are taken', async () => {
    const buffer = new ItemBuffer<number>();
    buffer.push(1);
    buffer.push(2);
    const error = new Error('channel closed');
    buffer.fail(error);
    expect(buffer.isEnded).toBe(true);
    expect(await buffer.next()).toBe(1);
    expect(await buffer.next()).toBe(2);
    await expect(buffer.next()).rejects.toBe(error);
    await expect(buffer.next()).rejects.toBe(error);
  });

  it('fail() rejects a waiting next', async () => {
    const buffer = new ItemBuffer<number>();
    const pending = buffer.next();
    const error = new Error('connection lost');
    buffer.fail(error);
    await expect(pending).rejects.toBe(error);
  });

  it('the first failure is the one thrown', async () => {
    const buffer = new ItemBuffer<number>();
    const first = new Error('first');
    buffer.fail(first);
    buffer.fail(new Error('second'));
    await expect(buffer.next()).rejects.toBe(first);
  });

  it('push after end() or fail() is ignored', async () => {
    const ended = new ItemBuffer<number>();
    ended.push(1);
    ended.end();
    ended.push(2);
    expect(await ended.next()).toBe(1);
    expect(await ended.next()).toBeUndefined();

    const failed = new ItemBuffer<number>();
    const error = new Error('x');
    failed.fail(error);
    failed.push(3);
    await expect(failed.next()).rejects.toBe(error);
  });

  it('next(idleMs) returns IDLE once the wait passes with nothing', async () => {
    fakeTimeouts();
    const buffer = new ItemBuffer<number>();
    const pending = buffer.next(1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(pending)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await pending).toBe(IDLE);
    // Still usable: an item pushed later is handed out.
    buffer.push(7);
    expect(await buffer.next(1000)).toBe(7);
  });

  it('next(idleMs) returns IDLE with real timers too', async () => {
    const buffer = new ItemBuffer<number>();
    const started = performance.now();
    expect(await buffer.next(20)).toBe(IDLE);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('next(idleMs) returns an item pushed within the wait, and clears its timer', async () => {
    fakeTimeouts();
    const buffer = new ItemBuffer<string>();
    const pending = buffer.next(1000);
    await vi.advanceTimersByTimeAsync(500);
    buffer.push('late but in time');
    expect(await pending).toBe('late but in time');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('next(idleMs) returns a buffered item at once, without waiting', async () => {
    fakeTimeouts();
    const buffer = new ItemBuffer<number>();
    buffer.push(1);
    expect(await buffer.next(1000)).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('next(idleMs) after end() is undefined, not IDLE', async () => {
    const buffer = new ItemBuffer<number>();
    buffer.end();
    expect(await buffer.next(10)).toBeUndefined();
  });

  it('keeps many items in order (over 2048: the taken ones are compacted away)', async () => {
    const buffer = new ItemBuffer<number>();
    const total = 5000;
    for (let i = 0; i < total; i += 1) buffer.push(i);
    buffer.end();
    const out: number[] = [];
    for (;;) {
      const item = await buffer.next();
      if (item === undefined) break;
      out.push(item as number);
    }
    expect(out).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('keeps order when pushes and takes interleave across compactions', async () => {
    const buffer = new ItemBuffer<number>();
    let pushed = 0;
    const out: number[] = [];
    // Push three, take two: the backlog grows while the head passes the compaction point often.
    for (let round = 0; round < 3000; round += 1) {
      for (let i = 0; i < 3; i += 1) buffer.push(pushed++);
      out.push((await buffer.next()) as number, (await buffer.next()) as number);
    }
    buffer.end();
    for (;;) {
      const item = await buffer.next();
      if (item === undefined) break;
      out.push(item as number);
    }
    expect(out).toEqual(Array.from({ length: pushed }, (_, i) => i));
  });

  it('a consumer waiting on next gets every item of a long producer, in order', async () => {
    const buffer = new ItemBuffer<number>();
    const total = 3000;
    const consumer = (async () => {
      const out: number[] = [];
      for (;;) {
        const item = await buffer.next();
        if (item === undefined) return out;
        out.push(item as number);
      }
    })();
    for (let i = 0; i < total; i += 1) {
      buffer.push(i);
      if (i % 7 === 0) await Promise.resolve();
    }
    buffer.end();
    expect(await consumer).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('takeAll() hands over everything not yet taken, without waiting, and empties the buffer', async () => {
    const buffer = new ItemBuffer<number>();
    expect(buffer.takeAll()).toEqual([]);
    for (let i = 0; i < 5; i += 1) buffer.push(i);
    expect(await buffer.next()).toBe(0);
    expect(await buffer.next()).toBe(1);
    expect(buffer.takeAll()).toEqual([2, 3, 4]);
    expect(buffer.takeAll()).toEqual([]);
    // Nothing left: next waits again, and gets what is pushed afterwards.
    const pending = buffer.next();
    expect(await settled(pending)).toBe(false);
    buffer.push(5);
    expect(await pending).toBe(5);
  });

  it('takeAll() after end(): the rest, then next is undefined', async () => {
    const buffer = new ItemBuffer<string>();
    buffer.push('a');
    buffer.push('b');
    buffer.end();
    expect(buffer.takeAll()).toEqual(['a', 'b']);
    expect(await buffer.next()).toBeUndefined();
  });

  it('takeAll() after many items were taken (past compaction) returns only the rest, in order', async () => {
    const buffer = new ItemBuffer<number>();
    for (let i = 0; i < 3000; i += 1) buffer.push(i);
    for (let i = 0; i < 2900; i += 1) await buffer.next();
    expect(buffer.takeAll()).toEqual(Array.from({ length: 100 }, (_, i) => 2900 + i));
  });
});

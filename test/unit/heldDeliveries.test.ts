import { describe, expect, it } from 'vitest';
import type { DeliveredMessage } from '../../src/broker/session.js';
import type { HandlerInput } from '../../src/exec/handler.js';
import type { PreparedHandler } from '../../src/exec/handlerProcess.js';
import { execPrefetch, HeldDeliveries, PreparedNext } from '../../src/exec/heldDeliveries.js';

/** A run of `slots` handlers with --count `count`: what started, and a way to end one. */
function run(slots: number, count?: number) {
  const started: number[] = [];
  let running = 0;
  const held = new HeldDeliveries<number>(
    (n) => {
      started.push(n);
      running += 1;
    },
    () => running < slots,
    () => count === undefined || started.length < count,
  );
  return {
    held,
    started,
    end: () => {
      running -= 1;
      held.startWhatFits();
    },
    stop: () => held.clear(),
  };
}

describe('HeldDeliveries', () => {
  it('starts deliveries while a slot is free and holds the rest, starting them in order as slots free', () => {
    const r = run(1);
    for (const n of [1, 2, 3]) r.held.offer(n);
    expect(r.started).toEqual([1]);
    expect(r.held.next).toBe(2);
    r.end();
    expect(r.started).toEqual([1, 2]);
    r.end();
    expect(r.started).toEqual([1, 2, 3]);
    expect(r.held.next).toBeUndefined();
  });

  it('starts no handler beyond --count: what comes after waits, held, for a place a retry frees', () => {
    const r = run(1, 2);
    for (const n of [1, 2, 3, 4]) r.held.offer(n);
    expect(r.started).toEqual([1]);
    expect(r.held.next).toBe(2);
    r.end();
    r.end();
    expect(r.started).toEqual([1, 2]);
    expect(r.held.next).toBe(3);
  });

  it('a stopped run starts nothing it held', () => {
    const r = run(2);
    for (const n of [1, 2, 3, 4]) r.held.offer(n);
    expect(r.started).toEqual([1, 2]);
    r.stop();
    r.end();
    expect(r.started).toEqual([1, 2]);
    expect(r.held.next).toBeUndefined();
  });

  it('the prefetch covers the running handlers and those held ahead, within the protocol limit', () => {
    expect(execPrefetch(1)).toBeGreaterThan(1);
    expect(execPrefetch(4)).toBeGreaterThan(4);
    expect(execPrefetch(65535)).toBe(65535);
  });
});

/** A message's handler input, the message told apart by its id. */
function input(id: string): HandlerInput {
  const message = { properties: { messageId: id } } as unknown as DeliveredMessage;
  return { message, retries: 0, prefix: '' };
}

describe('PreparedNext', () => {
  function tracked() {
    const events: string[] = [];
    const next = new PreparedNext((input) => {
      const id = input.message.properties.messageId;
      events.push(`prepare ${id}`);
      return {
        open: () => {
          throw new Error('not opened here');
        },
        discard: () => events.push(`discard ${id}`),
      } satisfies PreparedHandler;
    });
    return { events, next };
  }

  it('prepares the next delivery once, hands it over once, and discards one whose turn will not come', () => {
    const { events, next } = tracked();
    const a = input('a');
    const b = input('b');
    next.ready(a);
    next.ready({ ...a, prefix: 'again ' }); // the same message, asked for again
    expect(next.take(b)).toBeUndefined();
    expect(next.take(a)).toBeDefined();
    expect(next.take(a)).toBeUndefined();
    next.ready(b);
    next.discard();
    next.discard();
    expect(events).toEqual(['prepare a', 'prepare b', 'discard b']);
  });
});

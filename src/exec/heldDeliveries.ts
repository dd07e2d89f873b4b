import type { HandlerInput } from './handler.js';
import type { PreparedHandler } from './handlerProcess.js';

/**
 * How many deliveries a run takes ahead of its handlers, for each handler slot: enough that
 * the next message is already here when a handler ends (rather than one broker round trip,
 * a commit and a delivery, later), few enough that a run holds little it does not work on.
 */
export const HELD_PER_HANDLER = 2;

/** The prefetch of a run with `concurrency` handlers: those running, and those held ahead. */
export function execPrefetch(concurrency: number): number {
  return Math.min(65535, concurrency * (1 + HELD_PER_HANDLER));
}

/**
 * Deliveries taken from the broker ahead of the handlers, in the order they came: one starts
 * as soon as a handler slot is free. A held message is not the run's yet: it is not counted,
 * not acked, and a run that stops leaves it unacked, so the broker gives it back to the queue
 * (in its place) with the channel.
 */
export class HeldDeliveries<T> {
  private held: T[] = [];

  /**
   * `start` runs a delivery's handler; `free` says whether a slot is free now; `wanted`
   * whether the run takes one more now (one at --count waits until a message given back
   * for another try frees a place).
   */
  constructor(
    private readonly start: (delivery: T) => void,
    private readonly free: () => boolean,
    private readonly wanted: () => boolean,
  ) {}

  /** The delivery to start next, when one is held. */
  get next(): T | undefined {
    return this.held[0];
  }

  /** A new delivery: started now if a slot is free and the run wants it, else held. */
  offer(delivery: T): void {
    this.held.push(delivery);
    this.startWhatFits();
  }

  /** A slot or a place was freed: start the next held deliveries that fit. */
  startWhatFits(): void {
    while (this.held.length > 0 && this.free() && this.wanted()) {
      this.start(this.held.shift() as T);
    }
  }

  /** The run stops (or its connection is gone): what is held is never started. */
  clear(): void {
    this.held = [];
  }
}

/**
 * The handler of the next held delivery, started ahead and held at its gate
 * (prepareHandler), so that it can run the moment a slot is free. One at most: that is the
 * one whose start the next free slot waits for.
 */
export class PreparedNext {
  private prepared: { input: HandlerInput; handler: PreparedHandler } | undefined;

  constructor(private readonly prepare: (input: HandlerInput) => PreparedHandler) {}

  /** Prepares `next`'s handler, unless its message's is prepared already. */
  ready(next: HandlerInput): void {
    if (this.prepared?.input.message === next.message) return;
    this.discard();
    this.prepared = { input: next, handler: this.prepare(next) };
  }

  /** The prepared handler of `input`'s message, now its turn has come; undefined if it has none. */
  take(input: HandlerInput): PreparedHandler | undefined {
    if (this.prepared?.input.message !== input.message) return undefined;
    const { handler } = this.prepared;
    this.prepared = undefined;
    return handler;
  }

  /** Its turn will not come: the prepared shell ends without running the command. */
  discard(): void {
    this.prepared?.handler.discard();
    this.prepared = undefined;
  }
}

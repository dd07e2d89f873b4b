import type { HandlerRun } from './handler.js';

/** The handlers running now, by delivery tag: waited for, interrupted or killed together. */
export class HandlerPool {
  private readonly running = new Map<number, HandlerRun>();
  private idleWaiters: (() => void)[] = [];

  /** `onEnded` runs after each handler ended and its message was dealt with. */
  constructor(private readonly onEnded: () => void) {}

  get size(): number {
    return this.running.size;
  }

  /**
   * Runs `then` once the handler ended and `ready` settled (the consumer is in place to
   * settle its message: a handler that could not start is done at once, maybe before that).
   */
  track(
    tag: number,
    run: HandlerRun,
    ready: Promise<void>,
    then: (result: Awaited<HandlerRun['done']>) => void,
  ): void {
    this.running.set(tag, run);
    void Promise.all([run.done, ready]).then(([result]) => {
      this.running.delete(tag);
      then(result);
      this.onEnded();
      if (this.running.size > 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    });
  }

  /** Resolves once no handler runs (and what the last one ended was dealt with). */
  whenIdle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves once every handler running now has ended. */
  async ended(): Promise<void> {
    await Promise.all([...this.running.values()].map((run) => run.done));
  }

  interruptAll(): void {
    for (const run of this.running.values()) run.interrupt();
  }

  killAll(): void {
    for (const run of this.running.values()) run.kill();
  }
}

/** What `next` returns when nothing came within the wait it was given. */
export const IDLE: unique symbol = Symbol('idle');

/**
 * Hands deliveries from broker callbacks to a loop that pulls them one at a time. Its size
 * is bounded by the consumer's prefetch, not here.
 */
export class ItemBuffer<T> {
  private items: T[] = [];
  private head = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.notify();
  }

  /** No more items: `next` returns undefined once the buffered ones are taken. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** `next` throws this once the buffered items are taken. */
  fail(error: Error): void {
    this.failure ??= error;
    this.end();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  async next(idleMs?: number): Promise<T | undefined | typeof IDLE> {
    for (;;) {
      if (this.head < this.items.length) {
        const item = this.items[this.head] as T;
        this.head += 1;
        if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
        return item;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return undefined;
      const woken = await new Promise<boolean>((resolve) => {
        const timer = idleMs === undefined ? undefined : setTimeout(() => resolve(false), idleMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      this.wake = undefined;
      if (!woken) return IDLE;
    }
  }

  /** Everything buffered now, without waiting. */
  takeAll(): T[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }

  private notify(): void {
    this.wake?.();
  }
}

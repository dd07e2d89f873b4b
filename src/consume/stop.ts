/** What consume, tail and consume --exec share to end a run: the first stop reason, an idle timer. */

/** Waits until something stops the run; the first reason wins. */
export class Stopper<Reason> {
  reason: Reason | undefined;
  private resolve!: (reason: Reason) => void;
  readonly stopped = new Promise<Reason>((resolve) => {
    this.resolve = resolve;
  });

  stop(reason: Reason): void {
    if (this.reason) return;
    this.reason = reason;
    this.resolve(reason);
  }
}

/** Ends the run when nothing has arrived for `timeoutMs`; one timer, not one per message. */
export function idleTimer(
  timeoutMs: number | undefined,
  onIdle: () => void,
  /** True while output waits for its reader: time spent so is not idle (the broker is held back by us). */
  busy: () => boolean = () => false,
): { touch(): void; clear(): void } {
  if (timeoutMs === undefined) return { touch: () => {}, clear: () => {} };
  let last = performance.now();
  let timer: NodeJS.Timeout;
  let cleared = false;
  const check = () => {
    if (busy()) last = performance.now();
    const idle = performance.now() - last;
    if (idle < timeoutMs) {
      timer = setTimeout(check, timeoutMs - idle);
      return;
    }
    const before = last;
    onIdle();
    // Not idle after all (a handler still runs, and touched it): keep watching.
    if (last !== before && !cleared) timer = setTimeout(check, timeoutMs);
  };
  timer = setTimeout(check, timeoutMs);
  return {
    touch: () => {
      last = performance.now();
    },
    clear: () => {
      cleared = true;
      clearTimeout(timer);
    },
  };
}

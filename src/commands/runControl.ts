/** What consume and consume --exec share to end a run: the first stop reason, an idle timer, the reconnect loop. */

import { reconnectDelayMs } from '../duration.js';
import type { UnreachableError } from '../errors.js';

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

/** How one connection's run ended, as the reconnect loop sees it. */
export interface ConnectionRun {
  /** Something was done on this connection (a message taken): the attempts start again. */
  progressed: boolean;
  /** The connection was lost (not refused): another attempt may carry on. */
  lost: UnreachableError | undefined;
}

/**
 * The reconnect loop of consume, tail and consume --exec: runs `once` per connection and,
 * after a lost one, again up to `retries` times in a row (reset once a run made progress),
 * waiting reconnectDelayMs between attempts. `pause` may end a wait early (a Ctrl-C); the
 * next `once` then sees why. Resolves to the last run's outcome.
 */
export async function reconnecting<Run extends ConnectionRun>(
  retries: number,
  once: (reconnects: number) => Promise<Run>,
  hooks: {
    warn(lost: UnreachableError, attempt: number): void;
    pause?(ms: number): Promise<void>;
  },
): Promise<Run> {
  let attempts = 0;
  for (let reconnects = 0; ; reconnects += 1) {
    const run = await once(reconnects);
    if (run.progressed) attempts = 0;
    if (!run.lost || attempts >= retries) return run;
    attempts += 1;
    hooks.warn(run.lost, attempts);
    const ms = reconnectDelayMs(attempts);
    await (hooks.pause ? hooks.pause(ms) : new Promise((resolve) => setTimeout(resolve, ms)));
  }
}

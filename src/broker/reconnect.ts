/**
 * The one reconnect policy of publish, consume, tail and consume --exec: after a lost
 * connection, up to `retries` attempts in a row, waiting longer before each; the count starts
 * again once the run made progress on a new connection (a message confirmed, taken or settled).
 */

/** Reconnection attempts in a row before giving up (exit 69), unless --retries says otherwise. */
export const DEFAULT_RETRIES = 5;

/** How long to wait before reconnection attempt n (1, 2, …): 0.5 s, 1 s, 2 s, then 4 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(4000, 500 * 2 ** (attempt - 1));
}

export class ReconnectPolicy {
  private attempts = 0;

  constructor(readonly retries: number) {}

  /** Something was done on the new connection: the attempts in a row start again. */
  progressed(): void {
    this.attempts = 0;
  }

  /** Takes the next attempt: its number (1, 2, …), or undefined once none is left. */
  next(): number | undefined {
    if (this.attempts >= this.retries) return undefined;
    this.attempts += 1;
    return this.attempts;
  }

  /** The warning before an attempt: why the connection is gone, and which attempt this is. */
  warning(why: string, attempt: number): string {
    return `${why}; reconnecting (${attempt} of ${this.retries})`;
  }
}

/** How one connection's run ended, as the reconnect loop sees it. */
export interface ConnectionRun {
  /** Something was done on this connection (a message taken): the attempts start again. */
  progressed: boolean;
  /** The connection was lost (not refused): another attempt may carry on. */
  lost: Error | undefined;
}

/**
 * Runs `once` per connection and, after a lost one, again as the policy allows, waiting
 * reconnectDelayMs before each attempt. `pause` may end a wait early (a Ctrl-C); the next
 * `once` then sees why. Resolves to the last run's outcome.
 */
export async function reconnecting<Run extends ConnectionRun>(
  retries: number,
  once: (reconnects: number) => Promise<Run>,
  hooks: {
    /** Says that the connection was lost and which attempt comes (the policy's wording). */
    warn(warning: string): void;
    pause?(ms: number): Promise<void>;
  },
): Promise<Run> {
  const policy = new ReconnectPolicy(retries);
  for (let reconnects = 0; ; reconnects += 1) {
    const run = await once(reconnects);
    if (run.progressed) policy.progressed();
    const attempt = run.lost ? policy.next() : undefined;
    if (!run.lost || attempt === undefined) return run;
    hooks.warn(policy.warning(run.lost.message, attempt));
    const ms = reconnectDelayMs(attempt);
    await (hooks.pause ? hooks.pause(ms) : new Promise((resolve) => setTimeout(resolve, ms)));
  }
}

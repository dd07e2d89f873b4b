import type { ConfirmTracker } from './confirmTracker.js';
import type { OutgoingMessage } from './envelope.js';
import type { Publisher, Session } from './session.js';

/** How much may be unconfirmed at once: enough to pipeline, small enough to bound memory. */
export interface FlowLimits {
  maxInFlight: number;
  maxInFlightBytes: number;
}

const DEFAULT_FLOW_LIMITS: FlowLimits = { maxInFlight: 4096, maxInFlightBytes: 32 * 1024 * 1024 };

/**
 * Keeps a publisher busy without letting memory grow: `send` returns a promise only when
 * the caller must wait (the socket buffer is full, the broker applies flow control, or
 * too much is unconfirmed), so the input is read no faster than the broker confirms.
 */
export class PublishFlow {
  private settleWaiter: (() => void) | undefined;

  constructor(
    private readonly session: Session,
    private readonly publisher: Publisher,
    private readonly limits: FlowLimits = DEFAULT_FLOW_LIMITS,
  ) {
    publisher.tracker.onSettle = () => this.wake();
    session.onLost(() => this.wake());
  }

  get tracker(): ConfirmTracker {
    return this.publisher.tracker;
  }

  send(message: OutgoingMessage, line: number, ref?: number): Promise<void> | undefined {
    const lost = this.session.lost;
    if (lost) throw lost;
    this.publisher.publish(message, line, ref);
    if (!this.publisher.canWrite || this.saturated(this.limits.maxInFlight, this.limits.maxInFlightBytes)) {
      return this.makeRoom();
    }
    return undefined;
  }

  /** Waits for every published message to be confirmed, returned or nacked. */
  async finish(): Promise<void> {
    while (this.tracker.inFlight > 0) {
      this.throwIfLost();
      await this.nextSettle();
    }
  }

  private saturated(count: number, bytes: number): boolean {
    const tracker = this.publisher.tracker;
    return tracker.inFlight >= count || (tracker.inFlightBytes >= bytes && tracker.inFlight > 1);
  }

  private async makeRoom(): Promise<void> {
    await this.publisher.writable();
    this.throwIfLost();
    // Resume at half the window, so the input is read in large steps, not one by one.
    while (this.saturated(this.limits.maxInFlight / 2, this.limits.maxInFlightBytes / 2)) {
      await this.nextSettle();
      this.throwIfLost();
    }
  }

  private throwIfLost(): void {
    const lost = this.session.lost;
    if (lost) {
      this.tracker.abandonInFlight(lost.message);
      throw lost;
    }
  }

  private nextSettle(): Promise<void> {
    return new Promise((resolve) => {
      this.settleWaiter = resolve;
    });
  }

  private wake(): void {
    const waiter = this.settleWaiter;
    this.settleWaiter = undefined;
    waiter?.();
  }
}

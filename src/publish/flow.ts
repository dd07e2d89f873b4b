import type { ConfirmTracker } from '../broker/confirmTracker.js';
import type { OutgoingMessage } from '../broker/message.js';
import { ReconnectPolicy, reconnectDelayMs } from '../broker/reconnect.js';
import type { Publisher, Session } from '../broker/session.js';
import { BrokerRefusedError, UnreachableError, type WarrenError } from '../errors.js';

/** How much may be unconfirmed at once: enough to pipeline, small enough to bound memory. */
export interface FlowLimits {
  maxInFlight: number;
  maxInFlightBytes: number;
}

const DEFAULT_FLOW_LIMITS: FlowLimits = { maxInFlight: 4096, maxInFlightBytes: 32 * 1024 * 1024 };

/**
 * How to carry on after the connection is lost: open a new session and publisher (on the
 * same tracker), up to `retries` attempts in a row; the attempts start again once a message
 * is confirmed on a new connection.
 */
export interface Reconnect {
  retries: number;
  open(): Promise<{ session: Session; publisher: Publisher }>;
  warn(text: string): void;
}

/**
 * Keeps a publisher busy without letting memory grow: `send` returns a promise only when
 * the caller must wait (the socket buffer is full, the broker applies flow control, or
 * too much is unconfirmed), so the input is read no faster than the broker confirms.
 *
 * With a Reconnect, a lost connection is not the end: the flow opens another and sends
 * again every message that was not confirmed (at least once: one that reached the broker
 * before the loss, unconfirmed, arrives twice).
 */
export class PublishFlow {
  private settleWaiter: (() => void) | undefined;
  /** Successful reconnections so far. */
  reconnects = 0;
  private readonly policy: ReconnectPolicy | undefined;
  private confirmedAtReconnect = 0;

  constructor(
    private session: Session,
    private publisher: Publisher,
    private readonly limits: FlowLimits = DEFAULT_FLOW_LIMITS,
    private readonly reconnect?: Reconnect,
  ) {
    publisher.tracker.onSettle = () => this.wake();
    session.onLost(() => this.wake());
    this.policy = reconnect && new ReconnectPolicy(reconnect.retries);
  }

  get tracker(): ConfirmTracker {
    return this.publisher.tracker;
  }

  /** The session in use now (a new one after a reconnection): the one to close at the end. */
  get currentSession(): Session {
    return this.session;
  }

  send(message: OutgoingMessage, line: number, ref?: number): Promise<void> | undefined {
    if (this.session.lost) return this.recover(line).then(() => this.send(message, line, ref));
    this.publisher.publish(message, line, ref);
    if (!this.publisher.canWrite || this.saturated(this.limits.maxInFlight, this.limits.maxInFlightBytes)) {
      return this.makeRoom();
    }
    return undefined;
  }

  /** Waits for every published message to be confirmed, returned or nacked. */
  async finish(): Promise<void> {
    while (this.tracker.inFlight > 0) {
      if (this.session.lost) await this.recover();
      else await this.nextSettle();
    }
  }

  private saturated(count: number, bytes: number): boolean {
    const tracker = this.publisher.tracker;
    return tracker.inFlight >= count || (tracker.inFlightBytes >= bytes && tracker.inFlight > 1);
  }

  private async makeRoom(): Promise<void> {
    await this.publisher.writable();
    if (this.session.lost) return this.recover();
    // Resume at half the window, so the input is read in large steps, not one by one.
    while (this.saturated(this.limits.maxInFlight / 2, this.limits.maxInFlightBytes / 2)) {
      await this.nextSettle();
      if (this.session.lost) return this.recover();
    }
  }

  /**
   * After the connection is lost: reconnects and sends again what is unconfirmed, or (no
   * Reconnect, a refusal rather than a lost link, or every attempt failed) records what is
   * in flight as unconfirmed and throws. `nextLine` is the line about to be sent, if any: the
   * first unconfirmed one when nothing is in flight (the loss found on an idle connection).
   */
  private async recover(nextLine?: number): Promise<void> {
    const lost = this.session.lost;
    if (!lost) return;
    const { reconnect, policy } = this;
    if (!reconnect || !policy || !(lost instanceof UnreachableError)) throw this.giveUp(lost, nextLine);
    if (this.tracker.confirmed > this.confirmedAtReconnect) policy.progressed();
    let reason: WarrenError = lost;
    for (let attempt = policy.next(); attempt !== undefined; attempt = policy.next()) {
      reconnect.warn(
        `${policy.warning(reason.message, attempt)}, ${this.tracker.inFlight} unconfirmed to send again`,
      );
      await new Promise((resolve) => setTimeout(resolve, reconnectDelayMs(attempt)));
      let opened: { session: Session; publisher: Publisher };
      try {
        opened = await reconnect.open();
      } catch (error) {
        if (!(error instanceof UnreachableError)) throw this.giveUp(error as WarrenError, nextLine);
        reason = error;
        continue;
      }
      await this.session.close();
      this.session = opened.session;
      this.publisher = opened.publisher;
      this.session.onLost(() => this.wake());
      this.reconnects += 1;
      this.confirmedAtReconnect = this.tracker.confirmed;
      for (const entry of this.tracker.takeInFlight()) {
        this.publisher.resend(entry);
        if (!this.publisher.canWrite) await this.publisher.writable();
      }
      // Lost again while sending: the next attempt takes over what is still unconfirmed.
      const again = this.session.lost;
      if (!again) return;
      reason = again;
    }
    throw this.giveUp(
      new UnreachableError(
        `${reason.message}; gave up after ${reconnect.retries} reconnection attempt${reconnect.retries === 1 ? '' : 's'}`,
        { cause: reason },
      ),
      nextLine,
    );
  }

  /**
   * Everything in flight is unconfirmed for good: recorded as such. A lost connection's
   * error names the first unconfirmed line, where a rerun of the input would start.
   */
  private giveUp(error: WarrenError, nextLine?: number): WarrenError {
    const first = this.tracker.firstInFlightLine ?? nextLine;
    const refused = error instanceof BrokerRefusedError ? refusedMessage(error.brokerText ?? '') : undefined;
    this.tracker.abandonInFlight(error.message, refused);
    if (!(error instanceof UnreachableError) || first === undefined) return error;
    return new UnreachableError(`${error.message}; first unconfirmed: line ${first}`, { cause: error.cause });
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

/**
 * The message a refusal that closed the publishing channel was about, told by the broker's
 * words: the one of the size it names as too large (max_message_size), or the one sent to
 * the exchange it names (no such exchange, no write access, an internal exchange).
 */
export function refusedMessage(brokerText: string): ((message: OutgoingMessage) => boolean) | undefined {
  const size = /message size (\d+) is larger than/.exec(brokerText)?.[1];
  if (size !== undefined) return (message) => message.body.length === Number(size);
  const exchange = /exchange '(.*)' in vhost '/s.exec(brokerText)?.[1];
  if (exchange !== undefined) return (message) => message.exchange === exchange;
  return undefined;
}

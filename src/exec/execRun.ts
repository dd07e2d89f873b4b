import { reconnecting } from '../broker/reconnect.js';
import type { Consumption, DeliveredMessage, Session } from '../broker/session.js';
import type { ExecOptions } from '../commands/consume/exec.js';
import type { CommandContext } from '../commands/context.js';
import { consumerCancelled } from '../consume/cancelled.js';
import { idleTimer, Stopper } from '../consume/stop.js';
import { formatDuration } from '../duration.js';
import { InterruptedError, TimeoutError, UnreachableError, WarrenError } from '../errors.js';
import { type StopSignal, watchStopSignals } from '../ui/signals.js';
import type { Spinner } from '../ui/spinner.js';
import { humanLine } from '../ui/terminalText.js';
import { handlerEnv } from './handlerEnv.js';
import { HandlerPool } from './handlerPool.js';
import { type HandlerSpec, type PreparedHandler, prepareHandler, runHandler } from './handlerProcess.js';
import { execPrefetch, HeldDeliveries, PreparedNext } from './heldDeliveries.js';
import { type Decision, decide, retriesOf } from './outcome.js';
import { idOf, newTally, statusText, summarise } from './report.js';
import { Settlements } from './settlements.js';

type StopReason =
  | { kind: 'count' }
  | { kind: 'timeout' }
  | { kind: 'signal'; signal: StopSignal }
  | { kind: 'failed'; error: WarrenError };

/** One connection's run, as the reconnect loop sees it. */
interface ConnectionRun {
  stop: StopReason;
  progressed: boolean;
  lost: UnreachableError | undefined;
}

/**
 * One `consume QUEUE --exec CMD` run, across its connections: runs a handler per message
 * and settles the message by how the handler ended (src/exec/settlements.ts). A message
 * whose handler did not finish goes back to the queue. After a lost connection the run
 * carries on on a new one, as the reconnect policy allows (--retries).
 */
export class ExecRun {
  private readonly started = performance.now();
  private readonly tally = newTally();
  /** Warren's own environment, without its password (or with the URL, --pass-url). */
  private readonly inherited: NodeJS.ProcessEnv;
  /** Ends the whole run (the connection's own end is a ConnectionRun's matter). */
  private readonly stopper = new Stopper<StopReason>();
  private readonly pool: HandlerPool;
  private readonly idle: ReturnType<typeof idleTimer>;
  private connected = false;
  /** What a quit now would leave unsettled besides the running handlers. */
  private unconfirmed = () => 0;
  private status: Spinner | undefined;

  constructor(
    private readonly options: ExecOptions,
    private readonly context: CommandContext,
  ) {
    this.inherited = context.childEnv(options.passUrl);
    this.idle = idleTimer(options.timeoutMs, () => {
      // Not idle while handlers run, nor while reconnecting: a slow handler or a lost
      // connection is not a quiet queue.
      if (this.pool.size > 0 || !this.connected) this.idle.touch();
      else this.stopper.stop({ kind: 'timeout' });
    });
    this.pool = new HandlerPool(() => this.idle.touch());
  }

  async run(): Promise<void> {
    const disposeSignals = watchStopSignals(
      (signal) => this.stopper.stop({ kind: 'signal', signal }),
      () => this.quit(),
    );
    let reason: StopReason;
    try {
      const last = await reconnecting(this.options.retries, (reconnects) => this.once(reconnects), {
        warn: (warning) => this.context.reporter.warn(warning),
        pause: (ms) => Promise.race([delay(ms), this.stopper.stopped]).then(() => {}),
      });
      reason = last.stop;
    } catch (error) {
      if (this.tally.handled + this.tally.unsettled > 0) this.summary();
      throw error;
    } finally {
      disposeSignals();
      this.idle.clear();
    }
    if (reason.kind === 'failed') {
      // A run that failed before taking anything has nothing to summarise: the error says it all.
      if (this.tally.handled + this.tally.unsettled > 0) this.summary();
      throw reason.error;
    }
    this.summary();
    if (reason.kind === 'signal') throw new InterruptedError(reason.signal);
    const { count, timeoutMs, queue } = this.options;
    if (reason.kind === 'timeout' && count !== undefined && this.tally.handled < count) {
      throw new TimeoutError(
        `timed out: handled ${this.tally.handled} of ${count} messages from '${queue}', then nothing for ${formatDuration(timeoutMs ?? 0)}`,
      );
    }
  }

  /**
   * Quitting now (a second Ctrl-C): a handler left running would work on a message the
   * broker gives to someone else. Their messages go back to the queue with the connection:
   * say how many.
   */
  private quit(): void {
    this.pool.killAll();
    this.tally.unsettled += this.pool.size + this.unconfirmed();
    this.status?.stop();
    this.summary();
  }

  private summary(): void {
    const elapsedMs = performance.now() - this.started;
    summarise(this.tally, { queue: this.options.queue, reply: this.options.reply, elapsedMs }, this.context);
  }

  private async once(reconnects: number): Promise<ConnectionRun> {
    if (this.stopper.reason) return { stop: this.stopper.reason, progressed: false, lost: undefined };
    let connection: { opened: Session } | { reason: StopReason };
    try {
      connection = await this.connect();
    } catch (error) {
      // Not connected again (a first connection that fails is --wait-for-broker's matter).
      if (reconnects === 0 || !(error instanceof WarrenError)) throw error;
      const lost = error instanceof UnreachableError ? error : undefined;
      return { stop: { kind: 'failed', error }, progressed: false, lost };
    }
    if ('reason' in connection) return { stop: connection.reason, progressed: false, lost: undefined };
    const session = connection.opened;
    const handledBefore = this.tally.handled;
    try {
      const stop = this.stopper.reason ?? (await this.handleOn(session));
      const lost = stop.kind === 'failed' && stop.error instanceof UnreachableError ? stop.error : undefined;
      return { stop, progressed: this.tally.handled > handledBefore, lost };
    } finally {
      this.pool.interruptAll();
      await session.close();
    }
  }

  /** Connects, unless the run is stopped first: a Ctrl-C while connecting ends the run at once. */
  private async connect(): Promise<{ opened: Session } | { reason: StopReason }> {
    const connecting = this.context.connect();
    const first = await Promise.race([
      connecting.then((opened) => ({ opened })),
      this.stopper.stopped.then((reason) => ({ reason })),
    ]);
    if ('reason' in first) {
      connecting.then(
        (late) => late.close(),
        () => {},
      );
    }
    return first;
  }

  /** One connection's worth of handling, until something ends it. */
  private async handleOn(session: Session): Promise<StopReason> {
    const ended = new Stopper<StopReason>();
    void this.stopper.stopped.then((reason) => ended.stop(reason));
    session.onLost((error) => ended.stop({ kind: 'failed', error }));
    const settlements = await Settlements.open(session, this.options, this.tally, this.context.reporter, () =>
      this.settled(),
    );
    this.unconfirmed = () => settlements.unconfirmed;
    // Once the connection is gone, so are its deliveries: the broker gives them back.
    const gone = () => session.lost !== undefined || ended.reason?.kind === 'failed';
    let consumed = () => {};
    const consuming = new Promise<void>((resolve) => {
      consumed = resolve;
    });
    // Taken on earlier connections and settled count; the others come back.
    let taken = this.tally.handled;
    const { queue, concurrency, count } = this.options;
    // The next one's handler is started ahead, held at a gate, while the others run.
    const prepared = new PreparedNext<DeliveredMessage>((message) =>
      prepareHandler(this.handlerSpec(message)),
    );
    // Deliveries come ahead of the handlers (the prefetch is larger than --concurrency) and
    // wait here for a free slot. Taken after the end, or beyond what --count still allows:
    // not acked, so back to the queue at close.
    const held: HeldDeliveries<DeliveredMessage> = new HeldDeliveries(
      (message) => {
        taken += 1;
        this.start(
          message,
          consuming,
          (decision, stdout) => {
            settlements.settle(message, decision, stdout, gone());
            held.startWhatFits();
            prepared.ready(held.next);
          },
          prepared.take(message),
        );
      },
      () => this.pool.size < concurrency,
      (ahead) => !ended.reason && (count === undefined || taken + ahead < count),
    );
    void ended.stopped.then(() => {
      held.clear();
      prepared.discard();
    });
    const consumption = await session.consume(
      queue,
      { prefetch: execPrefetch(concurrency), noAck: false, transactions: true },
      (message) => {
        this.idle.touch();
        held.offer(message);
        prepared.ready(held.next);
      },
      () => ended.stop({ kind: 'failed', error: consumerCancelled(queue) }),
    );
    settlements.attach(consumption);
    consumed();
    this.connected = true;
    this.idle.touch();
    this.context.reporter.detail(
      `handling '${queue}' with ${concurrency} handler${concurrency === 1 ? '' : 's'} at once`,
    );
    const ticker = await this.showStatus();
    try {
      const reason = await ended.stopped;
      await this.drain(reason, consumption, settlements);
      return ended.reason ?? reason;
    } finally {
      this.connected = false;
      clearInterval(ticker);
      this.status?.stop();
      this.status = undefined;
    }
  }

  /** What a message's handler is run with. */
  private handlerSpec(message: DeliveredMessage): HandlerSpec {
    const { options } = this;
    return {
      command: options.command,
      body: message.body,
      env: handlerEnv(message, options.queue, retriesOf(message.headers), this.inherited),
      timeoutMs: options.execTimeoutMs,
      captureStdout: options.reply,
      log: this.context.io.stderr,
      // The prefix is warren's, from the message: made safe as warren's own lines are.
      prefix: options.concurrency > 1 ? `[${humanLine(idOf(message))}] ` : '',
    };
  }

  /**
   * Starts a message's handler (`prepared`: the one started ahead for it, let through its
   * gate now); `done` settles the message by how it ended.
   */
  private start(
    message: DeliveredMessage,
    consuming: Promise<void>,
    done: (decision: Decision, stdout: Buffer | undefined) => void,
    prepared?: PreparedHandler,
  ): void {
    const { options } = this;
    const retries = retriesOf(message.headers);
    const run = prepared ? prepared.open() : runHandler(this.handlerSpec(message));
    this.pool.track(message.deliveryTag, run, consuming, ({ exit, stdout }) => {
      const decision = decide(exit, {
        onFailure: options.onFailure,
        maxRetries: options.maxRetries,
        retries,
      });
      done(decision, stdout);
    });
  }

  /** A message's settlement is committed: counted, and the run ends once --count is reached. */
  private settled(): void {
    this.tally.handled += 1;
    this.idle.touch();
    const { count } = this.options;
    if (count !== undefined && this.tally.handled >= count) this.stopper.stop({ kind: 'count' });
  }

  private async showStatus(): Promise<NodeJS.Timeout | undefined> {
    const text = () => statusText(this.options.queue, this.tally, this.pool.size);
    const status = await this.context.spinner(text());
    this.status = status;
    return status.active ? setInterval(() => status.update(text()), 100) : undefined;
  }

  /**
   * Ends a connection's handling: no more deliveries; the running handlers finish (within
   * --grace after a Ctrl-C), or are stopped when the connection is gone (the broker puts
   * their messages back, nothing can be acked); then every settlement is committed.
   */
  private async drain(reason: StopReason, consumption: Consumption, settlements: Settlements): Promise<void> {
    await consumption.cancel();
    if (reason.kind === 'failed') this.pool.interruptAll();
    if (this.pool.size > 0) {
      const finished = this.pool.whenIdle();
      if (reason.kind === 'signal') {
        const running = this.pool.size;
        this.context.reporter.info(
          `stopping: waiting up to ${formatDuration(this.options.graceMs)} for ${running} running handler${running === 1 ? '' : 's'} (Ctrl-C again stops them and quits now)`,
        );
        const grace = setTimeout(() => this.pool.interruptAll(), this.options.graceMs);
        await finished;
        clearTimeout(grace);
      } else await finished;
    }
    await this.pool.ended();
    await settlements.flush();
    this.unconfirmed = () => 0;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { reconnecting } from '../broker/reconnect.js';
import type { Consumption, DeliveredMessage, Session } from '../broker/session.js';
import type { ExecOptions } from '../commands/consume/exec.js';
import type { CommandContext } from '../commands/context.js';
import { consumerCancelled } from '../consume/cancelled.js';
import { idleTimer, Stopper } from '../consume/stop.js';
import { formatDuration } from '../duration.js';
import {
  BrokerRefusedError,
  InterruptedError,
  TimeoutError,
  UnreachableError,
  WarrenError,
} from '../errors.js';
import { type StopSignal, watchStopSignals } from '../ui/signals.js';
import type { Spinner } from '../ui/spinner.js';
import { humanLine } from '../ui/terminalText.js';
import { EmitError, emitsFromEnvelopes, emitsFromOutput } from './emit.js';
import { ExecHandler } from './execHandler.js';
import type { HandlerInput, HandlerResult, MessageHandler } from './handler.js';
import { HandlerPool } from './handlerPool.js';
import { execPrefetch, HeldDeliveries } from './heldDeliveries.js';
import { type Decision, decide, decideAnswer, type FailureOptions, retriesOf } from './outcome.js';
import { PipeHandler } from './pipeHandler.js';
import { idOf, newTally, statusText, summarise, type Tally } from './report.js';
import { RetryQueues } from './retryQueues.js';
import { type HandlerOutput, Settlements } from './settlements.js';

type StopReason =
  | { kind: 'count' }
  | { kind: 'timeout' }
  | { kind: 'signal'; signal: StopSignal }
  | { kind: 'failed'; error: WarrenError };

/** What became of one message, as a run's observer hears it (serve's status and metrics). */
export interface SettledMessage {
  message: DeliveredMessage;
  decision: Decision;
  /** How long its handling took, from start to end (not counting the settlement). */
  seconds: number;
}

/**
 * How a run fits in a process that runs several (`warren serve`): a handler made by the
 * caller (routes), signals watched by the caller (which calls stop() and quit()), and an
 * observer told of every message decided. The defaults are consume --exec's.
 */
export interface ExecRunHooks {
  handler?: MessageHandler;
  /** False: the caller watches SIGINT/SIGTERM, for every run at once. */
  watchSignals?: boolean;
  observe?: (settled: SettledMessage) => void;
}

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
  /** What handles the messages: a process each (--exec) or long-running ones (--pipe). */
  private readonly handler: MessageHandler;
  /** Ends the whole run (the connection's own end is a ConnectionRun's matter). */
  private readonly stopper = new Stopper<StopReason>();
  private readonly pool: HandlerPool;
  private readonly idle: ReturnType<typeof idleTimer>;
  private connected = false;
  /** Settlements committed, finished or not: a connection that made some made progress. */
  private settledTries = 0;
  /** With --retry-delay: the queues where retries wait. */
  private readonly retryQueues: RetryQueues | undefined;
  /** What a quit now would leave unsettled besides the running handlers. */
  private unconfirmed = () => 0;
  private status: Spinner | undefined;

  constructor(
    private readonly options: ExecOptions,
    private readonly context: CommandContext,
    private readonly hooks: ExecRunHooks = {},
  ) {
    this.handler = hooks.handler ?? messageHandler(options, context);
    this.idle = idleTimer(options.timeoutMs, () => {
      // Not idle while handlers run, nor while reconnecting: a slow handler or a lost
      // connection is not a quiet queue.
      if (this.pool.size > 0 || !this.connected) this.idle.touch();
      else this.stopper.stop({ kind: 'timeout' });
    });
    this.pool = new HandlerPool(() => this.idle.touch());
    this.retryQueues =
      options.retryDelay && new RetryQueues(options.queue, options.retryDelay, options.maxRetries);
  }

  /**
   * Deliveries in flight: --pipe's (--prefetch), or with --exec the handlers' and as many
   * again held ahead of them, twice over (src/exec/heldDeliveries.ts).
   */
  private get prefetch(): number {
    const { kind, prefetch, concurrency } = this.options;
    return kind === 'pipe' && prefetch !== undefined ? prefetch : execPrefetch(concurrency);
  }

  /** Messages taken and not settled yet: handlers running. */
  get inFlight(): number {
    return this.pool.size;
  }

  /** What the run did so far (read only). */
  get counts(): Readonly<Tally> {
    return this.tally;
  }

  /** Stops the run as a first Ctrl-C does: running handlers finish within --grace. */
  stop(signal: StopSignal): void {
    this.stopper.stop({ kind: 'signal', signal });
  }

  async run(): Promise<void> {
    const disposeSignals =
      this.hooks.watchSignals === false
        ? () => {}
        : watchStopSignals(
            (signal) => this.stop(signal),
            () => this.quit(),
          );
    let reason: StopReason;
    try {
      await this.handler.open((error) => this.stopper.stop({ kind: 'failed', error }));
      const last = await reconnecting(this.options.retries, (reconnects) => this.once(reconnects), {
        warn: (warning) => this.context.reporter.warn(warning),
        pause: (ms) => Promise.race([delay(ms), this.stopper.stopped]).then(() => {}),
      });
      reason = last.stop;
    } catch (error) {
      if (this.settledTries + this.tally.unsettled > 0) this.summary();
      throw error;
    } finally {
      await this.handler.close(this.options.graceMs);
      disposeSignals();
      this.idle.clear();
    }
    if (reason.kind === 'failed') {
      // A run that failed before taking anything has nothing to summarise: the error says it all.
      if (this.settledTries + this.tally.unsettled > 0) this.summary();
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
  quit(): void {
    this.pool.killAll();
    this.handler.kill();
    this.tally.unsettled += this.pool.size + this.unconfirmed();
    this.status?.stop();
    this.summary();
  }

  private summary(): void {
    const elapsedMs = performance.now() - this.started;
    const { queue, reply, emit } = this.options;
    summarise(this.tally, { queue, reply, emit: emit !== undefined, elapsedMs }, this.context);
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
    const settledBefore = this.settledTries;
    try {
      const stop = this.stopper.reason ?? (await this.handleOn(session));
      const lost = stop.kind === 'failed' && stop.error instanceof UnreachableError ? stop.error : undefined;
      return { stop, progressed: this.settledTries > settledBefore, lost };
    } catch (error) {
      // Lost while setting up on this connection (its publisher, its consumer): the step
      // fails in the client library's words, and the session knows the cause. Lost again
      // after a reconnection, it is one more lost connection, as consume takes it.
      const lost = await lostCause(session);
      if (!lost) throw error;
      if (reconnects === 0) throw lost;
      return { stop: { kind: 'failed', error: lost }, progressed: this.settledTries > settledBefore, lost };
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
    const { queue, concurrency, count, reply, emit } = this.options;
    // An event to a missing exchange would close the publishing channel mid-run: say so
    // before taking anything.
    if (emit && emit.exchange !== '' && !(await session.exchangeExists(emit.exchange))) {
      return { kind: 'failed', error: noEmitExchange(emit.exchange) };
    }
    // Taken: finished on earlier connections, or started on this one and not given back;
    // the others come back. Deliveries come ahead of the handlers (the prefetch is larger
    // than the handlers running at once) and wait, in order, for a free slot; beyond
    // --count, one waits until a message given back for another try frees its place. A
    // delivery never started is not acked, so it goes back to the queue at close.
    let taken = this.tally.handled;
    const slots = this.options.kind === 'pipe' ? this.prefetch : concurrency;
    const held: HeldDeliveries<DeliveredMessage> = new HeldDeliveries(
      (message) => {
        taken += 1;
        this.start(message, consuming, (decision, output) => {
          // The next handler first: it need not wait for this settlement, which writes to
          // the broker (a system call that costs as much as half a millisecond).
          held.startWhatFits();
          settlements.settle(message, decision, output, gone());
          prepareNext();
        });
        prepareNext();
      },
      () => this.pool.size < slots,
      () => count === undefined || taken < count,
    );
    const prepareNext = () => this.handler.ahead?.(held.next && this.inputOf(held.next));
    void ended.stopped.then(() => {
      held.clear();
      this.handler.ahead?.(undefined);
    });
    await this.retryQueues?.declare(session);
    const settlements = await Settlements.open(
      session,
      {
        queue,
        reply,
        emit: emit !== undefined,
        retryDelay: this.options.retryDelay,
        failedEmit: (message, why) => decide({ kind: 'emitFailed', why }, this.failureOptions(message)),
      },
      this.tally,
      this.context.reporter,
      (finished) => {
        if (!finished) taken -= 1;
        this.settled(finished);
        if (!ended.reason) held.startWhatFits();
      },
    );
    this.unconfirmed = () => settlements.unconfirmed;
    // Once the connection is gone, so are its deliveries: the broker gives them back.
    const gone = () => session.lost !== undefined || ended.reason?.kind === 'failed';
    let consumed = () => {};
    const consuming = new Promise<void>((resolve) => {
      consumed = resolve;
    });
    const consumption = await session.consume(
      queue,
      { prefetch: this.prefetch, noAck: false, transactions: true },
      (message) => {
        // Taken after the end: not acked, so back to the queue at close.
        if (ended.reason) return;
        this.idle.touch();
        held.offer(message);
        prepareNext();
      },
      () => ended.stop({ kind: 'failed', error: consumerCancelled(queue) }),
    );
    settlements.attach(consumption);
    consumed();
    this.connected = true;
    this.idle.touch();
    this.context.reporter.detail(
      this.options.kind === 'pipe'
        ? `handling '${queue}' with ${concurrency} handler process${concurrency === 1 ? '' : 'es'}, up to ${this.prefetch} messages in flight`
        : `handling '${queue}' with ${concurrency} handler${concurrency === 1 ? '' : 's'} at once`,
    );
    const stopKeeping = this.retryQueues?.keep(session, (error) => ended.stop({ kind: 'failed', error }));
    const ticker = await this.showStatus();
    try {
      const reason = await ended.stopped;
      await this.drain(reason, consumption, settlements);
      return ended.reason ?? reason;
    } finally {
      stopKeeping?.();
      this.connected = false;
      clearInterval(ticker);
      this.status?.stop();
      this.status = undefined;
    }
  }

  /** Starts a message's handler; `done` settles the message by how it ended. */
  private start(
    message: DeliveredMessage,
    consuming: Promise<void>,
    done: (decision: Decision, output: HandlerOutput) => void,
  ): void {
    const input = this.inputOf(message);
    const begun = performance.now();
    const run = this.handler.handle(input);
    this.pool.track(message.deliveryTag, run, consuming, (result) => {
      const { decision, output } = this.outcome(message, result, input.retries);
      this.hooks.observe?.({ message, decision, seconds: (performance.now() - begun) / 1000 });
      done(decision, output);
    });
  }

  /** What a message's handler is given besides the message. */
  private inputOf(message: DeliveredMessage): HandlerInput {
    // The prefix is warren's, from the message: made safe as warren's own lines are. (A
    // --pipe handler's lines are not a message's: it prefixes them by process.)
    const { kind, concurrency } = this.options;
    const prefix = kind === 'exec' && concurrency > 1 ? `[${humanLine(idOf(message))}] ` : '';
    return { message, retries: retriesOf(message.headers), prefix };
  }

  /** What decides a failed message's fate: the run's failure policy and the message's tries. */
  private failureOptions(message: DeliveredMessage, retries = retriesOf(message.headers)): FailureOptions {
    const { onFailure, maxRetries, retryDelay } = this.options;
    return { onFailure, maxRetries, retries, delayed: retryDelay !== undefined };
  }

  /**
   * What becomes of a message by how its handling ended, and what its handler sends: its
   * events (--emit) or its reply (--reply). A handler that failed sends nothing; one whose
   * events cannot be read failed.
   */
  private outcome(
    message: DeliveredMessage,
    result: HandlerResult,
    retries: number,
  ): { decision: Decision; output: HandlerOutput } {
    const policy = this.failureOptions(message, retries);
    const decision =
      result.kind === 'exit'
        ? decide(result.exit, policy)
        : decideAnswer(result.outcome, result.reason, policy);
    const { emit } = this.options;
    if (decision.action !== 'ack') return { decision, output: {} };
    if (emit === undefined)
      return { decision, output: { stdout: result.kind === 'exit' ? result.stdout : undefined } };
    try {
      const emits =
        result.kind === 'exit'
          ? emitsFromOutput(result.stdout ?? Buffer.alloc(0), emit, message)
          : emitsFromEnvelopes(result.emit, emit, message);
      return { decision, output: { emits } };
    } catch (error) {
      if (!(error instanceof EmitError)) throw error;
      return { decision: decide({ kind: 'emitFailed', why: error.message }, policy), output: {} };
    }
  }

  /**
   * A message's settlement is committed. One that is `finished` (acked or rejected) is a
   * message handled, and the run ends once --count are; one given back for another try (a
   * retry, a requeue) is not: its message comes again.
   */
  private settled(finished: boolean): void {
    this.settledTries += 1;
    if (finished) this.tally.handled += 1;
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
        const what =
          this.options.kind === 'pipe'
            ? `the answers to ${running} message${running === 1 ? '' : 's'}`
            : `${running} running handler${running === 1 ? '' : 's'}`;
        this.context.reporter.info(
          `stopping: waiting up to ${formatDuration(this.options.graceMs)} for ${what} (Ctrl-C again stops them and quits now)`,
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

/**
 * The handler a run's options name: a process per message (`exec`) or long-running
 * processes (`pipe`). `serve` makes one per route.
 */
export function messageHandler(options: ExecOptions, context: CommandContext): MessageHandler {
  // Warren's own environment, without its password (or with the URL, --pass-url).
  const inherited = context.childEnv(options.passUrl);
  if (options.kind === 'pipe') {
    return new PipeHandler({
      command: options.command,
      queue: options.queue,
      processes: options.concurrency,
      timeoutMs: options.execTimeoutMs,
      emits: options.emit !== undefined,
      inherited,
      log: context.io.stderr,
      warn: (line) => context.reporter.warn(line),
    });
  }
  return new ExecHandler({
    command: options.command,
    queue: options.queue,
    timeoutMs: options.execTimeoutMs,
    captureStdout: options.reply || options.emit !== undefined,
    inherited,
    log: context.io.stderr,
  });
}

function noEmitExchange(exchange: string): WarrenError {
  return new BrokerRefusedError(`--emit: there is no exchange '${exchange}' to publish the events to`, {
    hint: `declare it first (warren declare exchange ${exchange} --type topic), or name another`,
  });
}

/** Why the session's connection is gone, if it is (the close may come a turn after a step failed). */
async function lostCause(session: Session): Promise<UnreachableError | undefined> {
  if (session.lost === undefined) await new Promise((resolve) => setImmediate(resolve));
  return session.lost instanceof UnreachableError ? session.lost : undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

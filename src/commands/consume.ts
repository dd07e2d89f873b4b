import type { ReceivedMessage } from '../broker/message.js';
import type { Browser, Consumption, DeliveredMessage, Session } from '../broker/session.js';
import { refusesStreamOffset, STREAM_OFFSET_HEADER } from '../broker/streamQueue.js';
import { notAStreamQueue } from '../brokerErrors.js';
import type { AckMode, Format } from '../choices.js';
import { formatDuration } from '../duration.js';
import {
  BrokerRefusedError,
  ExitCode,
  InterruptedError,
  TimeoutError,
  UnreachableError,
  WarrenError,
} from '../errors.js';
import { createFormatter, type Formatter } from '../format/index.js';
import { formatNdjson } from '../format/ndjson.js';
import { isPipe, pipeProbe } from '../ui/pipeProbe.js';
import { RecordSink } from '../ui/recordSink.js';
import { type StopSignal, watchStopSignals } from '../ui/signals.js';
import type { CommandContext } from './context.js';
import { idleTimer, reconnecting, Stopper } from './runControl.js';

export interface ConsumeOptions {
  queue: string;
  count: number | undefined;
  /** Idle timeout: stop when nothing arrives for this long. */
  timeoutMs: number | undefined;
  prefetch: number;
  ackMode: AckMode;
  format: Format;
  template: string | undefined;
  /** Pretty output: long bodies whole, not cut to the terminal's height. */
  full: boolean;
  /** tail: only messages that match are printed and counted (the others are dropped). */
  match?: (message: ReceivedMessage) => boolean;
  /** tail: called once the consumer is in place, to start a trigger command. */
  onReady?: () => void;
  /** How the summary names where messages came from; the queue by default. */
  sourceLabel?: string;
  /** Set by `consume` itself: says the summary at a second Ctrl-C (RECORDS written in this run). */
  onQuit?: (written: number) => void;
  /** tail --stream: consumer arguments (x-stream-offset). */
  consumeArguments?: Record<string, unknown>;
  /**
   * tail --stream: the queue must be a stream. RabbitMQ refuses the offset argument on other
   * queues; should a broker not, the first delivery tells (a stream stamps x-stream-offset
   * on each message), and from anything else nothing is acked, so it all stays.
   */
  requireStream?: boolean;
  /**
   * After a lost connection: reconnection attempts in a row (reset once a message comes)
   * before giving up with exit 69. 0 (and a peek, which would see its messages again) never
   * reconnects.
   */
  retries?: number;
  /** What the warning about a lost connection adds (tail: what may have been missed). */
  lostNote?: string;
  /** tail --capture: every record is also written here as an NDJSON envelope. */
  capture?: NodeJS.WritableStream;
  /** tail: settles with the error to end with once its trigger failed. */
  failure?: Promise<WarrenError>;
}

type StopReason =
  | { kind: 'count' }
  | { kind: 'timeout' }
  | { kind: 'drained' }
  | { kind: 'signal'; signal: StopSignal }
  | { kind: 'output'; error: Error }
  | { kind: 'failed'; error: WarrenError };

/** Why consuming stopped, and how the run ends: undefined is success. */
function outcome(stop: StopReason, taken: number, options: ConsumeOptions): WarrenError | undefined {
  switch (stop.kind) {
    case 'count':
    case 'drained':
      return undefined;
    case 'timeout':
      if (options.count !== undefined && taken < options.count) {
        return new TimeoutError(
          `timed out: got ${taken} of ${options.count} messages from ${options.sourceLabel ?? `'${options.queue}'`}, then nothing for ${formatDuration(options.timeoutMs ?? 0)}`,
        );
      }
      return undefined;
    case 'signal':
      return new InterruptedError(stop.signal);
    case 'output':
      // A reader that went away (`| head`) is a normal end; anything else is a failure.
      if ((stop.error as NodeJS.ErrnoException).code === 'EPIPE') return undefined;
      return new WarrenError(`cannot write to stdout: ${stop.error.message}`, ExitCode.failure, {
        cause: stop.error,
      });
    case 'failed':
      return stop.error;
  }
}

/**
 * Takes messages from a queue and writes one record per message. A message is acked only
 * after its record was written; whatever is not written when consuming stops goes back to
 * the queue when the channel closes.
 */
export async function consume(
  options: ConsumeOptions,
  context: CommandContext,
  /** tail: sets up the queue to consume from (its own, bound to the sources) once connected. */
  setUp?: (session: Session) => Promise<string>,
): Promise<void> {
  const format = createFormatter({ ...options, paint: context.stdoutPaint, screen: context.io.stdout });
  // Records written nowhere would still be acked: refuse before taking anything.
  if (context.io.stdoutClosed?.()) {
    throw new WarrenError(
      'stdout is closed: the messages would be taken and written nowhere',
      ExitCode.failure,
      {
        hint: 'give it somewhere to write: a file (> out.ndjson), a pipe, or > /dev/null to discard on purpose',
      },
    );
  }
  // A peek that reconnected would show its messages again.
  const retries = options.ackMode === 'requeue' ? 0 : (options.retries ?? 0);
  let taken = 0;
  let early: EarlyEnd | undefined;
  const noun = (count: number) => (count === 1 ? 'message' : 'messages');
  // A tail takes nothing from anyone: it saw its messages.
  const verb = options.ackMode === 'requeue' ? 'peeked at' : options.sourceLabel ? 'saw' : 'consumed';
  const summary = (count: number) =>
    `${verb} ${count} ${noun(count)} from ${options.sourceLabel ?? `'${options.queue}'`}`;
  // A second Ctrl-C quits at once: still say how far the run got, and what becomes of the rest.
  options = {
    ...options,
    onQuit: (written) =>
      context.reporter.info(
        `${summary(taken + written)} (quit at a second Ctrl-C: what the broker has no ack for goes back to the queue, redelivered)`,
      ),
  };
  const { stop } = await reconnecting(
    retries,
    async (reconnects) => {
      const left = options.count === undefined ? undefined : options.count - taken;
      let result: RunResult;
      try {
        result = await consumeOnce({ ...options, count: left }, format, context, reconnects, setUp);
      } catch (error) {
        // Not connected again (a first connection that fails is --wait-for-broker's matter).
        if (reconnects === 0 || !(error instanceof WarrenError)) throw error;
        result = { taken: 0, stop: { kind: 'failed', error } };
      }
      taken += result.taken;
      const { stop } = result;
      early = result.early;
      const lost = stop.kind === 'failed' && stop.error instanceof UnreachableError ? stop.error : undefined;
      return { stop, progressed: result.taken > 0, lost };
    },
    {
      warn: (lost, attempt) =>
        context.reporter.warn(
          `${lost.message}; reconnecting (${attempt} of ${retries})${options.lostNote ? `: ${options.lostNote}` : ''}`,
        ),
    },
  );
  // A run that failed before taking anything has nothing to summarise: the error says it all.
  if (taken > 0 || stop.kind !== 'failed') context.reporter.info(summary(taken));
  // Only what was taken from the queue for good is worth the warning (not a peek, not a tail).
  const removes = options.ackMode === 'ack' || options.ackMode === 'reject';
  if (early && removes && !options.sourceLabel) context.reporter.warn(earlyEndNote(early, taken));
  const failure = outcome(stop, taken, options);
  if (failure) throw failure;
}

/**
 * An end before the reader had read every record warren acked, or could have: with a
 * probe, the reader left (what it took last it may not have used); without one, the pipe
 * took records that a reader that stopped too may never have read.
 */
interface EarlyEnd {
  probed: boolean;
  /** Records received but not written (with a probe: not taken by the reader): not acked. */
  unread: number;
}

function earlyEndNote(early: EarlyEnd, taken: number): string {
  const records = `${taken} ${taken === 1 ? 'record' : 'records'}`;
  const back = `${early.unread} went back to the queue`;
  const exact = '--count N takes exactly N';
  return early.probed
    ? `the reader left: it took ${records} out of the pipe, and those were acked (a reader that stops early, as head does, may not have used the last it took); ${back}. ${exact}`
    : `the output ended early: ${records} were acked once the pipe took them, and may not all have been read; ${back}. ${exact}`;
}

/** One connection's worth of consuming: until something stops it, the connection included. */
async function consumeOnce(
  options: ConsumeOptions,
  format: Formatter,
  context: CommandContext,
  reconnects: number,
  setUp?: (session: Session) => Promise<string>,
): Promise<RunResult> {
  const session = await context.connect();
  let taken = 0;
  let stop: StopReason;
  let early: EarlyEnd | undefined;
  let progress: ConsumeProgress | undefined;
  try {
    let queue: string;
    try {
      queue = setUp ? await setUp(session) : options.queue;
    } catch (error) {
      // Lost again while setting up: another attempt, if any are left.
      if (reconnects > 0 && session.lost instanceof UnreachableError)
        return { taken: 0, stop: { kind: 'failed', error: session.lost } };
      throw error;
    }
    progress = await consumeProgress(options, context);
    // Peek, and auto-ack with a count, take one message at a time: a consumer without
    // acks would be sent the whole queue at once, far more than --count. A tail's own
    // queue holds copies only, and is read as they come.
    const oneAtATime =
      !setUp &&
      (options.ackMode === 'requeue' || (options.ackMode === 'none' && options.count !== undefined));
    const run = oneAtATime ? browse : stream;
    const result = await run(session, { ...options, queue }, format, context, progress);
    taken = result.taken;
    stop = result.stop;
    early = result.early;
  } finally {
    progress?.stop();
    await session.close();
  }
  return { taken, stop, early };
}

/** What the status line shows: how many arrived; cleared before pretty output fills the screen. */
interface ConsumeProgress {
  taken: number;
  received(): void;
  stop(): void;
}

async function consumeProgress(options: ConsumeOptions, context: CommandContext): Promise<ConsumeProgress> {
  const source = options.sourceLabel ?? `'${options.queue}'`;
  const spinner = await context.spinner(`waiting for messages on ${source}…`);
  // Records going to the same terminal would run into the status line: it gives way to them.
  const sharesTerminal = context.io.stdout.isTTY === true;
  const progress: ConsumeProgress = {
    taken: 0,
    received: () => {
      progress.taken += 1;
      if (sharesTerminal) progress.stop();
    },
    stop: () => {
      clearInterval(ticker);
      spinner.stop();
    },
  };
  const ticker = spinner.active
    ? setInterval(() => {
        if (progress.taken > 0)
          spinner.update(`waiting for messages on ${source} (${progress.taken} received)`);
      }, 100)
    : undefined;
  return progress;
}

interface RunResult {
  taken: number;
  stop: StopReason;
  early?: EarlyEnd;
}

function watchEverything(
  session: Session,
  stopper: Stopper<StopReason>,
  options: ConsumeOptions,
  outputBusy: () => boolean,
  written: () => number,
) {
  const disposeSignals = watchStopSignals(
    (signal) => stopper.stop({ kind: 'signal', signal }),
    () => options.onQuit?.(written()),
  );
  session.onLost((error) => stopper.stop({ kind: 'failed', error }));
  // Idle means the broker had nothing for us: a queue held back by a slow reader is not.
  const idle = idleTimer(options.timeoutMs, () => stopper.stop({ kind: 'timeout' }), outputBusy);
  options.failure?.then((error) => stopper.stop({ kind: 'failed', error }));
  return {
    idle,
    dispose: () => {
      disposeSignals();
      idle.clear();
    },
  };
}

/** One consume run: what stops it, how many were taken, where their records go. */
class ConsumeRun {
  readonly stopper = new Stopper<StopReason>();
  readonly sink: RecordSink;
  taken = 0;
  private readonly watch: ReturnType<typeof watchEverything>;
  private readonly outputIsPipe: boolean;

  constructor(
    session: Session,
    private readonly options: ConsumeOptions,
    private readonly format: Formatter,
    context: CommandContext,
    private readonly progress: ConsumeProgress,
    onWritten: (upToTag: number) => void,
  ) {
    const stdout = context.io.stdout;
    // WARREN_PIPE_PROBE=0: a record counts as written once the pipe took it, as elsewhere.
    const probe = context.io.env['WARREN_PIPE_PROBE'] === '0' ? undefined : pipeProbe(stdout);
    this.outputIsPipe = probe !== undefined || isPipe(stdout);
    this.sink = new RecordSink(
      stdout,
      (upToTag) => {
        // Output that moves is not idle either.
        this.watch.idle.touch();
        onWritten(upToTag);
      },
      (error) => this.stopper.stop({ kind: 'output', error }),
      probe,
    );
    this.watch = watchEverything(
      session,
      this.stopper,
      options,
      () => this.sink.waiting,
      () => this.sink.written,
    );
    options.capture?.on('error', (error: Error) =>
      this.stopper.stop({
        kind: 'failed',
        error: new WarrenError(`cannot write the --capture file: ${error.message}`, ExitCode.failure, {
          cause: error,
        }),
      }),
    );
  }

  /** Writes a message's record; stops the run once --count is reached. */
  take(message: DeliveredMessage): void {
    this.taken += 1;
    this.progress.received();
    this.sink.push(this.format(message), message.deliveryTag);
    this.options.capture?.write(formatNdjson(message));
    this.watch.idle.touch();
    if (this.options.count !== undefined && this.taken >= this.options.count) {
      this.stopper.stop({ kind: 'count' });
    }
  }

  /** A broker refusal ends the run like any other reason; anything else is a bug. */
  failed(error: unknown): RunResult {
    if (error instanceof WarrenError) return { taken: this.sink.written, stop: { kind: 'failed', error } };
    throw error;
  }

  /**
   * How the run ended, once every record is written or the output broke: the records the
   * output took (not those received), and a broken output over a count reached or a
   * timeout (a full disk must not pass for success).
   */
  result(reason: StopReason): RunResult {
    const broken = this.sink.broken;
    const stop: StopReason =
      broken && (reason.kind === 'count' || reason.kind === 'timeout' || reason.kind === 'drained')
        ? { kind: 'output', error: broken }
        : reason;
    this.sink.close();
    return { taken: this.sink.written, stop, early: this.earlyEnd(reason, stop) };
  }

  /** Whether the run ended before its reader surely read what was acked (see EarlyEnd). */
  private earlyEnd(reason: StopReason, stop: StopReason): EarlyEnd | undefined {
    const probed = this.sink.probe !== undefined;
    const unread = this.taken - this.sink.written;
    // Ended as asked, and every record read: a reader that leaves afterwards ends nothing early.
    const asked = reason.kind === 'count' || reason.kind === 'timeout' || reason.kind === 'drained';
    if (asked && unread === 0) return undefined;
    const readerGone = stop.kind === 'output' && (stop.error as NodeJS.ErrnoException).code === 'EPIPE';
    const early = probed ? this.sink.readerLeft : this.outputIsPipe && (readerGone || stop.kind === 'signal');
    return early ? { probed, unread } : undefined;
  }

  dispose(): void {
    this.watch.dispose();
    this.sink.close();
  }
}

async function stream(
  session: Session,
  options: ConsumeOptions,
  format: Formatter,
  context: CommandContext,
  progress: ConsumeProgress,
): Promise<RunResult> {
  let consumption: Consumption | undefined;
  const run = new ConsumeRun(session, options, format, context, progress, (upToTag) => {
    if (options.ackMode === 'ack') consumption?.ack(upToTag, true);
    else if (options.ackMode === 'reject') consumption?.reject(upToTag, true, false);
  });
  try {
    const prefetch =
      options.count === undefined ? options.prefetch : Math.min(options.prefetch, options.count);
    let checked = !options.requireStream;
    consumption = await session.consume(
      options.queue,
      {
        // RabbitMQ refuses x-stream-offset on other queue types before delivering anything,
        // so a whole window is safe; and a consumer's prefetch cannot be raised later.
        prefetch,
        noAck: options.ackMode === 'none',
        arguments: options.consumeArguments,
      },
      (message) => {
        if (run.stopper.reason) return;
        if (!checked) {
          if (message.headers?.[STREAM_OFFSET_HEADER] === undefined) {
            run.stopper.stop({ kind: 'failed', error: notAStream(options.queue) });
            return;
          }
          checked = true;
        }
        if (options.match && !options.match(message)) {
          // A stream wants its deliveries acked (they are credit, not removal).
          if (options.ackMode === 'ack') run.sink.push('', message.deliveryTag, false);
          return;
        }
        run.take(message);
      },
      () =>
        run.stopper.stop({
          kind: 'failed',
          error: new BrokerRefusedError(
            `the broker cancelled the consumer on '${options.queue}' (queue deleted?)`,
          ),
        }),
    );
    options.onReady?.();
    const reason = await run.stopper.stopped;
    if (reason.kind !== 'failed') await consumption.cancel();
    await run.sink.settled();
    return run.result(reason);
  } catch (error) {
    // The consumer could not start (no such queue, …): nothing was taken.
    if (options.requireStream && refusesStreamOffset(error)) {
      return run.failed(notAStream(options.queue, error));
    }
    return run.failed(error);
  } finally {
    run.dispose();
  }
}

function notAStream(queue: string, cause?: unknown): BrokerRefusedError {
  return notAStreamQueue(
    queue,
    'use --stream with stream queues only; tail the exchange that feeds the queue instead',
    cause,
  );
}

/**
 * One message at a time with basic.get. Peek (`--ack-mode requeue`) sees each message once
 * and leaves the queue as it was; `--ack-mode none --count N` takes exactly N.
 */
async function browse(
  session: Session,
  options: ConsumeOptions,
  format: Formatter,
  context: CommandContext,
  progress: ConsumeProgress,
): Promise<RunResult> {
  // Nothing to acknowledge: peeked messages go back when the channel closes.
  const run = new ConsumeRun(session, options, format, context, progress, () => {});
  let browser: Browser | undefined;
  try {
    browser = await session.openBrowser(options.queue, { noAck: options.ackMode === 'none' });
    while (!run.stopper.reason) {
      // A get answers at once (a message or empty), and with --ack-mode none a message it
      // brings is already gone from the queue: always wait for it and write it.
      const message = await browser.next();
      if (message) run.take(message);
      // Empty: done, unless a --count still waits for more (until --timeout).
      else if (options.count === undefined) run.stopper.stop({ kind: 'drained' });
      else await Promise.race([delay(100), run.stopper.stopped]);
    }
    await run.sink.settled();
    return run.result(run.stopper.reason ?? { kind: 'drained' });
  } catch (error) {
    return run.failed(error);
  } finally {
    run.dispose();
    await browser?.release();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import type { DeliveredMessage, Session } from '../broker/session.js';
import type { CommandContext } from '../commands/context.js';
import { ExitCode, WarrenError } from '../errors.js';
import type { Formatter } from '../format/index.js';
import { formatNdjson } from '../format/ndjson.js';
import { isPipe, pipeProbe } from '../ui/pipeProbe.js';
import { RecordSink } from '../ui/recordSink.js';
import { watchStopSignals } from '../ui/signals.js';
import type { ConsumeJob } from './job.js';
import { type EarlyEnd, endedAsAsked, readerGone, type StopReason } from './outcome.js';
import type { ConsumeProgress } from './progress.js';
import { idleTimer, Stopper } from './stop.js';

/** How one connection's run ended. */
export interface RunResult {
  /** Records the output took (not those received). */
  taken: number;
  stop: StopReason;
  early?: EarlyEnd;
}

/** What a run needs besides its job: the formatter, the status line, what a second Ctrl-C says. */
export interface RunTools {
  format: Formatter;
  progress: ConsumeProgress;
  /** At a second Ctrl-C, just before warren quits: RECORDS written in this run. */
  onQuit(written: number): void;
}

function watchEverything(
  session: Session,
  stopper: Stopper<StopReason>,
  job: ConsumeJob,
  onQuit: () => void,
  outputBusy: () => boolean,
) {
  const disposeSignals = watchStopSignals((signal) => stopper.stop({ kind: 'signal', signal }), onQuit);
  session.onLost((error) => stopper.stop({ kind: 'failed', error }));
  // Idle means the broker had nothing for us: a queue held back by a slow reader is not.
  const idle = idleTimer(job.timeoutMs, () => stopper.stop({ kind: 'timeout' }), outputBusy);
  job.failure?.then((error) => stopper.stop({ kind: 'failed', error }));
  return {
    idle,
    dispose: () => {
      disposeSignals();
      idle.clear();
    },
  };
}

/**
 * One connection's consume run: what stops it, how many were taken, and the ack-after-write
 * sink their records go through (`onWritten` acks up to a tag once its record is written).
 */
export class ConsumeRun {
  readonly stopper = new Stopper<StopReason>();
  readonly sink: RecordSink;
  taken = 0;
  private readonly watch: ReturnType<typeof watchEverything>;
  private readonly outputIsPipe: boolean;

  constructor(
    session: Session,
    private readonly job: ConsumeJob,
    private readonly tools: RunTools,
    context: CommandContext,
    onWritten: (upToTag: number) => void,
  ) {
    const stdout = context.io.stdout;
    // WARREN_PIPE_PROBE=0: a record counts as written once the pipe took it, as elsewhere.
    const probe = context.io.env['WARREN_PIPE_PROBE'] === '0' ? undefined : pipeProbe(stdout);
    this.outputIsPipe = probe !== undefined || isPipe(stdout);
    this.sink = new RecordSink(
      stdout,
      (upToTag, records) => {
        // Output that moves is not idle either; messages --match left out are (they are only acked).
        if (records > 0) this.watch.idle.touch();
        onWritten(upToTag);
      },
      (error) => this.stopper.stop({ kind: 'output', error }),
      probe,
    );
    this.watch = watchEverything(
      session,
      this.stopper,
      job,
      () => tools.onQuit(this.sink.written),
      () => this.sink.waiting,
    );
    job.capture?.on('error', (error: Error) =>
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
    this.tools.progress.received();
    this.sink.push(this.tools.format(message), message.deliveryTag);
    this.job.capture?.write(formatNdjson(message));
    this.watch.idle.touch();
    if (this.job.count !== undefined && this.taken >= this.job.count) {
      this.stopper.stop({ kind: 'count' });
    }
  }

  /** A broker refusal ends the run like any other reason; anything else is a bug. */
  failed(error: unknown): RunResult {
    if (error instanceof WarrenError) return { taken: this.sink.written, stop: { kind: 'failed', error } };
    throw error;
  }

  /**
   * How the run ended, once every record is written or the output broke: a broken output
   * wins over a count reached or a timeout (a full disk must not pass for success).
   */
  result(reason: StopReason): RunResult {
    const broken = this.sink.broken;
    const stop: StopReason = broken && endedAsAsked(reason) ? { kind: 'output', error: broken } : reason;
    this.sink.close();
    return { taken: this.sink.written, stop, early: this.earlyEnd(reason, stop) };
  }

  /** Whether the run ended before its reader surely read what was acked (see EarlyEnd). */
  private earlyEnd(reason: StopReason, stop: StopReason): EarlyEnd | undefined {
    const probed = this.sink.probe !== undefined;
    const unread = this.taken - this.sink.written;
    // Ended as asked, and every record read: a reader that leaves afterwards ends nothing early.
    if (endedAsAsked(reason) && unread === 0) return undefined;
    const early = probed
      ? this.sink.readerLeft
      : this.outputIsPipe && (readerGone(stop) || stop.kind === 'signal');
    return early ? { probed, unread } : undefined;
  }

  dispose(): void {
    this.watch.dispose();
    this.sink.close();
  }
}

import { ConfirmTracker, type PendingPublish, type SettleStatus } from '../../broker/confirmTracker.js';
import { type FieldTable, FieldValueError } from '../../broker/fieldTable.js';
import { encodableHeaders } from '../../broker/fieldTableEncode.js';
import { verbatimHeaders } from '../../broker/rawFieldTable.js';
import type { Session } from '../../broker/session.js';
import type { Format } from '../../choices.js';
import { MAX_TIMER_MS } from '../../duration.js';
import { type MessageOverrides, outgoingFromRecorded, overriddenProperties } from '../../envelope.js';
import { DataError, ExitCode, InterruptedError, WarrenError } from '../../errors.js';
import { createFormatter, type Formatter, recordBytes } from '../../format/index.js';
import { PublishFlow } from '../../publish/flow.js';
import { openFileSource } from '../../replay/fileSource.js';
import { Pacer } from '../../replay/pacer.js';
import type { ReplayItem, ReplaySource } from '../../replay/source.js';
import type { StreamRange } from '../../replay/streamSource.js';
import { type StopSignal, watchStopSignals } from '../../ui/signals.js';
import type { CommandContext } from '../context.js';
import { explainRefusal, notDelivered, reportSummary, tellTyping } from '../publish/report.js';

export type ReplaySourceSpec =
  | { kind: 'file'; path: string }
  | { kind: 'queue'; queue: string }
  | { kind: 'stream'; queue: string; range: StreamRange };

export interface ReplayOptions {
  source: ReplaySourceSpec;
  /** --exchange, --routing-key and -H: win over what was recorded (headers encoded). */
  overrides: MessageOverrides;
  /** The -H headers in the envelope's typed form, for --dry-run. */
  typedHeaders: FieldTable;
  timing: 'none' | 'original';
  speed: number;
  /** --rate: messages per second at most. */
  rate: number | undefined;
  matches: string[];
  count: number | undefined;
  dryRun: boolean;
  /** How --dry-run prints what it would publish. */
  output: { format: Format; template: string | undefined; full: boolean };
  receipts: boolean;
  mandatory: boolean;
  skipInvalid: boolean;
}

/** Deliveries a queue or stream source may hold at once: what bounds its memory. */
const SOURCE_PREFETCH = 500;

async function openSource(
  options: ReplayOptions,
  session: Session | undefined,
  context: CommandContext,
): Promise<ReplaySource> {
  const spec = options.source;
  if (spec.kind === 'file') {
    return openFileSource(spec.path, {
      stdin: context.io.stdin,
      skipInvalid: options.skipInvalid,
      reporter: context.reporter,
      withTimes: options.timing === 'original' || options.dryRun,
    });
  }
  if (!session) throw new Error('a queue or stream replay needs a session');
  if (spec.kind === 'stream') {
    const { openStreamSource } = await import('../../replay/streamSource.js');
    return openStreamSource(session, spec.queue, spec.range, { prefetch: SOURCE_PREFETCH });
  }
  const { openQueuePeek, openQueueSource } = await import('../../replay/queueSource.js');
  return options.dryRun
    ? openQueuePeek(session, spec.queue)
    : openQueueSource(session, spec.queue, { prefetch: SOURCE_PREFETCH });
}

/** Where an item goes: the flags win, then where it came from; undefined if nothing says. */
function targetOf(
  item: ReplayItem,
  overrides: MessageOverrides,
): { exchange: string; routingKey: string } | undefined {
  const exchange = overrides.exchange ?? item.origin?.exchange;
  if (exchange === undefined) return undefined;
  return {
    exchange,
    routingKey: overrides.routingKey ?? item.origin?.routingKey ?? item.message.routingKey,
  };
}

/**
 * Why a message from the broker cannot go back where it came from unaltered: the exchange
 * or routing key it names was not UTF-8 on the wire (another client may send any bytes),
 * so the client library decoded it with U+FFFD in their place, and sending that would
 * route it elsewhere. Names given on the command line are the user's, and go as given.
 */
function alteredTarget(item: ReplayItem, overrides: MessageOverrides): string | undefined {
  if (item.ref === undefined) return undefined;
  const names: [string, string | undefined][] = [
    ['exchange', overrides.exchange === undefined ? item.origin?.exchange : undefined],
    [
      'routing key',
      overrides.routingKey === undefined ? (item.origin?.routingKey ?? item.message.routingKey) : undefined,
    ],
  ];
  for (const [what, name] of names) {
    if (name?.includes('\uFFFD')) {
      return `its ${what} ${JSON.stringify(name)} was not UTF-8 as it came (U+FFFD stands in for its bytes), so it would go elsewhere; give --exchange and --routing-key to send it`;
    }
  }
  return undefined;
}

/** What the run did besides publishing, for the summary and the exit code. */
interface ReplayState {
  stoppedBy: StopSignal | undefined;
  /** A malformed input line: everything before it is still confirmed and counted. */
  inputFailure: DataError | undefined;
  /** stdout went away (`| head`) or failed. */
  outputFailure: Error | undefined;
  sent: number;
  /** The position of the last item taken, for progress. */
  position: number;
  unmatched: number;
  nowhere: number;
  /**
   * Messages from the broker that cannot be sent again as they came (headers over 64 KiB,
   * an exchange or routing key that was not UTF-8): left where they are.
   */
  unsendable: number;
}

/**
 * Re-publishes captured, dead-lettered or stream messages with confirms, through the same
 * publisher path as `publish`: paced, filtered, counted, and acked at their source only
 * once the broker confirmed them.
 */
export async function replay(options: ReplayOptions, context: CommandContext): Promise<void> {
  let match: ((item: ReplayItem['message']) => boolean) | undefined;
  if (options.matches.length > 0) {
    const { compileMatches } = await import('../../match/predicate.js');
    match = compileMatches(options.matches);
  }
  // A file is opened before connecting, so a bad path fails at once; a dry run of a file
  // needs no broker at all.
  const fileSource =
    options.source.kind === 'file' ? await openSource(options, undefined, context) : undefined;
  tellTyping('ndjson', context);
  const session = fileSource && options.dryRun ? undefined : await context.connect();
  const started = performance.now();
  const tracker = new ConfirmTracker();
  const state: ReplayState = {
    stoppedBy: undefined,
    inputFailure: undefined,
    outputFailure: undefined,
    sent: 0,
    position: 0,
    unmatched: 0,
    nowhere: 0,
    unsendable: 0,
  };
  let source: ReplaySource | undefined;
  let spinner: Awaited<ReturnType<CommandContext['spinner']>> | undefined;
  let ticker: NodeJS.Timeout | undefined;
  try {
    source = fileSource ?? (await openSource(options, session, context));
    const current = source;
    spinner = await context.spinner(`replaying ${current.label}…`);
    if (spinner.active) {
      const active = spinner;
      ticker = setInterval(() => active.update(progressText(current, tracker, state, options, started)), 100);
    }
    await replayItems(current, session, tracker, state, options, context, match);
  } catch (error) {
    throw explainRefusal(error, tracker, false, options.source.kind === 'file' ? 'line' : 'message');
  } finally {
    clearInterval(ticker);
    spinner?.stop();
    await source?.close();
    await session?.close();
    report(source, tracker, state, options, performance.now() - started, context);
  }
  if (state.inputFailure) throw state.inputFailure;
  if (state.outputFailure && (state.outputFailure as NodeJS.ErrnoException).code !== 'EPIPE') {
    throw new WarrenError(`cannot write to stdout: ${state.outputFailure.message}`, ExitCode.failure, {
      cause: state.outputFailure,
    });
  }
  if (tracker.undelivered > 0) {
    throw notDelivered(tracker, false, options.source.kind === 'file' ? 'line' : 'message');
  }
  if (state.stoppedBy) throw new InterruptedError(state.stoppedBy);
}

async function replayItems(
  source: ReplaySource,
  session: Session | undefined,
  tracker: ConfirmTracker,
  state: ReplayState,
  options: ReplayOptions,
  context: CommandContext,
  match: ((message: ReplayItem['message']) => boolean) | undefined,
): Promise<void> {
  await new ItemReplay(source, tracker, state, options, context, match).run(session);
}

/** One run of replayItems: publishes (or, in a dry run, prints) the source's items, counted in `state`. */
class ItemReplay {
  private readonly stdout: CommandContext['io']['stdout'];
  private readonly pacer: Pacer;
  /** Undefined in a dry run: items are printed, not published. */
  private flow: PublishFlow | undefined;
  private format: Formatter | undefined;
  /** Ends the wait under way (pacing, stdout's drain), so that a stop takes effect at once. */
  private wakeSleeper: (() => void) | undefined;

  constructor(
    private readonly source: ReplaySource,
    private readonly tracker: ConfirmTracker,
    private readonly state: ReplayState,
    private readonly options: ReplayOptions,
    private readonly context: CommandContext,
    private readonly match: ((message: ReplayItem['message']) => boolean) | undefined,
  ) {
    this.stdout = context.io.stdout;
    this.pacer = new Pacer({ timing: options.timing, speed: options.speed, rate: options.rate });
  }

  async run(session: Session | undefined): Promise<void> {
    const { state, options, stdout, tracker } = this;
    const disposeSignals = watchStopSignals((signal) => {
      state.stoppedBy = signal;
      this.stop();
    });
    const onOutputError = (error: Error) => {
      state.outputFailure ??= error;
      this.stop();
    };
    stdout.on('error', onOutputError);
    this.flow =
      options.dryRun || !session
        ? undefined
        : new PublishFlow(session, await session.openPublisher({ mandatory: options.mandatory, tracker }));
    // A refusal that closes the publishing channel (no such exchange, say) ends the run now:
    // a queue source would otherwise wait for deliveries that its unacked window holds back.
    session?.onLost(() => this.stop());
    tracker.onSettled = (entry, seq, status) => {
      if (entry.ref !== undefined) this.source.settle(entry.ref, status);
      if (options.receipts) stdout.write(receipt(entry, seq, status));
    };
    this.format = options.dryRun
      ? createFormatter({ ...options.output, paint: this.context.stdoutPaint, screen: stdout })
      : undefined;
    try {
      replaying: for await (const batch of this.source.batches()) {
        for (const item of batch) {
          if (this.stopped()) break replaying;
          let go = this.replayOne(item);
          if (typeof go !== 'boolean') go = await go;
          if (!go) break replaying;
        }
      }
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      state.inputFailure = error;
    } finally {
      disposeSignals();
    }
    try {
      await this.flow?.finish();
    } finally {
      stdout.off('error', onOutputError);
    }
  }

  stop(): void {
    this.source.stop();
    this.wakeSleeper?.();
  }

  private stopped(): boolean {
    return this.state.stoppedBy !== undefined || this.state.outputFailure !== undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeSleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  // A timer waits at most 2^31 - 1 ms (Node fires a longer one at once): longer waits in steps.
  private async sleepFully(ms: number): Promise<void> {
    let left = ms;
    while (left > MAX_TIMER_MS && !this.stopped()) {
      await this.sleep(MAX_TIMER_MS);
      left -= MAX_TIMER_MS;
    }
    if (!this.stopped()) await this.sleep(left);
  }

  private keep(item: ReplayItem): void {
    if (item.ref !== undefined) this.source.settle(item.ref, 'kept');
  }

  /** After an item went: counts it, and waits while stdout is full. False once the run is to stop. */
  private sent(): boolean | Promise<boolean> {
    const { state, options, stdout } = this;
    state.sent += 1;
    if (options.count !== undefined && state.sent >= options.count) {
      this.source.stop();
      return false;
    }
    // Receipts and dry-run records are data: a slow reader slows the replay down.
    if ((stdout as { writableNeedDrain?: boolean }).writableNeedDrain) {
      return new Promise<boolean>((resolve) => {
        const go = () => resolve(!this.stopped());
        stdout.once('drain', go);
        this.wakeSleeper = go;
      });
    }
    return !this.stopped();
  }

  private send(
    item: ReplayItem,
    target: { exchange: string; routingKey: string },
  ): boolean | Promise<boolean> {
    const { flow } = this;
    if (!flow) {
      if (item.ref !== undefined) this.source.settle(item.ref, 'confirmed');
      this.stdout.write(dryRunRecord(item, target, this.options, this.format as Formatter));
      return this.sent();
    }
    let headers: Record<string, unknown> | undefined;
    try {
      headers = item.encodedHeaders ?? encoded(item);
    } catch (error) {
      // Another client may send headers warren cannot send again: the message stays put.
      if (!(error instanceof FieldValueError)) throw error;
      this.state.unsendable += 1;
      this.context.reporter.warn(`message ${item.line}: ${error.message}: left where it is`);
      this.keep(item);
      return true;
    }
    const outgoing = outgoingFromRecorded(item.message, headers, {
      ...this.options.overrides,
      ...target,
    });
    const wait = flow.send(outgoing, item.line, item.ref);
    return wait ? wait.then(() => this.sent()) : this.sent();
  }

  /**
   * Publishes (or prints) one item; false once the run is to stop. A promise only when it
   * must wait (pacing, the publish window, stdout), so the common case costs no await.
   */
  private replayOne(item: ReplayItem): boolean | Promise<boolean> {
    const { state, options, pacer } = this;
    state.position = item.position;
    if (this.match && !this.match(item.message)) {
      state.unmatched += 1;
      this.keep(item);
      return true;
    }
    const target = targetOf(item, options.overrides);
    if (!target) {
      state.nowhere += 1;
      this.keep(item);
      return true;
    }
    const altered = alteredTarget(item, options.overrides);
    if (altered) {
      state.unsendable += 1;
      this.context.reporter.warn(`message ${item.line}: ${altered}: left where it is`);
      this.keep(item);
      return true;
    }
    if (options.timing === 'original' && item.recordedAt === undefined) {
      throw new DataError(`line ${item.line}: no "receivedAt" to keep the timing of (--timing original)`);
    }
    const wait = pacer.active ? pacer.delayFor(item.recordedAt) : 0;
    if (wait < 1) return this.send(item, target);
    return this.sleepFully(wait).then(() => (this.stopped() ? false : this.send(item, target)));
  }
}

/** Headers of a message read from the broker, in the form the client library encodes. */
function encoded(item: ReplayItem): Record<string, unknown> | undefined {
  // Headers warren could not decode whole go again as they came.
  if (item.message.rawHeaders) return verbatimHeaders(item.message.rawHeaders);
  const headers = item.message.headers;
  if (!headers) return undefined;
  // Decoded from the wire, so it encodes again as it came.
  return encodableHeaders(headers);
}

/** The envelope a dry run prints: the message as it would be published, and where to. */
function dryRunRecord(
  item: ReplayItem,
  target: { exchange: string; routingKey: string },
  options: ReplayOptions,
  format: Formatter,
): string | Buffer {
  const properties = overriddenProperties(item.message.properties, options.overrides.properties);
  const headers =
    Object.keys(options.typedHeaders).length > 0
      ? { ...item.message.headers, ...options.typedHeaders }
      : item.message.headers;
  return recordBytes(
    format({
      ...item.message,
      ...target,
      properties,
      headers,
    }),
  );
}

function receipt(entry: PendingPublish, seq: number, status: SettleStatus): string {
  const replyCode =
    status === 'returned' && entry.returnedWith ? Number.parseInt(entry.returnedWith, 10) : undefined;
  return `${JSON.stringify({ seq, line: entry.line, status, ...(replyCode === undefined ? {} : { replyCode }) })}\n`;
}

function progressText(
  source: ReplaySource,
  tracker: ConfirmTracker,
  state: ReplayState,
  options: ReplayOptions,
  started: number,
): string {
  const elapsed = performance.now() - started;
  const done = options.dryRun ? state.sent : tracker.published;
  const rate = elapsed > 0 ? Math.round((done * 1000) / elapsed) : 0;
  const total = source.total();
  const fraction = total === undefined ? undefined : Math.min(1, state.position / total);
  let where = '';
  if (fraction !== undefined && fraction > 0) {
    const eta = fraction < 1 ? `, ETA ${roughly((elapsed * (1 - fraction)) / fraction)}` : '';
    where = ` ${Math.floor(fraction * 100)}%${eta},`;
  }
  const counts = options.dryRun
    ? `${done} to publish`
    : `${tracker.published} published, ${tracker.confirmed} confirmed`;
  return `replaying ${source.label}:${where} ${counts} (${rate} msg/s)`;
}

/** An ETA to the second: 7s, 2m05s, 1h10m. */
function roughly(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function report(
  source: ReplaySource | undefined,
  tracker: ConfirmTracker,
  state: ReplayState,
  options: ReplayOptions,
  elapsedMs: number,
  context: CommandContext,
): void {
  if (!source) return;
  const extras: string[] = [];
  if (state.unmatched > 0) extras.push(`${state.unmatched} not matching`);
  if (state.nowhere > 0) extras.push(`${state.nowhere} without x-death`);
  if (state.unsendable > 0) extras.push(`${state.unsendable} that cannot be sent as they came`);
  extras.push(...source.notes());
  if (state.nowhere > 0) {
    context.reporter.warn(
      `${state.nowhere} ${state.nowhere === 1 ? 'message has' : 'messages have'} no x-death header to say where ${state.nowhere === 1 ? 'it' : 'they'} came from: give --exchange (and --routing-key) to re-drive ${state.nowhere === 1 ? 'it' : 'them'}`,
    );
  }
  if (options.dryRun) {
    const noun = state.sent === 1 ? 'message' : 'messages';
    const more = extras.length > 0 ? `; ${extras.join(', ')}` : '';
    context.reporter.info(
      `dry run: would publish ${state.sent} ${noun} from ${source.label}${more}; published nothing`,
    );
    return;
  }
  reportSummary(tracker, extras, elapsedMs, context);
}

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ConfirmTracker } from '../../broker/confirmTracker.js';
import type { OutgoingMessage } from '../../broker/message.js';
import type { InputMode } from '../../choices.js';
import { envelopeText, type MessageOverrides, messageFromEnvelopeLine } from '../../envelope.js';
import { DataError, InterruptedError, UsageError, WarrenError } from '../../errors.js';
import { checkStdin, inputError, MAX_BODY_BYTES, openInputFile } from '../../input/inputFile.js';
import { type Line, LineSplitter } from '../../input/lineSplitter.js';
import { PublishFlow } from '../../publish/flow.js';
import { type StopSignal, watchStopSignals } from '../../ui/signals.js';
import type { CommandContext } from '../context.js';
import { explainRefusal, notDelivered, progressLine, reportSummary, tellTyping } from './report.js';

export interface PublishOptions {
  /** Only what was given on the command line; NDJSON input fills in the rest. */
  overrides: MessageOverrides;
  body: string | undefined;
  file: string | undefined;
  input: InputMode;
  mandatory: boolean;
  skipInvalid: boolean;
  /** After a lost connection: reconnection attempts in a row before giving up (exit 69). */
  retries: number;
}

/** Where the message bytes come from: the argument, a file, or stdin. */
export function openInput(
  options: PublishOptions,
  context: CommandContext,
): AsyncIterable<Buffer> | Iterable<Buffer> {
  if (options.body !== undefined && options.file !== undefined) {
    throw new UsageError('give the body as an argument or with --file, not both');
  }
  if (options.body !== undefined) return [Buffer.from(options.body, 'utf8')];
  if (options.file !== undefined) {
    return options.file === '-'
      ? createReadStream('/dev/stdin', { highWaterMark: 256 * 1024 })
      : openInputFile(options.file);
  }
  if (context.io.stdin === process.stdin) checkStdin();
  // One message typed at a terminal would wait for Ctrl-D unannounced; lines may be typed.
  if (context.io.stdin.isTTY && options.input === 'raw') {
    throw new UsageError('no message body: give BODY, --file FILE, or pipe it on stdin', {
      hint: "see 'warren publish --help'",
    });
  }
  return context.io.stdin as AsyncIterable<Buffer>;
}

export async function readWhole(
  input: AsyncIterable<Buffer> | Iterable<Buffer>,
  file: string | undefined,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of input) {
      size += chunk.length;
      // Stop reading an endless input (/dev/zero) before it takes all memory.
      if (size > MAX_BODY_BYTES) {
        throw new DataError(
          `the body is over ${MAX_BODY_BYTES / 1024 / 1024} MiB, more than RabbitMQ accepts in one message`,
        );
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw inputError(error, file);
  }
  return Buffer.concat(chunks);
}

/** A message from raw or line input: the flags' exchange, key and properties, persistent by default. */
export function rawMessage(body: Buffer, overrides: MessageOverrides): OutgoingMessage {
  const properties = { ...overrides.properties };
  if (properties.deliveryMode === undefined) properties.deliveryMode = 2;
  return {
    exchange: overrides.exchange ?? '',
    routingKey: overrides.routingKey ?? '',
    body,
    properties,
    headers: Object.keys(overrides.headers).length > 0 ? overrides.headers : undefined,
  };
}

export async function publish(options: PublishOptions, context: CommandContext): Promise<void> {
  const input = openInput(options, context);
  tellTyping(options.input, context);
  // A single message is read before connecting: nothing to hold a connection open for.
  const whole = options.input === 'raw' ? await readWhole(input, options.file) : undefined;

  let session = await context.connect();
  const started = performance.now();
  const tracker = new ConfirmTracker();
  const progress: LineProgress = { skipped: 0, stoppedBy: undefined, inputFailure: undefined };
  const spinner = whole ? undefined : await context.spinner('publishing…');
  const ticker = spinner?.active
    ? setInterval(() => spinner.update(progressLine(tracker, started)), 100)
    : undefined;
  let flow: PublishFlow | undefined;
  try {
    const publisher = await session.openPublisher({ mandatory: options.mandatory, tracker });
    flow = new PublishFlow(session, publisher, undefined, {
      retries: options.retries,
      open: async () => {
        const next = await context.connect();
        try {
          return {
            session: next,
            publisher: await next.openPublisher({ mandatory: options.mandatory, tracker }),
          };
        } catch (error) {
          await next.close();
          throw error;
        }
      },
      warn: (text) => context.reporter.warn(text),
    });
    if (whole) await sendOrExplain(flow, rawMessage(whole, options.overrides), 1, false);
    else await publishLines(input, flow, options, context, progress);
    await flow.finish();
  } catch (error) {
    throw explainRefusal(error, tracker, options.input === 'raw');
  } finally {
    clearInterval(ticker);
    spinner?.stop();
    if (flow) session = flow.currentSession;
    await session.close();
    const extras = progress.skipped > 0 ? [`skipped ${progress.skipped}`] : [];
    if (flow && flow.reconnects > 0) {
      extras.push(
        `sent again ${tracker.resent} after ${flow.reconnects} reconnection${flow.reconnects === 1 ? '' : 's'}`,
      );
    }
    reportSummary(tracker, extras, performance.now() - started, context);
  }
  if (progress.inputFailure) throw progress.inputFailure;
  if (tracker.undelivered > 0) throw notDelivered(tracker, options.input === 'raw');
  if (progress.stoppedBy) throw new InterruptedError(progress.stoppedBy);
}

/**
 * Sends a message; an error the client library throws before sending it (a message it
 * cannot encode) names the line, so that it is not taken for an error reading the input.
 */
function sendOrExplain(
  flow: PublishFlow,
  message: OutgoingMessage,
  line: number,
  numbered = true,
): Promise<void> | undefined {
  try {
    return flow.send(message, line);
  } catch (error) {
    if (error instanceof WarrenError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new DataError(`${numbered ? `line ${line}: ` : ''}the message cannot be sent: ${why}`, {
      cause: error,
    });
  }
}

interface LineProgress {
  skipped: number;
  stoppedBy: StopSignal | undefined;
  /** The malformed line that ended the input; everything before it is still confirmed. */
  inputFailure: DataError | undefined;
}

/**
 * Publishes one message per input line, reading no faster than the flow allows. Ctrl-C
 * stops the reading; what was published is still confirmed and counted.
 */
async function publishLines(
  input: AsyncIterable<Buffer> | Iterable<Buffer>,
  flow: PublishFlow,
  options: PublishOptions,
  context: CommandContext,
  progress: LineProgress,
): Promise<void> {
  const splitter = new LineSplitter();
  const toMessage =
    options.input === 'ndjson'
      ? (bytes: Buffer, line: number) =>
          messageFromEnvelopeLine(envelopeText(bytes, line), line, options.overrides)
      : (bytes: Buffer) => rawMessage(bytes, options.overrides);
  const sendLines = async (lines: Iterable<Line>) => {
    for (const line of lines) {
      if (progress.stoppedBy) return;
      let message: OutgoingMessage;
      try {
        message = toMessage(line.bytes, line.number);
      } catch (error) {
        if (!(error instanceof DataError) || !options.skipInvalid) throw error;
        progress.skipped += 1;
        context.reporter.warn(`${error.message} (skipped)`);
        continue;
      }
      const wait = sendOrExplain(flow, message, line.number);
      if (wait) await wait;
    }
  };
  const disposeSignals = watchStopSignals((signal) => {
    progress.stoppedBy = signal;
    (input as Partial<Readable>).destroy?.();
  });
  try {
    try {
      for await (const chunk of input) {
        await sendLines(splitter.push(chunk));
        if (progress.stoppedBy) break;
      }
    } catch (error) {
      if (progress.stoppedBy) return;
      throw error instanceof WarrenError ? error : inputError(error, options.file);
    }
    if (!progress.stoppedBy) await sendLines(splitter.end());
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    progress.inputFailure = error;
  } finally {
    disposeSignals();
  }
}

import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { ReceivedMessage } from '../../broker/message.js';
import { DEFAULT_RETRIES } from '../../broker/reconnect.js';
import type { Session } from '../../broker/session.js';
import { notAStreamQueue } from '../../brokerErrors.js';
import { runConsume } from '../../consume/engine.js';
import type { MessageSource } from '../../consume/job.js';
import { ExitCode, NotDeliveredError, UsageError, WarrenError } from '../../errors.js';
import { lineForwarder } from '../../exec/childOutput.js';
import type { Formatter } from '../../format/index.js';
import type { TailSource } from '../../tailSource.js';
import type { ConsumeOptions } from '../consume/run.js';
import type { CommandContext } from '../context.js';
import { openTap, type TapSources } from './tap.js';

export interface TailOptions extends TapSources {
  /** The --match expressions (ANDed). */
  matches: string[];
  /** A command to run once the tap is bound (argv after `--`). */
  trigger: string[];
  /** --pass-url: the trigger gets WARREN_URL with the password (else none: src/exec/childEnv.ts). */
  passUrl: boolean;
  /** Also write every printed message to this file as NDJSON envelopes (for replay). */
  capture: string | undefined;
  /** --stream: read this stream queue from an offset instead of tapping exchanges. */
  stream: { queue: string; offset: unknown; offsetText: string } | undefined;
  output: Pick<ConsumeOptions, 'count' | 'timeoutMs' | 'format' | 'template' | 'full'>;
}

/**
 * What a command built on tail changes about it (`warren events`): the records it writes,
 * how --match reads them, what they are called, and what must exist before the tap is bound.
 */
export interface TailAdapter {
  /** What the summary and a timeout call one record: `event`. */
  noun: string;
  /** The record written for each message, in place of --format's. */
  formatter(context: CommandContext): Formatter;
  /**
   * Which messages are written and counted, from the --match expressions (undefined: all).
   * `tapQueues`: the queues warren has tapped through so far, for the adapter to leave out
   * what the broker says about them.
   */
  match(
    exprs: readonly string[],
    tapQueues: ReadonlySet<string>,
  ): Promise<((message: ReceivedMessage) => boolean) | undefined>;
  /** Once connected, before the tap is bound: checks what the tap needs (its error ends the run). */
  check(session: Session): Promise<void>;
}

function sourceName(source: TailSource): string {
  return source.key === undefined ? source.exchange : `${source.exchange}:${source.key}`;
}

/** How long a trigger still running when the tail ends may take to finish before it is stopped. */
const TRIGGER_GRACE_MS = 5000;

/** How long a trigger that failed may take to pass on the rest of its output, before the tail's error. */
const TRIGGER_OUTPUT_MS = 500;

interface Trigger {
  /**
   * Settles once it has ended: at once if it has, else after waiting up to TRIGGER_GRACE_MS,
   * then stopping it (SIGTERM). A failure that did not end the tail (`endedBy`) is warned of.
   */
  finish(endedBy: unknown): Promise<void>;
}

/**
 * Runs the trigger command; its output goes to stderr, never into warren's data. A trigger
 * that fails (exits non-zero, is killed, cannot start) calls `onFailed` with the error the
 * tail should end with: the event it was to cause may never come, and waiting out --timeout
 * would report it as late (exit 3). Every trigger ends before warren does, so that it
 * neither publishes into the next run's tail nor ends unreported.
 */
function startTrigger(
  argv: string[],
  context: CommandContext,
  awaited: number | undefined,
  onFailed: (error: WarrenError) => void,
  env: NodeJS.ProcessEnv,
): Trigger {
  const [command, ...args] = argv;
  if (!command) return { finish: async () => {} };
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  // Its output goes to stderr a line at a time, with warren's secrets masked.
  const stdout = lineForwarder(context.io.stderr, '');
  const stderr = lineForwarder(context.io.stderr, '');
  child.stdout?.on('data', (chunk: Buffer) => stdout.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));
  // Once its output has closed, the last unended line is passed on too.
  const outputDone = new Promise<void>((resolve) =>
    child.on('close', () => {
      stdout.end();
      stderr.end();
      resolve();
    }),
  );
  const named = `trigger '${argv.join(' ')}'`;
  const before = awaited === undefined ? '' : ` before the awaited message${awaited === 1 ? '' : 's'} came`;
  let running = true;
  let stopping = false;
  let failure: { error: WarrenError; warning: string } | undefined;
  const ended = new Promise<void>((resolve) => {
    const fail = (how: string, warning: string, cause?: unknown) => {
      running = false;
      failure = { error: new NotDeliveredError(`${named} ${how}`, { cause }), warning };
      const error = failure.error;
      // Its last words (a publish's NO_ROUTE) come before the tail's own.
      const outputLate = new Promise<void>((done) => setTimeout(done, TRIGGER_OUTPUT_MS).unref());
      void Promise.race([outputDone, outputLate]).then(() => onFailed(error));
      resolve();
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ENOENT' ? 'ENOENT: no such command' : (error.code ?? error.message);
      fail(`could not start (${why})`, `trigger '${command}' did not start: ${error.message}`, error);
    });
    child.on('exit', (code, signal) => {
      if (!running) return;
      if (code === 0 || stopping) {
        running = false;
        resolve();
        return;
      }
      const status = signal ?? `exit ${code}`;
      fail(`failed (${status})${before}`, `${named} exited ${signal ?? code}`);
    });
  });
  return {
    finish: async (endedBy) => {
      if (failure && failure.error !== endedBy) context.reporter.warn(failure.warning);
      if (!running) return;
      context.reporter.detail(`waiting up to ${TRIGGER_GRACE_MS / 1000}s for the trigger to finish`);
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        ended.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), TRIGGER_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
      if (late) {
        context.reporter.warn(
          `${named} still running ${TRIGGER_GRACE_MS / 1000}s after the tail ended: stopping it`,
        );
        stopping = true;
        child.kill('SIGTERM');
        await ended;
      }
      // Failed while the tail was ending: too late to end it, not too late to say so.
      if (failure) context.reporter.warn(failure.warning);
    },
  };
}

/** Deliveries a tail holds unacked at once: what bounds the copies waiting for a slow reader. */
const TAIL_PREFETCH = 1000;

/**
 * Watches exchanges without taking anything from anyone: a queue of warren's own, bound to
 * each source, read as consume reads (formats, --count, --timeout), with --match filtering.
 */
export async function tail(
  options: TailOptions,
  context: CommandContext,
  adapter?: TailAdapter,
): Promise<void> {
  const tapQueues = new Set<string>();
  let match: ((message: ReceivedMessage) => boolean) | undefined;
  if (adapter) match = await adapter.match(options.matches, tapQueues);
  else if (options.matches.length > 0) {
    const { compileMatches } = await import('../../match/predicate.js');
    match = compileMatches(options.matches);
  }
  const capture = options.capture === undefined ? undefined : await openCapture(options.capture);
  let trigger: Trigger | undefined;
  let triggerFailed: (error: WarrenError) => void = () => {};
  const triggerFailure = new Promise<WarrenError>((resolve) => {
    triggerFailed = resolve;
  });
  let ready = 0;
  const source = tailSource(
    options,
    () => {
      if (ready > 0) context.reporter.warn(`tapping ${source.label} again`);
      // The trigger runs once, the first time the tap is bound.
      else if (options.trigger.length > 0)
        trigger = startTrigger(
          options.trigger,
          context,
          options.output.count,
          triggerFailed,
          context.childEnv(options.passUrl),
        );
      ready += 1;
    },
    context,
    { tapQueues, adapter },
  );
  let endedBy: unknown;
  try {
    await runConsume(
      {
        source,
        count: options.output.count,
        timeoutMs: options.output.timeoutMs,
        output: options.output,
        prefetch: TAIL_PREFETCH,
        // A stream is read in place: acks are credit there, nothing is removed. The tap queue
        // is acked too, after each record is written: a slow reader then holds the copies
        // back in the broker (the prefetch window), rather than in warren's memory.
        ackMode: 'ack',
        match,
        capture,
        // A lost connection (or a broker not back yet) is worth another try; a tail has
        // nothing to lose but the messages published while it was away, and says so.
        retries: DEFAULT_RETRIES,
        lostNote: `${adapter?.noun ?? 'message'}s published meanwhile may be missed`,
        // A tail takes nothing from anyone: it saw its messages.
        verb: 'saw',
        noun: adapter?.noun,
        formatter: adapter?.formatter(context),
        warnEarlyEnd: false,
        failure: triggerFailure,
      },
      context,
    );
  } catch (error) {
    endedBy = error;
    throw error;
  } finally {
    await trigger?.finish(endedBy);
    // Everything captured reaches the file before warren says it is done.
    if (capture) await closeCapture(capture);
  }
}

/**
 * What the tail reads: its own queue, declared and bound to the sources on each connection,
 * or (--stream) a stream queue from an offset. `onReady` runs each time it is in place.
 */
function tailSource(
  options: TailOptions,
  onReady: () => void,
  context: CommandContext,
  tap: { tapQueues: Set<string>; adapter: TailAdapter | undefined },
): MessageSource {
  const stream = options.stream;
  if (stream) {
    const label = `stream '${stream.queue}' (from ${stream.offsetText})`;
    return {
      label,
      open: async () => stream.queue,
      oneAtATime: false,
      stream: {
        arguments: { 'x-stream-offset': stream.offset },
        notAStream: (cause) =>
          notAStreamQueue(
            stream.queue,
            'use --stream with stream queues only; tail the exchange that feeds the queue instead',
            cause,
          ),
      },
      onReady: () => {
        context.reporter.detail(`reading ${label}`);
        onReady();
      },
    };
  }
  const label = options.sources.map((s) => `'${sourceName(s)}'`).join(', ');
  let tapQueue = '';
  return {
    label,
    open: async (session) => {
      await tap.adapter?.check(session);
      tapQueue = await openTap(session, options);
      tap.tapQueues.add(tapQueue);
      return tapQueue;
    },
    oneAtATime: false,
    onReady: () => {
      context.reporter.detail(`tapping ${label} through queue '${tapQueue}'`);
      onReady();
    },
  };
}

async function closeCapture(capture: WriteStream): Promise<void> {
  capture.end();
  try {
    await finished(capture);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new WarrenError(`cannot write the --capture file: ${code}`, ExitCode.failure, { cause: error });
  }
}

/**
 * Opens the --capture file before connecting, so a bad path fails at once. A new file is
 * readable by its owner only (0600): messages are often private. An existing file keeps
 * the permissions it has.
 */
async function openCapture(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path, { mode: 0o600 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new UsageError(`--capture: cannot write '${path}' (${error.code ?? error.message})`, {
          cause: error,
          hint: undefined,
        }),
      ),
    );
  });
  return stream;
}

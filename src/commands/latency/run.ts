/** `warren latency`: the probe run, its lines per second, summary, and --assert verdict. */
import { randomBytes } from 'node:crypto';
import { type Assertion, assertionFailure, formatMicroseconds } from '../../bench/assertions.js';
import { type LatencySummary, SHOWN_FIGURES } from '../../bench/histogram.js';
import { runProbe } from '../../bench/latency.js';
import type { BenchSummary } from '../../bench/summary.js';
import type { Session } from '../../broker/session.js';
import type { SelectedProfile } from '../../config.js';
import { ExitCode, InterruptedError, WarrenError } from '../../errors.js';
import { type StopSignal, watchStopSignals } from '../../ui/signals.js';
import type { CommandContext, SecondBroker } from '../context.js';

export interface LatencyOptions {
  rate: number;
  count: number | undefined;
  durationMs: number | undefined;
  toUrl: string | undefined;
  /** The profile whose broker consumes (--to-profile), instead of --to-url. */
  toProfile: SelectedProfile | undefined;
  assertions: Assertion[];
  json: boolean;
}

/** The probe's queue outlives a warren killed outright by at most this long. */
const QUEUE_EXPIRES_MS = 60_000;
/** How long probes still on their way get once sending ends. */
const GRACE_MS = 5000;

export async function latency(options: LatencyOptions, context: CommandContext): Promise<void> {
  const queue = `warren-latency-${randomBytes(6).toString('hex')}`;
  const publishOn = await context.connect();
  let consumeOn: Session = publishOn;
  const stop = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const unwatch = watchStopSignals((signal) => {
    stoppedBy = signal;
    stop.abort();
  });
  let summary: BenchSummary;
  let strangers = 0;
  // A lost connection (either) ends the probe: reported after the summary so far.
  let lost: Error | undefined;
  const onLost = (error: Error) => {
    lost ??= error;
    stop.abort();
  };
  publishOn.onLost(onLost);
  try {
    // A classic queue, not exclusive, so that a consumer on another node of the cluster can
    // read it; x-expires removes it should warren be killed before it deletes it.
    await publishOn.declareQueue({
      name: queue,
      type: 'classic',
      durable: false,
      exclusive: false,
      autoDelete: false,
      arguments: { 'x-expires': QUEUE_EXPIRES_MS },
    });
    context.reporter.detail(`probe queue '${queue}' (deleted at the end; expires after 60s unused)`);
    try {
      const to: SecondBroker | undefined =
        options.toProfile !== undefined
          ? { profile: options.toProfile, source: '--to-profile' }
          : options.toUrl !== undefined
            ? { urls: [options.toUrl], source: '--to-url' }
            : undefined;
      if (to) {
        consumeOn = await secondNode(context, to, queue);
        consumeOn.onLost(onLost);
      }
      const spinner = await context.spinner('latency: starting');
      try {
        summary = await runProbe({
          publishOn,
          consumeOn,
          queue,
          rate: options.rate,
          count: options.count,
          durationMs: options.durationMs,
          graceMs: GRACE_MS,
          stop: stop.signal,
          onSecond: (s) => {
            const line = `${s.elapsedS}s: sent ${s.sent}, received ${s.received}, p50 ${formatMicroseconds(s.p50)}, p99 ${formatMicroseconds(s.p99)}`;
            if (spinner.active) spinner.update(`latency ${line}`);
            else context.reporter.info(line);
          },
          onStranger: (body) => {
            strangers += 1;
            context.reporter.detail(`a message of ${body.length} bytes that is no probe: not counted`);
          },
        });
      } finally {
        spinner.stop();
      }
    } finally {
      await publishOn.deleteQueue(queue, { ifUnused: false, ifEmpty: false }).catch((error: unknown) => {
        context.reporter.warn(
          `could not delete queue '${queue}' (it expires in 60s): ${(error as Error).message}`,
        );
      });
    }
  } finally {
    unwatch();
    if (consumeOn !== publishOn) await consumeOn.close().catch(() => {});
    await publishOn.close().catch(() => {});
  }
  report(summary, strangers, context);
  if (lost) {
    if (options.json) context.io.stdout.write(`${JSON.stringify(summary)}\n`);
    throw lost;
  }
  if (stoppedBy) throw new InterruptedError(stoppedBy);
  if (options.json) context.io.stdout.write(`${JSON.stringify(summary)}\n`);
  const failure = assertionFailure(options.assertions, summary, (line) => context.reporter.warn(line));
  if (failure) throw failure;
}

/**
 * The session on the --to-url or --to-profile broker, which must see the queue declared on
 * the first one.
 */
async function secondNode(context: CommandContext, to: SecondBroker, queue: string): Promise<Session> {
  const session = await context.connect(to);
  if ((await session.queueInfo(queue)) === undefined) {
    await session.close().catch(() => {});
    throw new WarrenError(
      `${to.source}: queue '${queue}' not found: --url and ${to.source} are not one cluster`,
      ExitCode.refused,
      { hint: 'two separate brokers share no queue; the vhost must be the same too' },
    );
  }
  return session;
}

/**
 * The summary on stderr: probes (and the queue's other messages, which are not counted),
 * then the latency histogram's figures.
 */
function report(summary: BenchSummary, strangers: number, context: CommandContext): void {
  const lost = summary.published - summary.consumed;
  const notes = [
    ...(lost > 0 ? [`${lost} not received`] : []),
    ...(strangers > 0 ? [`${strangers} other ${strangers === 1 ? 'message' : 'messages'} not counted`] : []),
  ];
  context.reporter.info(
    `${summary.consumed} of ${summary.published} probes received in ${summary.durationS.toFixed(1)}s${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`,
  );
  context.reporter.info(`latency ${figures(summary.latency)}`);
  context.reporter.info(`confirm ${figures(summary.confirmLatency)}`);
}

function figures(s: LatencySummary): string {
  return SHOWN_FIGURES.map(([name, key]) => `${name} ${formatMicroseconds(s[key])}`).join('  ');
}

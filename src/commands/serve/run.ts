/**
 * `warren serve FILE`: the handlers of a handlers file (src/serve/handlersFile.ts), each an
 * ExecRun of its own (a connection, a queue, a pool of handlers), in one process: one
 * watcher of SIGINT/SIGTERM for all of them, one status on stderr, one metrics endpoint.
 * A handler whose run fails (its queue is gone, the broker is not regained) stops the
 * others, as a SIGTERM would, and its error ends serve.
 */

import { plural } from '../../consume/outcome.js';
import { InterruptedError, WarrenError } from '../../errors.js';
import { ExecRun, messageHandler } from '../../exec/execRun.js';
import type { MessageHandler } from '../../exec/handler.js';
import { idOf, type Tally } from '../../exec/report.js';
import { RoutedHandler } from '../../exec/routedHandler.js';
import { type HandlerEntry, type HandlersFile, readHandlersFile } from '../../serve/handlersFile.js';
import { Metrics, serveMetrics } from '../../serve/metrics.js';
import { type HandlerView, type ServeStatus, serveStatus } from '../../serve/status.js';
import { applyTopology } from '../../topology/apply.js';
import { endOfRun, line, withSession } from '../../topology/results.js';
import { paintFor } from '../../ui/colour.js';
import { type StopSignal, watchStopSignals } from '../../ui/signals.js';
import { pipePrefetch } from '../consume/command.js';
import type { ExecOptions } from '../consume/exec.js';
import type { CommandContext } from '../context.js';

export interface ServeOptions {
  file: string;
  /** --check: read and check the file, run nothing. */
  check: boolean;
  /** --metrics PORT (0: any free port, said at the start), on --metrics-host. */
  metrics: { port: number; host: string } | undefined;
  graceMs: number;
  /** After a lost connection: reconnection attempts in a row, per handler. */
  retries: number;
  /** Without a terminal: a stats event per handler this often (0: none). */
  statsEveryMs: number;
  quiet: boolean;
  verbose: boolean;
  color: boolean | undefined;
}

interface Served {
  entry: HandlerEntry;
  run: ExecRun;
}

export async function serve(options: ServeOptions, context: CommandContext): Promise<void> {
  const spec = readHandlersFile(options.file);
  if (options.check) {
    context.reporter.info(describe(spec, options.file));
    return;
  }
  const status = serveStatus({
    stderr: context.io.stderr,
    paint: await paintFor(context.io.stderr, context.io.env, options.color),
    quiet: options.quiet,
    verbose: options.verbose,
  });
  const served: Served[] = [];
  const views = (): HandlerView[] =>
    served.map(({ entry, run }) => ({
      name: entry.name,
      queue: entry.queue,
      counts: run.counts,
      inFlight: run.inFlight,
    }));
  const metrics = new Metrics(views);
  // Listening first: a port in use is said before anything is declared or taken.
  const endpoint =
    options.metrics && (await serveMetrics(metrics, options.metrics.host, options.metrics.port));
  // Watched from the start: a SIGTERM while the topology is declared ends serve before
  // any handler takes a message, with the same exit code as one that comes later.
  const signals = new Signals(served, status);
  try {
    if (spec.topology) await declareTopology(spec, options.file, status, context);
    if (signals.received) throw new InterruptedError(signals.received);
    for (const entry of spec.handlers) served.push(start(entry, options, context, status, metrics));
    status.note(
      `serving ${spec.handlers.length} handler${spec.handlers.length === 1 ? '' : 's'} from ${options.file}${endpoint ? `, metrics at ${endpoint.url}` : ''}`,
      {
        event: 'serving',
        fields: { file: options.file, handlers: spec.handlers.length, metrics: endpoint?.url },
      },
    );
    status.show(views, options.statsEveryMs);
    await runAll(served, status, signals);
  } finally {
    signals.dispose();
    status.close();
    await endpoint?.close();
  }
}

/** `--check`: what the file declares, in one line. */
function describe(spec: HandlersFile, file: string): string {
  const routes = spec.handlers.reduce((sum, handler) => sum + (handler.routes?.length ?? 0), 0);
  const count = (n: number, noun: string) => `${n} ${plural(noun, n)}`;
  const { topology: t } = spec;
  const topology = t
    ? `; topology: ${count(t.exchanges.length, 'exchange')}, ${count(t.queues.length, 'queue')}, ${count(t.bindings.length, 'binding')}`
    : '';
  const names = spec.handlers.map((handler) => handler.name).join(', ');
  return `${file}: ${count(spec.handlers.length, 'handler')} (${names}), ${count(routes, 'route')}${topology}: valid`;
}

async function declareTopology(
  spec: HandlersFile,
  file: string,
  status: ServeStatus,
  context: CommandContext,
): Promise<void> {
  const topology = spec.topology as NonNullable<HandlersFile['topology']>;
  const results = await withSession(context, (session) => applyTopology(session, topology));
  for (const result of results) {
    status.event('declared', {
      kind: result.kind,
      name: result.name,
      status: result.status,
      detail: result.detail,
    });
    if (result.status === 'differs' || result.status === 'failed') context.reporter.warn(line(result));
    else context.reporter.detail(line(result));
  }
  endOfRun(results, `${file}: its topology was not fully applied`);
}

/** A handler's run, made to live beside the others: its own output, no signal watcher of its own. */
function start(
  entry: HandlerEntry,
  options: ServeOptions,
  context: CommandContext,
  status: ServeStatus,
  metrics: Metrics,
): Served {
  const reporter = status.reporter(entry.name);
  const handlerContext: CommandContext = {
    ...context,
    io: { ...context.io, stderr: status.stream(entry.name) },
    reporter,
    // The status shows every handler at once: no run draws a status line of its own, nor a
    // "connecting…" spinner (written below the status lines, where serve does not know of
    // it: two at once even add ora's own warning line). Its connection's lines go through
    // the status too.
    spinner: async () => ({ active: false, update: () => {}, stop: () => {} }),
    connect: (to, role) => context.connect(to, role, { reporter, spinner: false }),
  };
  const execOptions: ExecOptions = {
    queue: entry.queue,
    kind: entry.run?.kind ?? 'exec',
    command: entry.run?.command ?? '',
    onFailure: entry.onFailure,
    concurrency: entry.concurrency,
    // Long-running handlers are fed many messages at once, as consume --pipe does.
    prefetch: [entry.run, entry.fallback, ...(entry.routes ?? []).map((route) => route.run)].some(
      (run) => run?.kind === 'pipe',
    )
      ? pipePrefetch(entry.concurrency)
      : undefined,
    execTimeoutMs: entry.timeoutMs,
    maxRetries: entry.maxRetries,
    retryDelay: entry.retryDelay,
    reply: false,
    emit: entry.emit,
    graceMs: options.graceMs,
    passUrl: entry.passUrl,
    count: undefined,
    timeoutMs: undefined,
    retries: options.retries,
  };
  let handler: MessageHandler | undefined;
  if (entry.routes) {
    const made = (run: { kind: 'exec' | 'pipe'; command: string }) =>
      messageHandler({ ...execOptions, ...run }, handlerContext);
    handler = new RoutedHandler(
      entry.routes.map((route) => ({ match: route.match, handler: made(route.run) })),
      entry.fallback && made(entry.fallback),
    );
  }
  const run = new ExecRun(execOptions, handlerContext, {
    handler,
    watchSignals: false,
    observe: ({ message, decision, seconds }) => {
      metrics.observe(entry.name, seconds);
      if (!decision.failed) return;
      status.event('failed', {
        handler: entry.name,
        queue: entry.queue,
        messageId: idOf(message),
        routingKey: message.routingKey,
        action: decision.action,
        reason: decision.reason,
        seconds,
      });
    },
  });
  return { entry, run };
}

/**
 * serve's one watcher of SIGINT and SIGTERM, for every handler: the first stops them all
 * (each drains within --grace), the second makes them all quit at once.
 */
class Signals {
  received: StopSignal | undefined;
  readonly dispose: () => void;

  constructor(
    private readonly served: readonly Served[],
    status: ServeStatus,
  ) {
    this.dispose = watchStopSignals(
      (signal) => {
        this.received = signal;
        this.stopAll(signal);
      },
      () => {
        for (const { run } of served) run.quit();
        // warren goes at once: the status lines must not stay on the terminal.
        status.close();
      },
    );
  }

  stopAll(signal: StopSignal): void {
    for (const { run } of this.served) run.stop(signal);
  }
}

/**
 * Runs every handler until a signal stops them all or one fails, which stops the others
 * as a SIGTERM would; the first failure is serve's error.
 */
async function runAll(served: Served[], status: ServeStatus, signals: Signals): Promise<void> {
  let failure: WarrenError | Error | undefined;
  await Promise.all(
    served.map(async ({ entry, run }) => {
      status.event('started', { handler: entry.name, queue: entry.queue });
      let error: unknown;
      try {
        await run.run();
      } catch (caught) {
        error = caught;
      }
      const failed = error !== undefined && !(error instanceof InterruptedError);
      if (failed && failure === undefined) {
        failure = error instanceof Error ? error : new Error(String(error));
        if (failure instanceof WarrenError) failure.message = `handler '${entry.name}': ${failure.message}`;
        // The others drain as they would at a SIGTERM; the failure is what serve ends with.
        signals.stopAll('SIGTERM');
      }
      status.event('stopped', {
        handler: entry.name,
        queue: entry.queue,
        ...settledCounts(run.counts),
        ...(failed ? { error: (error as Error).message } : {}),
      });
    }),
  );
  if (failure) throw failure;
  if (signals.received) throw new InterruptedError(signals.received);
}

/** A run's counts for its `stopped` event (a reply count means nothing here: serve sends none). */
function settledCounts({ replies: _, ...counts }: Readonly<Tally>): Omit<Tally, 'replies'> {
  return counts;
}

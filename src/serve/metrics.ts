/**
 * `warren serve --metrics PORT`: the handlers' counts in Prometheus's text format, served
 * over HTTP at /metrics. Counters come from each run's tally (counted when a settlement is
 * committed); the latency histogram from each message's handling time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import type { HandlerView } from './status.js';

/** Upper bounds of the latency buckets, in seconds: from a quick shell command to a slow job. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

class Histogram {
  readonly counts = DURATION_BUCKETS.map(() => 0);
  count = 0;
  sum = 0;

  observe(seconds: number): void {
    this.count += 1;
    this.sum += seconds;
    DURATION_BUCKETS.forEach((bound, index) => {
      if (seconds <= bound) this.counts[index] = (this.counts[index] ?? 0) + 1;
    });
  }
}

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
function labelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

export class Metrics {
  private readonly durations = new Map<string, Histogram>();

  constructor(private readonly views: () => HandlerView[]) {}

  /** One message's handling time, for its handler's histogram. */
  observe(handler: string, seconds: number): void {
    const histogram = this.durations.get(handler) ?? new Histogram();
    this.durations.set(handler, histogram);
    histogram.observe(seconds);
  }

  /** The exposition text: HELP and TYPE once per family, then a sample per handler. */
  text(): string {
    const views = this.views();
    const out: string[] = [];
    const family = (name: string, type: string, help: string, samples: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
    };
    const labels = (view: HandlerView, extra = '') =>
      `handler="${labelValue(view.name)}",queue="${labelValue(view.queue)}"${extra}`;
    family(
      'warren_handler_messages_total',
      'counter',
      'Messages settled, by outcome (acked, requeued, retried, rejected).',
      views.flatMap((view) =>
        (['acked', 'requeued', 'retried', 'rejected'] as const).map(
          (outcome) =>
            `warren_handler_messages_total{${labels(view, `,outcome="${outcome}"`)}} ${view.counts[outcome]}`,
        ),
      ),
    );
    family(
      'warren_handler_failures_total',
      'counter',
      'Messages whose handler failed (whatever then became of them).',
      views.map((view) => `warren_handler_failures_total{${labels(view)}} ${view.counts.failed}`),
    );
    family(
      'warren_handler_retries_total',
      'counter',
      'Failed messages sent back for a counted retry.',
      views.map((view) => `warren_handler_retries_total{${labels(view)}} ${view.counts.retried}`),
    );
    family(
      'warren_handler_events_emitted_total',
      'counter',
      'Events the handlers emitted that the broker confirmed.',
      views.map((view) => `warren_handler_events_emitted_total{${labels(view)}} ${view.counts.emitted}`),
    );
    family(
      'warren_handler_in_flight',
      'gauge',
      'Messages being handled now.',
      views.map((view) => `warren_handler_in_flight{${labels(view)}} ${view.inFlight}`),
    );
    family(
      'warren_handler_duration_seconds',
      'histogram',
      'How long the handler took per message, from its start to its end.',
      views.flatMap((view) => {
        const histogram = this.durations.get(view.name) ?? new Histogram();
        return [
          ...DURATION_BUCKETS.map(
            (bound, index) =>
              `warren_handler_duration_seconds_bucket{${labels(view, `,le="${bound}"`)}} ${histogram.counts[index]}`,
          ),
          `warren_handler_duration_seconds_bucket{${labels(view, ',le="+Inf"')}} ${histogram.count}`,
          `warren_handler_duration_seconds_sum{${labels(view)}} ${histogram.sum}`,
          `warren_handler_duration_seconds_count{${labels(view)}} ${histogram.count}`,
        ];
      }),
    );
    return `${out.join('\n')}\n`;
  }
}

/** Serves the metrics at http://HOST:PORT/metrics; resolves with the server once listening. */
export async function serveMetrics(
  metrics: Metrics,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('warren serve: metrics are at /metrics\n');
    } else {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(request.method === 'HEAD' ? undefined : metrics.text());
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is in use (another warren serve, or another exporter?)`
          : `cannot listen on ${host}:${port} (${error.code ?? error.message})`;
      reject(
        new UsageError(`--metrics: ${why}`, {
          hint: 'choose another port with --metrics PORT',
          cause: error,
        }),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

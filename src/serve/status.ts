/**
 * What `warren serve` shows on stderr. On a terminal: one status line per handler (handled,
 * failed, rate, in flight), redrawn in place, with every other line (a handler's output,
 * warnings, summaries) written above it, prefixed with the handler's name. Otherwise: one
 * NDJSON event per line (docs/commands/serve.md lists them), so a log collector can read
 * it. Everything a handler's run writes goes through here: its reporter and its stderr.
 */
import type { Tally } from '../exec/report.js';
import type { Paint } from '../ui/colour.js';
import { eraseRowsAbove } from '../ui/redraw.js';
import { createReporter, type Reporter } from '../ui/reporter.js';
import { oneRow } from '../ui/spinner.js';
import { humanLine } from '../ui/terminalText.js';

/** A handler as the status shows it: its counts now. */
export interface HandlerView {
  name: string;
  queue: string;
  counts: Readonly<Tally>;
  inFlight: number;
}

/** A stream as a handler's process output is passed to it (src/exec/childOutput.ts writes whole lines). */
type LineSink = NodeJS.WritableStream;

export interface ServeStatus {
  /** Where a handler's run writes its processes' output. */
  stream(name: string): LineSink;
  reporter(name: string): Reporter;
  /** serve's own lines (not a handler's); without a terminal, `event` if given, else an info event. */
  note(line: string, event?: { event: string; fields: Record<string, unknown> }): void;
  event(event: string, fields: Record<string, unknown>): void;
  /** Starts showing the handlers' counts (redrawn, or a stats event every `everyMs`). */
  show(views: () => HandlerView[], everyMs: number): void;
  close(): void;
}

export interface StatusOptions {
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  paint: Paint;
  quiet: boolean;
  verbose: boolean;
  /** Time, for the events (tests pass their own). */
  now?: () => Date;
}

/** Status lines on a terminal (none with --quiet), NDJSON events otherwise. */
export function serveStatus(options: StatusOptions): ServeStatus {
  return options.stderr.isTTY && (options.stderr.columns ?? 0) > 0
    ? new TerminalStatus(options)
    : new EventStatus(options);
}

/** Messages settled per second over the last few seconds, per handler. */
class Rates {
  private readonly samples = new Map<string, { at: number; handled: number }[]>();

  rate(name: string, handled: number, windowMs = 5000): number {
    const now = performance.now();
    const list = this.samples.get(name) ?? [];
    list.push({ at: now, handled });
    while (list.length > 2 && now - (list[1]?.at ?? now) >= windowMs) list.shift();
    this.samples.set(name, list);
    const first = list[0] as { at: number; handled: number };
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? (handled - first.handled) / seconds : 0;
  }
}

/** A status line's counts: `12 handled, 1 failed, 4.0/s, 2 in flight`. */
function counts(handled: number, failed: number, rate: number, inFlight: number): string {
  return `${handled} handled, ${failed} failed, ${rate.toFixed(1)}/s, ${inFlight} in flight`;
}

/** A sink that cuts what is written into lines and passes each on. */
function lineSink(pass: (line: string) => void): LineSink {
  let pending = '';
  const sink = {
    write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
      pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) pass(line);
      const callback = rest.find((item) => typeof item === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    },
  };
  return sink as unknown as LineSink;
}

class TerminalStatus implements ServeStatus {
  private drawn = 0;
  private views: () => HandlerView[] = () => [];
  private timer: NodeJS.Timeout | undefined;
  private readonly rates = new Rates();
  private lines: string[] = [];

  constructor(private readonly options: StatusOptions) {}

  /** Writes a line above the board: the board is taken away, the line written, the board put back. */
  private above(line: string): void {
    this.erase();
    this.options.stderr.write(`${line}\n`);
    this.draw();
  }

  private erase(): void {
    if (this.drawn > 0) this.options.stderr.write(eraseRowsAbove(this.drawn));
    this.drawn = 0;
  }

  private draw(): void {
    if (this.lines.length === 0) return;
    this.options.stderr.write(`${this.lines.join('\n')}\n`);
    this.drawn = this.lines.length;
  }

  private refresh(): void {
    const { columns = 80, rows = 24 } = this.options.stderr;
    const shown = this.views().map((view) => ({
      view,
      rate: this.rates.rate(view.name, view.counts.handled),
    }));
    // Fewer lines than the terminal has rows, less one for the cursor and one to spare: lines
    // scrolled off its top cannot be erased, and each redraw would leave a copy in the
    // scrollback. The handlers that do not fit are summed up in the last line.
    const room = Math.max(1, rows - 2);
    const kept = shown.length > room ? room - 1 : shown.length;
    const lines = shown
      .slice(0, kept)
      .map(
        ({ view, rate }) =>
          `${view.name} ('${view.queue}'): ${counts(view.counts.handled, view.counts.failed, rate, view.inFlight)}`,
      );
    const rest = shown.slice(kept);
    if (rest.length > 0) {
      const sum = (of: (item: (typeof rest)[number]) => number) =>
        rest.reduce((total, item) => total + of(item), 0);
      const more = kept === 0 ? `${rest.length} handlers` : `… ${rest.length} more handlers`;
      lines.push(
        `${more}: ${counts(
          sum(({ view }) => view.counts.handled),
          sum(({ view }) => view.counts.failed),
          sum(({ rate }) => rate),
          sum(({ view }) => view.inFlight),
        )}`,
      );
    }
    this.lines = lines.map((line) => oneRow(humanLine(line), columns));
    this.erase();
    this.draw();
  }

  stream(name: string): LineSink {
    return lineSink((line) => this.above(`[${name}] ${line}`));
  }

  reporter(name: string): Reporter {
    const { paint, quiet, verbose } = this.options;
    return createReporter({ stderr: this.stream(name), paint, quiet, verbose });
  }

  note(line: string): void {
    if (!this.options.quiet) this.above(humanLine(line));
  }

  /** Events are for logs: on a terminal the board and the lines say it. */
  event(): void {}

  show(views: () => HandlerView[]): void {
    // --quiet: warnings and errors only, as other commands show on a terminal.
    if (this.options.quiet) return;
    this.views = views;
    this.refresh();
    // Redrawn often enough to look alive, however seldom stats events would go out.
    this.timer = setInterval(() => this.refresh(), 500);
  }

  close(): void {
    clearInterval(this.timer);
    this.erase();
    this.lines = [];
  }
}

class EventStatus implements ServeStatus {
  private timer: NodeJS.Timeout | undefined;
  private readonly rates = new Rates();

  constructor(private readonly options: StatusOptions) {}

  event(event: string, fields: Record<string, unknown>): void {
    const time = (this.options.now?.() ?? new Date()).toISOString();
    this.options.stderr.write(`${JSON.stringify({ time, event, ...fields })}\n`);
  }

  stream(name: string): LineSink {
    return lineSink((line) => this.event('output', { handler: name, line }));
  }

  reporter(name: string): Reporter {
    const { quiet, verbose } = this.options;
    return {
      info: (message) => {
        if (!quiet) this.event('info', { handler: name, message });
      },
      warn: (message) => this.event('warning', { handler: name, message }),
      detail: (message) => {
        if (verbose) this.event('detail', { handler: name, message });
      },
      verbose,
    };
  }

  note(message: string, event?: { event: string; fields: Record<string, unknown> }): void {
    if (event) this.event(event.event, event.fields);
    else if (!this.options.quiet) this.event('info', { message });
  }

  show(views: () => HandlerView[], everyMs: number): void {
    if (everyMs <= 0) return;
    this.timer = setInterval(() => {
      for (const view of views()) {
        const { handled, failed, retried } = view.counts;
        const rate = Number(this.rates.rate(view.name, handled, everyMs).toFixed(3));
        this.event('stats', {
          handler: view.name,
          queue: view.queue,
          handled,
          failed,
          retried,
          inFlight: view.inFlight,
          rate,
        });
      }
    }, everyMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/**
 * Where `ls` writes its records: NDJSON (one record per line, as records.ts makes it, or
 * projected on --columns) or a table fitted to the terminal. Writes go out in chunks of
 * about 64 KiB and wait while stdout is full, so memory stays bounded however long the list;
 * a reader that left (`| head -n 1`) ends the listing quietly.
 */
import { humanBytes, humanRate, type TableColumn, TableWriter } from '../../format/table.js';
import { fieldView, type ValueStyle } from '../../inventory/listing.js';
import type { Kind } from '../../inventory/records.js';
import type { RecordPredicate } from '../../match/recordPredicate.js';
import type { Paint } from '../../ui/colour.js';
import type { Io } from '../../ui/io.js';
import type { StopSignal } from '../../ui/signals.js';

const CHUNK_BYTES = 64 * 1024;
/** Rows that fix a table's column widths before it is written (one API page). */
export const TABLE_SAMPLE_ROWS = 500;

export interface RecordOutput {
  /** Writes (or holds) one record; resolves once there is room for more. */
  push(record: Record<string, unknown>): Promise<void>;
  /** Writes what is held; resolves once stdout took it. */
  end(): Promise<void>;
  /** The reader went away (EPIPE): stop listing, quietly. */
  readonly readerGone: boolean;
  /** stdout failed (the reader gone, a full disk, …): stop listing. */
  readonly broken: boolean;
  /** Columns the terminal had no room for. */
  dropped(): string[];
  /** Why stdout failed, if it did (a reader gone is no failure). */
  failure(): Error | undefined;
  /** Ends a wait for a full stdout (Ctrl-C while the reader is stuck). */
  interrupt(): void;
}

/** stdout, written in chunks, waiting for 'drain' (or a stop) when full. */
class ChunkedStdout {
  private chunk = '';
  failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly stdout: Io['stdout']) {
    stdout.on('error', (error: Error) => {
      this.failure ??= error;
      this.wake?.();
    });
  }

  get readerGone(): boolean {
    return (this.failure as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
  }

  async write(text: string, force = false): Promise<void> {
    this.chunk += text;
    if (this.failure || (!force && this.chunk.length < CHUNK_BYTES)) return;
    const chunk = this.chunk;
    this.chunk = '';
    if (chunk === '' || this.stdout.write(chunk)) return;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      this.stdout.once('drain', resolve);
    });
    this.wake = undefined;
  }

  /** Wakes a wait for 'drain' (Ctrl-C while the reader is stuck). */
  interrupt(): void {
    this.wake?.();
  }
}

const project = (record: Record<string, unknown>, fields: string[] | undefined) =>
  fields === undefined ? record : Object.fromEntries(fields.map((field) => [field, record[field] ?? null]));

function render(style: ValueStyle, value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') {
    switch (style) {
      case 'rate':
        return humanRate(value);
      case 'bytes':
        return humanBytes(value);
      case 'byteRate':
        return `${humanBytes(value)}/s`;
      case 'share':
        return `${Math.round(value * 100)}%`;
      default:
        return String(value);
    }
  }
  if (typeof value === 'string') return style === 'exchange' && value === '' ? '(default)' : value;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function createOutput(
  io: Io,
  options: {
    kind: Kind;
    format: 'table' | 'ndjson';
    fields: string[];
    projection: string[] | undefined;
    paint: Paint;
  },
): RecordOutput {
  const out = new ChunkedStdout(io.stdout);
  const make = (write: Pick<RecordOutput, 'push' | 'end' | 'dropped'>): RecordOutput => ({
    ...write,
    get readerGone() {
      return out.readerGone;
    },
    get broken() {
      return out.failure !== undefined;
    },
    failure: () => (out.readerGone ? undefined : out.failure),
    interrupt: () => out.interrupt(),
  });
  if (options.format === 'ndjson') {
    return make({
      push: (record) => out.write(`${JSON.stringify(project(record, options.projection))}\n`),
      end: () => out.write('', true),
      dropped: () => [],
    });
  }
  const columns: TableColumn[] = options.fields.map((field) => {
    const view = fieldView(options.kind, field);
    const numeric = view.style !== 'text' && view.style !== 'exchange';
    return {
      label: view.label,
      align: numeric ? 'right' : 'left',
      render: (value) => render(view.style, value),
    };
  });
  const table = new TableWriter(columns, {
    // A terminal that reports no width (0) gets the table at its natural width.
    width: io.stdout.isTTY ? io.stdout.columns || undefined : undefined,
    paint: options.paint,
    sample: TABLE_SAMPLE_ROWS,
  });
  return make({
    push: (record) => out.write(table.add(options.fields.map((field) => record[field]))),
    end: () => out.write(table.end(), true),
    dropped: () => table.dropped,
  });
}

/**
 * Writes the records that match, counting them in `progress` as they go; stops early for a
 * stop or a stdout that failed.
 */
export async function writeRecords(
  records: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>,
  predicate: RecordPredicate,
  output: RecordOutput,
  stopped: () => StopSignal | undefined,
  progress = { listed: 0 },
): Promise<number> {
  for await (const record of records) {
    if (stopped() || output.broken) return progress.listed;
    if (!predicate(record)) continue;
    progress.listed += 1;
    await output.push(record);
  }
  if (!stopped()) await output.end();
  return progress.listed;
}

import { fstatSync, type ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { envelopeText, recordedFromEnvelopeLine } from '../envelope.js';
import { DataError } from '../errors.js';
import { inputError, openInputFile } from '../input/inputFile.js';
import { LineSplitter } from '../input/lineSplitter.js';
import type { Reporter } from '../ui/reporter.js';
import type { ReplayItem, ReplaySource } from './source.js';

/**
 * NDJSON envelopes from a file or stdin, as `consume` and `tail` write them. A malformed
 * line ends the replay (exit 65, naming it) unless --skip-invalid.
 */
export function openFileSource(path: string, options: FileSourceOptions): ReplaySource {
  return new FileSource(path, options);
}

interface FileSourceOptions {
  stdin: NodeJS.ReadableStream;
  skipInvalid: boolean;
  reporter: Reporter;
  /** Read each line's receivedAt (--timing original, --dry-run). */
  withTimes: boolean;
}

type NumberedLine = { bytes: Buffer; number: number };

class FileSource implements ReplaySource {
  readonly label: string;
  private readonly fromStdin: boolean;
  private readonly input: Readable | ReadStream;
  private size: number | undefined;
  private position = 0;
  private skipped = 0;
  private stopped = false;
  /** A malformed line ends the replay, but only after the lines before it went out. */
  private malformed: DataError | undefined;

  constructor(
    private readonly path: string,
    private readonly options: FileSourceOptions,
  ) {
    this.fromStdin = path === '-';
    this.label = this.fromStdin ? 'stdin' : `'${path}'`;
    this.input = this.fromStdin ? (options.stdin as Readable) : openInputFile(path);
    if (!this.fromStdin) {
      (this.input as ReadStream).once('open', (fd: number) => {
        const stat = fstatSync(fd);
        if (stat.isFile() && stat.size > 0) this.size = stat.size;
      });
    }
  }

  async *batches(): AsyncGenerator<ReplayItem[]> {
    const splitter = new LineSplitter();
    this.malformed = undefined;
    try {
      for await (const chunk of this.input as AsyncIterable<Buffer>) {
        yield this.parse(splitter.push(chunk));
        if (this.malformed) throw this.malformed;
        if (this.stopped) return;
      }
    } catch (error) {
      if (this.stopped) return;
      throw inputError(error, this.fromStdin ? undefined : this.path);
    }
    if (this.stopped) return;
    yield this.parse(splitter.end());
    if (this.malformed) throw this.malformed;
  }

  /** The items of the lines, up to the first malformed one (kept in `malformed`) unless --skip-invalid. */
  private parse(lines: Iterable<NumberedLine>): ReplayItem[] {
    const batch: ReplayItem[] = [];
    for (const line of this.untilTooLong(lines)) {
      // Progress counts the lines handed out, not the bytes read ahead of them.
      this.position += line.bytes.length + 1;
      let item: ReplayItem;
      try {
        item = this.itemOf(line);
      } catch (error) {
        if (!(error instanceof DataError)) throw error;
        if (!this.options.skipInvalid) {
          this.malformed = error;
          break;
        }
        this.skipped += 1;
        this.options.reporter.warn(`${error.message} (skipped)`);
        continue;
      }
      batch.push(item);
    }
    return batch;
  }

  /** The splitter refuses a line too long to keep: the lines before it still go out. */
  private *untilTooLong(lines: Iterable<NumberedLine>): Generator<NumberedLine> {
    try {
      yield* lines;
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      this.malformed = error;
    }
  }

  private itemOf(line: NumberedLine): ReplayItem {
    const recorded = recordedFromEnvelopeLine(
      envelopeText(line.bytes, line.number),
      line.number,
      this.options.withTimes,
    );
    return {
      line: line.number,
      message: recorded.message,
      encodedHeaders: recorded.encodedHeaders,
      recordedAt: recorded.recordedAt,
      origin: { exchange: recorded.message.exchange, routingKey: recorded.message.routingKey },
      ref: undefined,
      position: this.position,
    };
  }

  total(): number | undefined {
    return this.size;
  }

  settle(): void {}

  stop(): void {
    this.stopped = true;
    this.input.destroy?.();
  }

  async close(): Promise<void> {
    if (!this.fromStdin) this.input.destroy();
  }

  notes(): string[] {
    return this.skipped > 0 ? [`skipped ${this.skipped} invalid`] : [];
  }
}

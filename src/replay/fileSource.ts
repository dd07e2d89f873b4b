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
export function openFileSource(
  path: string,
  options: {
    stdin: NodeJS.ReadableStream;
    skipInvalid: boolean;
    reporter: Reporter;
    /** Read each line's receivedAt (--timing original, --dry-run). */
    withTimes: boolean;
  },
): ReplaySource {
  const fromStdin = path === '-';
  const input: Readable | ReadStream = fromStdin ? (options.stdin as Readable) : openInputFile(path);
  let size: number | undefined;
  let position = 0;
  let skipped = 0;
  let stopped = false;
  if (!fromStdin) {
    (input as ReadStream).once('open', (fd: number) => {
      const stat = fstatSync(fd);
      if (stat.isFile() && stat.size > 0) size = stat.size;
    });
  }

  async function* batches(): AsyncGenerator<ReplayItem[]> {
    const splitter = new LineSplitter();
    // A malformed line ends the replay, but only after the lines before it went out.
    let malformed: DataError | undefined;
    const parse = (lines: Iterable<{ bytes: Buffer; number: number }>): ReplayItem[] => {
      const batch: ReplayItem[] = [];
      // The splitter refuses a line too long to keep: the lines before it still go out.
      const numbered = function* () {
        try {
          yield* lines;
        } catch (error) {
          if (!(error instanceof DataError)) throw error;
          malformed = error;
        }
      };
      for (const line of numbered()) {
        // Progress counts the lines handed out, not the bytes read ahead of them.
        position += line.bytes.length + 1;
        let item: ReplayItem;
        try {
          const recorded = recordedFromEnvelopeLine(
            envelopeText(line.bytes, line.number),
            line.number,
            options.withTimes,
          );
          item = {
            line: line.number,
            message: recorded.message,
            encodedHeaders: recorded.encodedHeaders,
            recordedAt: recorded.recordedAt,
            origin: { exchange: recorded.message.exchange, routingKey: recorded.message.routingKey },
            ref: undefined,
            position,
          };
        } catch (error) {
          if (!(error instanceof DataError)) throw error;
          if (!options.skipInvalid) {
            malformed = error;
            break;
          }
          skipped += 1;
          options.reporter.warn(`${error.message} (skipped)`);
          continue;
        }
        batch.push(item);
      }
      return batch;
    };
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        yield parse(splitter.push(chunk));
        if (malformed) throw malformed;
        if (stopped) return;
      }
    } catch (error) {
      if (stopped) return;
      throw inputError(error, fromStdin ? undefined : path);
    }
    if (stopped) return;
    yield parse(splitter.end());
    if (malformed) throw malformed;
  }

  return {
    label: fromStdin ? 'stdin' : `'${path}'`,
    batches,
    total: () => size,
    settle: () => {},
    stop: () => {
      stopped = true;
      input.destroy?.();
    },
    close: async () => {
      if (!fromStdin) input.destroy();
    },
    notes: () => (skipped > 0 ? [`skipped ${skipped} invalid`] : []),
  };
}

import { DataError } from '../errors.js';

const NEWLINE = 0x0a;

/**
 * The longest line kept: RabbitMQ's largest max_message_size (512 MiB), which is also about
 * the longest string Node can decode. An endless line (`/dev/zero`) stops here, named,
 * instead of taking all memory.
 */
export const MAX_LINE_BYTES = 512 * 1024 * 1024;
const CARRIAGE_RETURN = 0x0d;

export interface Line {
  bytes: Buffer;
  number: number;
}

/**
 * Splits a byte stream into lines without decoding it, so binary-safe line input stays
 * byte for byte. A trailing `\r` is dropped (files written on Windows); empty lines are
 * skipped but still counted, so line numbers match the file.
 */
export class LineSplitter {
  // The start of a line that has not ended yet, in pieces: a long line spread over many
  // chunks is joined once, when it ends, not once per chunk.
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineNumber = 0;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  *push(chunk: Buffer): Generator<Line> {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    while (newline !== -1) {
      let raw = chunk.subarray(start, newline);
      if (this.pending.length > 0) {
        this.checkLength(this.pendingBytes + raw.length);
        raw = Buffer.concat([...this.pending, raw]);
        this.pending = [];
        this.pendingBytes = 0;
      } else this.checkLength(raw.length);
      const line = this.line(raw);
      if (line) yield line;
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      this.checkLength(this.pendingBytes);
    }
  }

  *end(): Generator<Line> {
    if (this.pending.length === 0) return;
    const rest = Buffer.concat(this.pending);
    this.pending = [];
    const line = this.line(rest);
    if (line) yield line;
  }

  private checkLength(bytes: number): void {
    if (bytes <= this.maxLineBytes) return;
    this.pending = [];
    this.pendingBytes = 0;
    throw new DataError(
      `line ${this.lineNumber + 1}: over ${this.maxLineBytes} bytes, more than RabbitMQ accepts in one message (its largest max_message_size)`,
    );
  }

  private line(raw: Buffer): Line | undefined {
    this.lineNumber += 1;
    const bytes =
      raw.length > 0 && raw[raw.length - 1] === CARRIAGE_RETURN ? raw.subarray(0, raw.length - 1) : raw;
    return bytes.length > 0 ? { bytes, number: this.lineNumber } : undefined;
  }
}

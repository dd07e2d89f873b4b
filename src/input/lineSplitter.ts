const NEWLINE = 0x0a;
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
  private carry: Buffer | undefined;
  private lineNumber = 0;

  *push(chunk: Buffer): Generator<Line> {
    let data = chunk;
    if (this.carry) {
      data = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let start = 0;
    let newline = data.indexOf(NEWLINE, start);
    while (newline !== -1) {
      const line = this.line(data.subarray(start, newline));
      if (line) yield line;
      start = newline + 1;
      newline = data.indexOf(NEWLINE, start);
    }
    if (start < data.length) this.carry = data.subarray(start);
  }

  *end(): Generator<Line> {
    const rest = this.carry;
    this.carry = undefined;
    if (rest) {
      const line = this.line(rest);
      if (line) yield line;
    }
  }

  private line(raw: Buffer): Line | undefined {
    this.lineNumber += 1;
    const bytes =
      raw.length > 0 && raw[raw.length - 1] === CARRIAGE_RETURN ? raw.subarray(0, raw.length - 1) : raw;
    return bytes.length > 0 ? { bytes, number: this.lineNumber } : undefined;
  }
}

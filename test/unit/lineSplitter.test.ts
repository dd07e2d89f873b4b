import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.js';
import { type Line, LineSplitter } from '../../src/input/lineSplitter.js';

/** Feeds the chunks through a splitter and returns [line number, text] pairs. */
function split(chunks: (string | Buffer)[]): [number, string][] {
  return splitLines(chunks).map((line) => [line.number, line.bytes.toString('latin1')]);
}

function splitLines(chunks: (string | Buffer)[]): Line[] {
  const splitter = new LineSplitter();
  const lines: Line[] = [];
  for (const chunk of chunks) {
    // Copy each line: a line may point into the chunk it came from.
    for (const line of splitter.push(Buffer.from(chunk)))
      lines.push({ ...line, bytes: Buffer.from(line.bytes) });
  }
  for (const line of splitter.end()) lines.push({ ...line, bytes: Buffer.from(line.bytes) });
  return lines;
}

describe('LineSplitter', () => {
  it('splits one chunk into numbered lines', () => {
    expect(split(['a\nbb\nccc\n'])).toEqual([
      [1, 'a'],
      [2, 'bb'],
      [3, 'ccc'],
    ]);
  });

  it('yields a last line that has no newline at the end', () => {
    expect(split(['a\nlast'])).toEqual([
      [1, 'a'],
      [2, 'last'],
    ]);
  });

  it('joins a line split across chunks, at any byte', () => {
    const text = '{"body":"héllo"}\n{"body":"2"}\n';
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut += 1) {
      const lines = splitLines([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(lines.map((l) => [l.number, l.bytes.toString('utf8')])).toEqual([
        [1, '{"body":"héllo"}'],
        [2, '{"body":"2"}'],
      ]);
    }
  });

  it('joins a line spread over many one-byte chunks', () => {
    expect(split([...'ab\ncd'])).toEqual([
      [1, 'ab'],
      [2, 'cd'],
    ]);
  });

  it('skips empty lines but still counts them, so numbers match the file', () => {
    expect(split(['\na\n\n\nb\n\n'])).toEqual([
      [2, 'a'],
      [5, 'b'],
    ]);
  });

  it('drops the \\r of a CRLF line ending, also when \\r and \\n arrive in different chunks', () => {
    expect(split(['a\r\nb\r', '\nc\r\n'])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });

  it('drops only one trailing \\r and keeps a \\r inside the line', () => {
    expect(split(['a\rb\r\r\n'])).toEqual([[1, 'a\rb\r']]);
  });

  it('counts a line of only \\r as an empty line', () => {
    expect(split(['\r\nx\n'])).toEqual([[2, 'x']]);
  });

  it('keeps binary bytes exactly, without decoding', () => {
    const line = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0d, 0x41]);
    const lines = splitLines([Buffer.concat([line, Buffer.from([0x0a]), line])]);
    expect(lines.map((l) => l.bytes)).toEqual([line, line]);
  });

  it('yields nothing for empty input', () => {
    expect(split([])).toEqual([]);
    expect(split(['', ''])).toEqual([]);
  });

  it('end() yields nothing more once the input ended on a newline', () => {
    const splitter = new LineSplitter();
    expect([...splitter.push(Buffer.from('a\n'))]).toHaveLength(1);
    expect([...splitter.end()]).toEqual([]);
  });
});

describe('LineSplitter: a line too long to keep', () => {
  /** The lines a splitter of at most `max` bytes a line yields, and the error it ends with. */
  function splitCapped(chunks: string[], max: number): { lines: string[]; error: string | undefined } {
    const splitter = new LineSplitter(max);
    const lines: string[] = [];
    try {
      for (const chunk of chunks) {
        for (const line of splitter.push(Buffer.from(chunk))) lines.push(line.bytes.toString());
      }
      for (const line of splitter.end()) lines.push(line.bytes.toString());
    } catch (error) {
      expect(error).toBeInstanceOf(DataError);
      return { lines, error: (error as DataError).message };
    }
    return { lines, error: undefined };
  }

  it('yields the lines before it, then refuses it by number (exit 65)', () => {
    expect(splitCapped(['ab\n\ncd\n0123456789x\nok\n'], 10)).toEqual({
      lines: ['ab', 'cd'],
      error: expect.stringMatching(/^line 4: over 10 bytes, more than RabbitMQ accepts in one message/),
    });
  });

  it('stops an endless line as soon as it is too long, over many chunks and with no newline', () => {
    const result = splitCapped(['ok\n012', '345', '6789', 'x', 'never read'], 10);
    expect(result.lines).toEqual(['ok']);
    expect(result.error).toMatch(/^line 2: over 10 bytes/);
  });

  it('keeps a line of exactly the limit', () => {
    expect(splitCapped(['01234', '56789\n'], 10)).toEqual({ lines: ['0123456789'], error: undefined });
  });
});

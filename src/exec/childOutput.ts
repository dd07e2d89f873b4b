import { StringDecoder } from 'node:string_decoder';
import { redact } from '../redact.js';

/**
 * A line longer than this is passed on in pieces: a child that never ends a line must not
 * make warren hold its output without limit. (A password cut in two by such a piece would
 * not be masked; no real line is that long.)
 */
const MAX_LINE = 64 * 1024;

export interface LineForwarder {
  write(chunk: Buffer): void;
  /** Passes on what is left of an unended last line (ended, when lines are prefixed). */
  end(): void;
}

/**
 * Passes a child's output (a handler's, a trigger's) on to warren's stderr a line at a time,
 * each line with the prefix and with warren's secrets masked (`redact`): a handler that
 * prints a URL it was given, or a library error quoting it, shows no password. Whole lines,
 * so that a password split across two reads is still found. The bytes are otherwise the
 * child's own (its colours too): what a command prints is its business, not warren's.
 */
export function lineForwarder(out: NodeJS.WritableStream, prefix: string): LineForwarder {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const pass = (text: string) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    if (pending.length > MAX_LINE) {
      lines.push(pending);
      pending = '';
    }
    if (lines.length > 0) out.write(lines.map((line) => `${prefix}${redact(line)}\n`).join(''));
  };
  return {
    write: (chunk) => pass(decoder.write(chunk)),
    end: () => {
      pass(decoder.end());
      // Unprefixed output is passed on as it was, an unended last line too.
      if (pending !== '') out.write(`${prefix}${redact(pending)}${prefix === '' ? '' : '\n'}`);
      pending = '';
    },
  };
}

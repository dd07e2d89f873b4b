import { redact } from '../redact.js';

/**
 * Text that came from outside (a queue name, a broker's error, a header, an environment
 * variable) must not drive the reader's terminal: its control characters (escape and OSC
 * sequences, bells, carriage returns, C1 controls) are shown as `\xNN` instead.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** The same, and a line break or tab too: a line for a person stays one line. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const LINE_CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

const escaped = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** Control characters escaped; newlines and tabs kept (a message body, a stack trace). */
export function visible(text: string): string {
  return text.replace(CONTROLS, escaped);
}

/** A name for a person, on one line: every control character, line breaks too, escaped. */
export function oneLine(text: string): string {
  return text.replace(LINE_CONTROLS, escaped);
}

/**
 * One line for a person on stderr: secrets masked (redact), then every control character
 * escaped, so whatever the broker or the user named things, the line is one line and
 * prints as the characters it holds.
 */
export function humanLine(text: string): string {
  return redact(text).replace(LINE_CONTROLS, escaped);
}

/** Several lines (a stack trace), each made one safe line. */
export function humanLines(text: string): string {
  return text.split('\n').map(humanLine).join('\n');
}

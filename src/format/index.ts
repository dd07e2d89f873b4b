import type { ReceivedMessage } from '../broker/message.js';
import type { Format } from '../choices.js';
import type { Paint } from '../ui/colour.js';
import { formatBody } from './body.js';
import { formatNdjson } from './ndjson.js';
import { createPrettyFormatter } from './pretty.js';
import { compileTemplate } from './template.js';

/** A record: text, bytes, or bytes in pieces (written one after the other). */
export type Formatter = (message: ReceivedMessage) => string | Buffer | Buffer[];

/** A record as one piece, where one is needed. */
export function recordBytes(record: string | Buffer | Buffer[]): string | Buffer {
  return Array.isArray(record) ? Buffer.concat(record) : record;
}

/** What pretty output fits itself to: the terminal stdout is, if it is one. */
export interface Screen {
  columns?: number | undefined;
  rows?: number | undefined;
  isTTY?: boolean | undefined;
}

/** Body lines a pretty block shows on a terminal of `rows`: the rest of the screen, at least 10. */
export function bodyLinesFor(screen: Screen | undefined, full: boolean): number | undefined {
  if (full || !screen?.isTTY || !screen.rows) return undefined;
  return Math.max(10, screen.rows - 8);
}

/** `--template` wins over `--format`; formatters get their colours, they never import chalk. */
export function createFormatter(options: {
  format: Format;
  template?: string | undefined;
  paint: Paint;
  /** Pretty output: the terminal to fit, and whether to show long bodies whole (--full). */
  screen?: Screen;
  full?: boolean;
}): Formatter {
  if (options.template !== undefined) return compileTemplate(options.template);
  switch (options.format) {
    case 'ndjson':
      return formatNdjson;
    case 'body':
      return formatBody;
    case 'pretty':
      return fittedPretty(options.paint, options.screen, options.full === true);
  }
}

/**
 * Pretty output fitted to the screen's size when each message is shown, not when warren
 * started: a terminal resized meanwhile (Node updates a TTY's columns and rows on SIGWINCH)
 * gets blocks of its new size.
 */
function fittedPretty(paint: Paint, screen: Screen | undefined, full: boolean): Formatter {
  let fitted: { columns: number | undefined; bodyLines: number | undefined; format: Formatter } | undefined;
  return (message) => {
    const columns = screen?.isTTY ? screen.columns : undefined;
    const bodyLines = bodyLinesFor(screen, full);
    if (!fitted || fitted.columns !== columns || fitted.bodyLines !== bodyLines) {
      fitted = { columns, bodyLines, format: createPrettyFormatter({ paint, columns, bodyLines }) };
    }
    return fitted.format(message);
  };
}

import { isUtf8 } from 'node:buffer';
import type { TypedValue } from '../broker/fieldTable.js';
import type { ReceivedMessage } from '../broker/message.js';
import type { Paint } from '../ui/colour.js';
import { visible } from '../ui/terminalText.js';

export interface PrettyOptions {
  paint: Paint;
  /** Bytes of a binary body shown as hex before the rest is summarised. */
  hexBytes?: number;
  /** The terminal's width: the properties line wraps to it (80 when not known). */
  columns?: number;
  /** Body lines shown before the rest is summarised; undefined shows it all (--full, a pipe). */
  bodyLines?: number;
}

function time(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** Seconds since the epoch as a UTC time; the number itself where no date can show it (past year 275760). */
function timeText(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString().replace('.000Z', 'Z');
}

function headerValue(value: TypedValue): string {
  if (typeof value === 'string') return visible(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && '!' in value) {
    const typed = value as { '!': string; value: unknown };
    if (typed['!'] === 'timestamp' && typeof typed.value === 'number') {
      return `${timeText(typed.value)} (timestamp)`;
    }
    return `${visible(JSON.stringify(typed.value))} (${typed['!']})`;
  }
  return visible(JSON.stringify(value));
}

function colourJson(text: string, paint: Paint): string {
  return text.replace(
    /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
    (match, str: string | undefined, colon: string | undefined, literal: string | undefined) => {
      if (str) return colon ? `${paint.blue(str)}${colon}` : paint.green(str);
      if (literal) return paint.magenta(literal);
      return paint.yellow(match);
    },
  );
}

/**
 * Bytes a hex dump row shows: 16, as xxd and hexdump -C show them, halved while a row would
 * be wider than the terminal (a row of n bytes takes 11 + 4n columns), down to 4.
 */
function hexRowBytes(columns: number | undefined): number {
  let bytes = 16;
  while (bytes > 4 && columns !== undefined && 11 + 4 * bytes > columns) bytes /= 2;
  return bytes;
}

/**
 * Offset, bytes in hex, the same bytes as text, for at most `limit` bytes. The dump is no
 * taller than those bytes take at 16 a row, or than the rows a body may take if more: on a
 * narrow terminal it shows fewer bytes rather than push the message's title off the screen.
 */
function hexDump(
  body: Buffer,
  limit: number,
  columns: number | undefined,
  bodyLines: number | undefined,
): string {
  const perRow = hexRowBytes(columns);
  const rows = Math.max(Math.ceil(limit / 16), bodyLines ?? 0);
  const lines: string[] = [];
  const shown = body.subarray(0, Math.min(limit, rows * perRow));
  for (let offset = 0; offset < shown.length; offset += perRow) {
    const row = shown.subarray(offset, offset + perRow);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(3 * perRow - 1)}  ${ascii}`);
  }
  if (body.length > shown.length) lines.push(`… ${body.length - shown.length} more bytes`);
  return lines.join('\n');
}

/**
 * Cuts text to what fits in `rows` rows of a terminal `columns` wide (a long line takes a
 * row per `columns` characters), saying what was left out: a long body must not scroll the
 * message's own title off the screen. Never cuts a character in two.
 */
function truncate(text: string, rows: number | undefined, columns: number): { text: string; note: string } {
  if (rows === undefined) return { text, note: '' };
  let used = 0;
  let end = 0;
  while (end < text.length) {
    const newline = text.indexOf('\n', end);
    const lineEnd = newline === -1 ? text.length : newline;
    const lineRows = Math.max(1, Math.ceil((lineEnd - end) / columns));
    if (used + lineRows > rows) {
      // Part of this line still fits: as many whole rows of it as there is room for.
      const room = (rows - used) * columns;
      if (room > 0) {
        end += room;
        // A surrogate pair is one character: keep both halves on the same side.
        const code = text.charCodeAt(end - 1);
        if (code >= 0xd800 && code <= 0xdbff) end -= 1;
      }
      break;
    }
    used += lineRows;
    end = newline === -1 ? text.length : newline + 1;
  }
  if (end >= text.length) return { text, note: '' };
  const rest = text.slice(end);
  const kept = text.slice(0, end).replace(/\n$/, '');
  if (text[end - 1] === '\n') {
    const more = rest.split('\n').length - (rest.endsWith('\n') ? 1 : 0);
    return { text: kept, note: `… ${more} more line${more === 1 ? '' : 's'} (--full shows all)` };
  }
  const characters = [...rest].length;
  return { text: kept, note: `… ${characters} more characters (--full shows all)` };
}

function bodyText(
  body: Buffer,
  paint: Paint,
  hexBytes: number,
  lines: number | undefined,
  columns: number,
  /** The terminal's own width, even below the 40 that text is wrapped to: the dump fits it. */
  screenColumns: number | undefined,
): string {
  if (body.length === 0) return paint.dim('(empty body)');
  if (!isUtf8(body)) {
    return `${paint.dim(`binary, ${body.length} bytes`)}\n${hexDump(body, hexBytes, screenColumns, lines)}`;
  }
  const text = body.toString('utf8');
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      const shown = truncate(visible(JSON.stringify(JSON.parse(text), null, 2)), lines, columns);
      return colourJson(shown.text, paint) + (shown.note ? `\n${paint.dim(shown.note)}` : '');
    } catch {
      // Not JSON after all: shown as text.
    }
  }
  const shown = truncate(visible(text), lines, columns);
  return shown.text + (shown.note ? `\n${paint.dim(shown.note)}` : '');
}

/** Each exchange keeps one colour, so messages from different exchanges stand apart. */
const EXCHANGE_COLOURS = ['cyan', 'magenta', 'blue', 'green', 'yellow'] as const;

function exchangeColour(name: string, paint: Paint): (text: string) => string {
  let hash = 0;
  for (let i = 0; i < name.length; i += 1) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  return paint[EXCHANGE_COLOURS[hash % EXCHANGE_COLOURS.length] ?? 'cyan'];
}

/** `name: value` items, two spaces apart, wrapped to the width, each line indented. */
export function wrapItems(items: { plain: string; painted: string }[], columns: number): string[] {
  const lines: string[] = [];
  let line = '';
  let width = 0;
  for (const item of items) {
    if (width > 0 && 2 + width + 2 + item.plain.length > columns) {
      lines.push(`  ${line}`);
      line = '';
      width = 0;
    }
    line += width > 0 ? `  ${item.painted}` : item.painted;
    width += (width > 0 ? 2 : 0) + item.plain.length;
  }
  if (width > 0) lines.push(`  ${line}`);
  return lines;
}

/** A readable block per message, for a person at a terminal. */
export function createPrettyFormatter(options: PrettyOptions): (message: ReceivedMessage) => string {
  const { paint } = options;
  const hexBytes = options.hexBytes ?? 256;
  const columns = Math.max(40, options.columns ?? 80);
  return (message) => {
    const exchange =
      message.exchange === ''
        ? paint.dim('(default)')
        : paint.bold(exchangeColour(message.exchange, paint)(visible(message.exchange)));
    const title = [
      paint.dim(time(message.receivedAt)),
      `${exchange} ${paint.dim('→')} ${paint.bold(visible(message.routingKey))}`,
      message.redelivered ? paint.yellow('redelivered') : '',
      paint.dim(`${message.body.length} B`),
    ]
      .filter(Boolean)
      .join('  ');
    const lines = [title];
    const props = Object.entries(message.properties).map(([k, v]) => {
      // Seconds since the epoch mean nothing at a glance: the time, in UTC.
      const value = k === 'timestamp' && typeof v === 'number' ? timeText(v) : visible(String(v));
      return { plain: `${k}: ${value}`, painted: `${paint.dim(`${k}:`)} ${value}` };
    });
    lines.push(...wrapItems(props, columns));
    for (const [key, value] of Object.entries(message.headers ?? {})) {
      lines.push(`  ${paint.dim(`${visible(key)}:`)} ${headerValue(value)}`);
    }
    if (message.warning) lines.push(`  ${paint.yellow(`warning: ${visible(message.warning)}`)}`);
    lines.push(bodyText(message.body, paint, hexBytes, options.bodyLines, columns, options.columns));
    return `${lines.join('\n')}\n\n`;
  };
}

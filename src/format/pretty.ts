import { isUtf8 } from 'node:buffer';
import type { ReceivedMessage } from '../broker/envelope.js';
import type { TypedValue } from '../broker/fieldTable.js';
import type { Paint } from '../ui/colour.js';

export interface PrettyOptions {
  paint: Paint;
  /** Bytes of a binary body shown as hex before the rest is summarised. */
  hexBytes?: number;
}

function time(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * Text from a message must not drive the viewer's terminal: control characters (escape
 * sequences, bells, C1 controls) are shown as `\xNN` instead. Newlines and tabs stay.
 */
export function visible(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

function headerValue(value: TypedValue): string {
  if (typeof value === 'string') return visible(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && '!' in value) {
    const typed = value as { '!': string; value: unknown };
    if (typed['!'] === 'timestamp' && typeof typed.value === 'number') {
      return `${new Date(typed.value * 1000).toISOString()} (timestamp)`;
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

function hexDump(body: Buffer, limit: number): string {
  const lines: string[] = [];
  const shown = body.subarray(0, limit);
  for (let offset = 0; offset < shown.length; offset += 16) {
    const row = shown.subarray(offset, offset + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (body.length > limit) lines.push(`… ${body.length - limit} more bytes`);
  return lines.join('\n');
}

function bodyText(body: Buffer, paint: Paint, hexBytes: number): string {
  if (body.length === 0) return paint.dim('(empty body)');
  if (!isUtf8(body)) return `${paint.dim(`binary, ${body.length} bytes`)}\n${hexDump(body, hexBytes)}`;
  const text = body.toString('utf8');
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      return colourJson(visible(JSON.stringify(JSON.parse(text), null, 2)), paint);
    } catch {
      // Not JSON after all: shown as text.
    }
  }
  return visible(text);
}

/** A readable block per message, for a person at a terminal. */
export function createPrettyFormatter(options: PrettyOptions): (message: ReceivedMessage) => string {
  const { paint } = options;
  const hexBytes = options.hexBytes ?? 256;
  return (message) => {
    const exchange =
      message.exchange === '' ? paint.dim('(default)') : paint.cyan(paint.bold(visible(message.exchange)));
    const title = [
      paint.dim(time(message.receivedAt)),
      `${exchange} ${paint.dim('→')} ${paint.bold(visible(message.routingKey))}`,
      message.redelivered ? paint.yellow('redelivered') : '',
      paint.dim(`${message.body.length} B`),
    ]
      .filter(Boolean)
      .join('  ');
    const lines = [title];
    const props = Object.entries(message.properties).map(
      ([k, v]) => `${paint.dim(`${k}:`)} ${visible(String(v))}`,
    );
    if (props.length > 0) lines.push(`  ${props.join('  ')}`);
    for (const [key, value] of Object.entries(message.headers ?? {})) {
      lines.push(`  ${paint.dim(`${visible(key)}:`)} ${headerValue(value)}`);
    }
    lines.push(bodyText(message.body, paint, hexBytes));
    return `${lines.join('\n')}\n\n`;
  };
}

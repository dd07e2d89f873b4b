import { isUtf8 } from 'node:buffer';
import type { ReceivedMessage } from '../broker/message.js';
import { PROPERTIES_HINT, unknownProperty } from '../envelope.js';
import { UsageError } from '../errors.js';

type Part = string | ((message: ReceivedMessage) => string);

const FIELDS: Record<string, (message: ReceivedMessage) => unknown> = {
  exchange: (m) => m.exchange,
  routingKey: (m) => m.routingKey,
  redelivered: (m) => m.redelivered,
  body: (m) => (isUtf8(m.body) ? m.body.toString('utf8') : m.body.toString('base64')),
  bodyEncoding: (m) => (isUtf8(m.body) ? 'utf8' : 'base64'),
  bodySize: (m) => m.body.length,
  receivedAt: (m) => m.receivedAt.toISOString(),
  properties: (m) => m.properties,
  headers: (m) => m.headers ?? {},
};

const TEMPLATE_FIELDS = [...Object.keys(FIELDS), 'properties.NAME', 'headers.NAME'];

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  // A typed header value prints as its value: {headers.x-count} gives 7, not {"!":…}.
  // One level only: the value of a typed table is data, even if it has a "!" key itself.
  if (typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, '!')) {
    const inner = (value as { value: unknown }).value;
    return typeof inner === 'string' ? inner : JSON.stringify(inner);
  }
  return JSON.stringify(value);
}

function ownValue(record: object | undefined, key: string): unknown {
  return record !== undefined && Object.hasOwn(record, key)
    ? (record as Record<string, unknown>)[key]
    : undefined;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', '{': '{', '}': '}' };

/**
 * Compiles `--template` once: `{routingKey}`, `{headers.x-id}`, `{properties.messageId}`…
 * `\n`, `\t`, `\{` and `\\` are escapes. Unknown placeholders are a usage error.
 */
export function compileTemplate(template: string): (message: ReceivedMessage) => string {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < template.length; i += 1) {
    const char = template[i] as string;
    if (char === '\\' && i + 1 < template.length) {
      const escaped = ESCAPES[template[i + 1] as string];
      if (escaped !== undefined) {
        literal += escaped;
        i += 1;
        continue;
      }
    }
    if (char !== '{') {
      literal += char;
      continue;
    }
    const close = template.indexOf('}', i);
    if (close === -1) throw new UsageError(`--template: '{' at position ${i + 1} is never closed`);
    parts.push(literal);
    literal = '';
    parts.push(placeholder(template.slice(i + 1, close)));
    i = close;
  }
  parts.push(literal);
  return (message) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : part(message);
    return `${out}\n`;
  };
}

function placeholder(name: string): (message: ReceivedMessage) => string {
  // Own keys only: `{constructor}` or `{headers.toString}` must not find Object's own.
  const direct = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined;
  if (direct) return (m) => text(direct(m));
  const dot = name.indexOf('.');
  const scope = name.slice(0, dot);
  const key = name.slice(dot + 1);
  if (dot > 0 && key && scope === 'properties') {
    // A misspelt property would print nothing on every line: refused like {nope}.
    const guess = unknownProperty(key);
    if (guess !== undefined)
      throw new UsageError(`--template: unknown placeholder {${name}}${guess}`, { hint: PROPERTIES_HINT });
    return (m) => text(ownValue(m.properties, key));
  }
  // Headers are free-form: any name may be set on some message.
  if (dot > 0 && key && scope === 'headers') return (m) => text(ownValue(m.headers, key));
  throw new UsageError(`--template: unknown placeholder {${name}}`, {
    hint: `known: ${TEMPLATE_FIELDS.map((f) => `{${f}}`).join(' ')}`,
  });
}

import { parseDuration } from './duration.js';
import { UsageError } from './errors.js';

/** What `warren tail` watches; parsed with the command line, kept light to load. */
export interface TailSource {
  exchange: string;
  /** The binding key given after `:`; undefined means "everything" for the exchange's type. */
  key: string | undefined;
}

/** What is wrong with a queue or exchange name the broker would refuse (over 255 bytes), if anything. */
export function nameTooLong(what: string, name: string): string | undefined {
  const bytes = Buffer.byteLength(name);
  return bytes > 255 ? `${what} is ${bytes} bytes, over the 255 a name may have` : undefined;
}

/** `orders`, `orders:order.*`; the exchange name ends at the first `:`. */
export function parseSource(text: string): TailSource {
  const colon = text.indexOf(':');
  const exchange = colon === -1 ? text : text.slice(0, colon);
  if (exchange === '') {
    throw new UsageError(`'${text}': the default exchange cannot be tailed (it routes by queue name only)`, {
      hint: 'tail the exchange your publisher uses, or peek at the queue: warren consume QUEUE --ack-mode requeue',
    });
  }
  const tooLong = nameTooLong('the exchange name', exchange);
  if (tooLong) throw new UsageError(tooLong);
  const key = colon === -1 ? undefined : text.slice(colon + 1);
  if (key !== undefined && Buffer.byteLength(key) > 255)
    throw new UsageError('the binding key is over 255 bytes');
  return { exchange, key };
}

/**
 * Where to start reading a stream: `first`, `last`, `next`, an offset number, a time
 * (ISO 8601), or a duration ago (`10m`, `1h ago`). Returns the x-stream-offset value.
 */
export function parseStreamOffset(text: string, now = Date.now()): unknown {
  if (text === 'first' || text === 'last' || text === 'next') return text;
  if (/^\d+$/.test(text)) return { '!': 'int64', value: text };
  const ago = text.replace(/\s*ago$/, '');
  if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(ago)) {
    return { '!': 'timestamp', value: Math.floor((now - parseDuration(ago)) / 1000) };
  }
  // Date.parse takes almost anything ('-5' is a year): only a date in ISO form is a time.
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isNaN(time)) return { '!': 'timestamp', value: Math.floor(time / 1000) };
  throw new UsageError(
    `--offset: '${text}' is not first, last, next, an offset, a time (ISO 8601) or a duration ago (10m)`,
  );
}

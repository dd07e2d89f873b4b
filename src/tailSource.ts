import { UsageError } from './errors.js';

/** What `warren tail` watches; parsed with the command line, kept light to load. */
export interface TailSource {
  exchange: string;
  /** The binding key given after `:`; undefined means "everything" for the exchange's type. */
  key: string | undefined;
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
  return { exchange, key: colon === -1 ? undefined : text.slice(colon + 1) };
}

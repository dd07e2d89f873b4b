import type { ChalkInstance } from 'chalk';
import type { ReceivedMessage } from '../broker/envelope.js';
import type { Format } from '../choices.js';
import { formatBody } from './body.js';
import { formatNdjson } from './ndjson.js';
import { createPrettyFormatter } from './pretty.js';
import { compileTemplate } from './template.js';

export type Formatter = (message: ReceivedMessage) => string | Buffer;

/** `--template` wins over `--format`; formatters get chalk, they never import it. */
export function createFormatter(options: {
  format: Format;
  template?: string;
  chalk: ChalkInstance;
}): Formatter {
  if (options.template !== undefined) return compileTemplate(options.template);
  switch (options.format) {
    case 'ndjson':
      return formatNdjson;
    case 'body':
      return formatBody;
    case 'pretty':
      return createPrettyFormatter({ chalk: options.chalk });
  }
}

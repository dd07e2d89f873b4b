import type { ReceivedMessage } from '../broker/envelope.js';
import type { Format } from '../choices.js';
import type { Paint } from '../ui/colour.js';
import { formatBody } from './body.js';
import { formatNdjson } from './ndjson.js';
import { createPrettyFormatter } from './pretty.js';
import { compileTemplate } from './template.js';

export type Formatter = (message: ReceivedMessage) => string | Buffer;

/** `--template` wins over `--format`; formatters get their colours, they never import chalk. */
export function createFormatter(options: { format: Format; template?: string; paint: Paint }): Formatter {
  if (options.template !== undefined) return compileTemplate(options.template);
  switch (options.format) {
    case 'ndjson':
      return formatNdjson;
    case 'body':
      return formatBody;
    case 'pretty':
      return createPrettyFormatter({ paint: options.paint });
  }
}

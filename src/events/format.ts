/** How `warren events` writes an event: one NDJSON record, or one short block for a person. */
import type { Screen } from '../format/index.js';
import { wrapItems } from '../format/pretty.js';
import type { Paint } from '../ui/colour.js';
import { visibleInLine as visible } from '../ui/terminalText.js';
import type { EventRecord, EventValue } from './record.js';

export type EventFormat = 'pretty' | 'ndjson';

export function eventNdjson(record: EventRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** Local time of day, to the millisecond, as pretty output shows messages. */
function clock(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** Things made or started read green, things removed or ended yellow, failures red. */
function eventColour(event: string, paint: Paint): (text: string) => string {
  if (/fail|error|alarm|blocked/.test(event)) return paint.red;
  if (/\.(deleted|closed|cleared|removed|expired)$/.test(event)) return paint.yellow;
  if (/\.(created|set|success|added|unblocked)$/.test(event)) return paint.green;
  return paint.cyan;
}

function empty(value: EventValue): boolean {
  if (value === '' || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

function valueText(value: EventValue): string {
  return visible(typeof value === 'string' ? value : JSON.stringify(value));
}

/**
 * Pretty output: the time, the event and its name on the first line, then its other fields
 * as `key=value`, wrapped to the terminal's width. Empty fields are left out (NDJSON has all).
 */
export function eventPretty(paint: Paint, screen: Screen | undefined): (record: EventRecord) => string {
  return (record) => {
    const columns = Math.max(40, (screen?.isTTY ? screen.columns : undefined) ?? 80);
    const { event, time, name, ...fields } = record;
    const title = [paint.dim(clock(time)), paint.bold(eventColour(event, paint)(visible(event)))];
    if (name !== undefined && !empty(name)) title.push(paint.bold(valueText(name)));
    const items = Object.entries(fields)
      .filter(([, value]) => !empty(value as EventValue))
      .map(([key, value]) => {
        const text = valueText(value as EventValue);
        return { plain: `${visible(key)}=${text}`, painted: `${paint.dim(`${visible(key)}=`)}${text}` };
      });
    const lines = [title.join('  '), ...wrapItems(items, columns)];
    return `${lines.join('\n')}\n`;
  };
}

import { UsageError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The longest one timer can wait (2^31 - 1 ms, about 24.8 days): Node fires a longer one at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Parses `500ms`, `10s`, `5m`, `1h` (or a combination such as `1m30s`) into milliseconds. */
export function parseDuration(text: string, flag = 'duration'): number {
  const trimmed = text.trim();
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    consumed += match[0].length;
  }
  if (trimmed === '' || consumed !== trimmed.length) {
    throw new UsageError(`${flag}: '${text}' is not a duration`, {
      hint: 'use a number with a unit: 500ms, 10s, 5m, 1h',
    });
  }
  const ms = Math.round(total);
  // `99999999999999999999h` is a number, but not one of milliseconds anything can wait.
  if (!Number.isSafeInteger(ms)) throw new UsageError(`${flag}: '${text}' is too long a duration`);
  return ms;
}

/** `30d` (days), or any duration (`12h`), as a number of days: certificate lifetimes. */
export function parseDays(text: string, flag = 'days'): number {
  const match = /^(\d+(?:\.\d+)?)d$/.exec(text.trim());
  if (match) return Number(match[1]);
  try {
    return parseDuration(text, flag) / 86_400_000;
  } catch {
    throw new UsageError(`${flag}: '${text}' is not a number of days (30d) or a duration (12h)`);
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  // Without trailing zeros: a configured 2s reads `2s`, a measured 6.26 s `6.26s`.
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1).replace(/\.?0+$/, '')}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

/**
 * How flag and argument values are read: each reader throws InvalidArgumentError, which
 * commander reports as a usage error (exit 2) naming the flag.
 */
import { InvalidArgumentError } from 'commander';
import { fromAlteredArgument } from '../argvBytes.js';
import { type FieldTable, FieldValueError, setField } from '../broker/fieldTable.js';
import { encodableFromTyped, encodableHeaders } from '../broker/fieldTableEncode.js';
import { unsendableText } from '../broker/wireText.js';
import { MAX_TIMER_MS, parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { JsonTextError, parseJson, TOO_DEEP } from '../json.js';
import { nameTooLong } from '../tailSource.js';

export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`expected a whole number, got '${value}'`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be from ${min} to ${max}, got ${value}`);
    return n;
  };
}

/** `N` or `MIN-MAX`: whole numbers from `min` to `max`, as a range (`N` is N-N). */
export function integerRange(min: number, max = Number.MAX_SAFE_INTEGER) {
  const bound = integer(min, max);
  return (value: string): { min: number; max: number } => {
    const parts = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(value);
    if (!parts) throw new InvalidArgumentError(`expected N or MIN-MAX (whole numbers), got '${value}'`);
    const low = bound(parts[1] as string);
    const high = parts[2] === undefined ? low : bound(parts[2]);
    if (low > high) throw new InvalidArgumentError(`MIN is above MAX in '${value}'`);
    return { min: low, max: high };
  };
}

export function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch {
    throw new InvalidArgumentError(`'${value}' is not a duration (use 500ms, 10s, 5m, 1h)`);
  }
}

/** A duration warren waits with a timer (timeouts, grace periods): at most MAX_TIMER_MS. */
export function timerDuration(value: string): number {
  const ms = duration(value);
  if (ms > MAX_TIMER_MS) throw new InvalidArgumentError(`'${value}' is too long: at most 24d (596h)`);
  return ms;
}

/** How long a run goes on (bench, latency): a timer's duration, above 0. */
export function runDuration(value: string): number {
  const ms = timerDuration(value);
  if (ms === 0) throw new InvalidArgumentError(`'${value}' is no time at all: give more than 0 (10s, 1m)`);
  return ms;
}

/** ISO 8601 as people write it: a date, then maybe a time and a zone. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `--timestamp`: now, whole seconds since the epoch, or an ISO 8601 time, from 1970 on. */
export function timestamp(value: string): number {
  if (value === 'now') return Math.floor(Date.now() / 1000);
  const seconds = /^\d+$/.test(value)
    ? Number(value)
    : ISO_8601.test(value)
      ? Math.floor(Date.parse(value) / 1000)
      : Number.NaN;
  if (Number.isNaN(seconds)) {
    throw new InvalidArgumentError(
      `'${value}' is not a time (use now, seconds since the epoch, or ISO 8601 such as 2026-11-27T09:00:00Z)`,
    );
  }
  // A date shows times up to the year 275760; beyond, no reader could make sense of it.
  if (seconds < 0 || Number.isNaN(new Date(seconds * 1000).getTime())) {
    throw new InvalidArgumentError(`'${value}' is out of range (from 1970 to the year 275760)`);
  }
  return seconds;
}

/**
 * Why an argument cannot be sent as it was given, if so: bytes that were not UTF-8 (Node
 * read them as U+FFFD), or a lone surrogate (from a JSON escape such as `\ud800`).
 */
export function unsendableArgument(value: string): string | undefined {
  if (fromAlteredArgument(value)) {
    return 'is not valid UTF-8 as given (it would be sent with U+FFFD in place of those bytes)';
  }
  return unsendableText(value);
}

/** A queue or exchange name: the broker takes at most 255 bytes. */
export function brokerName(what: string) {
  return (value: string): string => {
    const problem = nameTooLong(what, value) ?? prefixed(what, unsendableArgument(value));
    if (problem) throw new InvalidArgumentError(problem);
    return value;
  };
}

export function shortString(flag: string) {
  return (value: string): string => {
    if (Buffer.byteLength(value) > 255) throw new InvalidArgumentError(`${flag} is over 255 bytes`);
    const problem = unsendableArgument(value);
    if (problem) throw new InvalidArgumentError(`${flag} ${problem}`);
    return value;
  };
}

export function prefixed(what: string, problem: string | undefined): string | undefined {
  return problem && `${what} ${problem}`;
}

/**
 * `-H key=value` is a string header; `-H key:=JSON` a typed one (numbers, booleans, `{"!":…}`).
 * Returns them in the envelope's typed form and in the form the client library encodes.
 */
export function headerFlags(
  flags: string[],
  flag = '--header',
): { typed: FieldTable; encoded: Record<string, unknown> } {
  const typed: FieldTable = {};
  const encoded: Record<string, unknown> = {};
  for (const given of flags) {
    const equals = given.indexOf('=');
    if (equals <= 0 || (equals === 1 && given[0] === ':')) {
      throw new UsageError(`${flag} '${given}': expected key=value or key:=JSON`);
    }
    const isTyped = given[equals - 1] === ':';
    const key = given.slice(0, isTyped ? equals - 1 : equals);
    const raw = given.slice(equals + 1);
    if (Buffer.byteLength(key) > 255)
      throw new UsageError(`${flag} '${key.slice(0, 20)}…': key is over 255 bytes`);
    const unsendable =
      prefixed('the key', unsendableArgument(key)) ??
      (isTyped ? undefined : prefixed('the value', unsendableArgument(raw)));
    if (unsendable) throw new UsageError(`${flag} ${JSON.stringify(given)}: ${unsendable}`);
    if (!isTyped) {
      setField(typed, key, raw);
      setField(encoded, key, raw);
      continue;
    }
    let value: unknown;
    try {
      value = parseJson(raw);
    } catch (error) {
      if (!(error instanceof JsonTextError)) throw error;
      if (error.problem === TOO_DEEP) throw new UsageError(`${flag} '${key}': the JSON value is ${TOO_DEEP}`);
      throw new UsageError(`${flag} '${given}': '${raw}' is not JSON (use key=value for a string)`);
    }
    try {
      setField(encoded, key, encodableFromTyped(value, key));
    } catch (error) {
      if (error instanceof FieldValueError) throw new UsageError(`${flag}: ${error.message}`);
      throw error;
    }
    setField(typed, key, value);
  }
  try {
    encodableHeaders(typed, flag);
  } catch (error) {
    if (error instanceof FieldValueError) throw new UsageError(error.message);
    throw error;
  }
  return { typed, encoded };
}

/** The headers of `-H` flags, ready for the client library to encode. */
export function parseHeaderFlags(flags: string[], flag = '--header'): Record<string, unknown> {
  return headerFlags(flags, flag).encoded;
}

/** `--rate 100`, `100/s`, `30/m`: messages per second. */
export function rate(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/(s|m|h))?$/.exec(value.trim());
  const per = { s: 1, m: 60, h: 3600 }[(match?.[2] ?? 's') as 's' | 'm' | 'h'];
  const n = match ? Number(match[1]) / per : Number.NaN;
  if (!(n > 0) || !Number.isFinite(n))
    throw new InvalidArgumentError(`'${value}' is not a rate (use 100, 100/s, 30/m or 500/h)`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n > 0)) throw new InvalidArgumentError(`expected a number above 0, got '${value}'`);
  return n;
}

/**
 * `text` compiled as a JavaScript regular expression (ls and export's REGEX); when it is none,
 * `refuse` is told why in the engine's words without the pattern ("Invalid regular
 * expression: /(/: Unterminated group" gives "Unterminated group"), to name it its own way.
 */
export function checkedRegExp(text: string, refuse: (why: string) => never): RegExp {
  try {
    return new RegExp(text);
  } catch (error) {
    return refuse((error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ''));
  }
}

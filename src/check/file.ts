/**
 * The checks file of `warren check --file FILE`: several checks run in one go. Checked here
 * field by field, each error naming the field's path and its line and column (exit 65);
 * checks.schema.json at the repository's root says the same for editors, and a unit test
 * keeps the two in step.
 *
 * Each kind has its entry in FILE_KINDS: the keys its checks may have, and how they become
 * its CheckSpec. The fields are the kind's flags in camelCase, their values as the flags
 * take them (or, for durations, a number of milliseconds; for days, a number of days).
 */
import { parseDays } from '../duration.js';
import { UsageError } from '../errors.js';
import { failInFile, readFileText } from '../serve/jsonPositions.js';
import {
  checkKeys,
  expectObject,
  type Fail,
  milliseconds,
  parseJsonFile,
  stringField,
  wholeNumber,
} from '../topology/spec.js';
import type { CheckKind, CheckSpec } from './specs.js';

/** The keys the file's top level may have (the schema must list the same: a unit test checks). */
export const FILE_KEYS = ['$schema', 'checks'] as const;

/** The fields of one check of the file, read with the path and line of each named in errors. */
export class CheckFields {
  constructor(
    readonly record: Record<string, unknown>,
    readonly path: string,
    readonly fail: Fail,
  ) {}

  at(key: string): string {
    return `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.record[key] !== undefined;
  }

  /** A duration (`100ms`, `2s`) or a number of milliseconds, in milliseconds. */
  duration(key: string): number | undefined {
    return this.has(key) ? milliseconds(this.record[key], this.at(key), this.fail) : undefined;
  }

  /** A number of days, or a string as --cert-warn takes it (`30d`, `12h`), in days. */
  days(key: string): number | undefined {
    const value = this.record[key];
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
    if (typeof value === 'string') {
      try {
        return parseDays(value);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        throw this.fail(this.at(key), error.message.replace(/^days: /, ''));
      }
    }
    throw this.fail(this.at(key), 'must be a number of days, or a string such as "30d"');
  }

  /** A whole number from `min` on. */
  count(key: string, min = 0): number | undefined {
    return this.has(key) ? wholeNumber(this.record[key], this.at(key), this.fail, min) : undefined;
  }

  /** A required string (a queue, an exchange). */
  string(key: string): string {
    return stringField(this.record, key, this.path, this.fail);
  }

  /** One string or a list of them (`match`); none: an empty list. */
  strings(key: string): string[] {
    const value = this.record[key];
    if (value === undefined) return [];
    const list = Array.isArray(value) ? value : [value];
    if (list.some((item) => typeof item !== 'string')) {
      throw this.fail(this.at(key), 'must be a string or a list of strings');
    }
    return list as string[];
  }

  /** A share of something: a number above 0 and at most 1, or a percentage string ("80%"). */
  fraction(key: string): number | undefined {
    const value = this.record[key];
    if (value === undefined) return undefined;
    const share =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\s*\d+(\.\d+)?%\s*$/.test(value)
          ? Number(value.trim().slice(0, -1)) / 100
          : Number.NaN;
    if (!(share > 0 && share <= 1))
      throw this.fail(this.at(key), 'must be above 0 and at most 1 (0.8), or "80%"');
    return share;
  }

  /** A bound pair from two count fields (`warnDepth`, `maxDepth`). */
  bounds(warn: string, crit: string): { warn: number | undefined; crit: number | undefined } {
    return { warn: this.count(warn), crit: this.count(crit) };
  }
}

/** How the checks of one kind are read from the file. */
export interface FileKind<S extends CheckSpec = CheckSpec> {
  /** The keys a check of this kind may have, besides `kind` (the schema lists the same). */
  keys: readonly string[];
  read(fields: CheckFields): S;
}

/**
 * Each kind the file knows, by its `kind` value: every kind of specs.ts must have its entry
 * (the type says so), and checks.schema.json its $defs entry (checksFile.test.ts says so).
 */
export const FILE_KINDS: { [K in CheckKind]: FileKind<Extract<CheckSpec, { kind: K }>> } = {
  connection: {
    keys: ['warn', 'crit', 'certWarn', 'certCrit'],
    read: (f) => ({
      kind: 'connection',
      warnMs: f.duration('warn'),
      critMs: f.duration('crit'),
      certWarnDays: f.days('certWarn'),
      certCritDays: f.days('certCrit'),
    }),
  },
  queue: {
    keys: [
      'queue',
      'maxDepth',
      'warnDepth',
      'maxUnacked',
      'warnUnacked',
      'minConsumers',
      'warnMinConsumers',
      'maxConsumers',
      'warnMaxConsumers',
      'maxAge',
      'warnAge',
    ],
    read: (f) => ({
      kind: 'queue',
      queue: f.string('queue'),
      depth: f.bounds('warnDepth', 'maxDepth'),
      unacked: f.bounds('warnUnacked', 'maxUnacked'),
      minConsumers: f.bounds('warnMinConsumers', 'minConsumers'),
      maxConsumers: f.bounds('warnMaxConsumers', 'maxConsumers'),
      ageMs: { warn: f.duration('warnAge'), crit: f.duration('maxAge') },
    }),
  },
  message: {
    keys: ['queue', 'match', 'limit'],
    read: (f) => {
      const matches = f.strings('match');
      if (matches.length === 0) throw f.fail(f.at('match'), 'is required: what the message must match');
      return { kind: 'message', queue: f.string('queue'), matches, limit: f.count('limit', 1) ?? 1000 };
    },
  },
  rpc: {
    keys: ['exchange', 'key', 'body', 'within', 'warn', 'match'],
    read: (f) => {
      const withinMs = f.duration('within');
      if (withinMs === undefined) throw f.fail(f.at('within'), 'is required: how long the reply may take');
      return {
        kind: 'rpc',
        exchange: f.string('exchange'),
        routingKey: f.string('key'),
        body: f.string('body'),
        withinMs,
        warnMs: f.duration('warn'),
        matches: f.strings('match'),
      };
    },
  },
  topology: {
    keys: ['file'],
    read: (f) => ({ kind: 'topology', file: f.string('file') }),
  },
  node: {
    keys: ['memWarn'],
    read: (f) => ({ kind: 'node', memWarn: f.fraction('memWarn') }),
  },
};

/** Reads a checks file; a file that cannot be read is a usage error (exit 2), a bad one exit 65. */
export function readChecksFile(file: string): CheckSpec[] {
  return parseChecksFile(readFileText(file, 'checks file'), file);
}

/** A checks file's text as the specs it holds; `file` names it in errors. */
export function parseChecksFile(text: string, file: string): CheckSpec[] {
  const parsed = parseJsonFile(text, file);
  const fail = failInFile(text, file);
  const root = expectObject(parsed, '', fail);
  checkKeys(root, FILE_KEYS, '', fail);
  const list = root['checks'];
  if (list === undefined) throw fail('checks', 'is required: a list of checks');
  if (!Array.isArray(list) || list.length === 0) throw fail('checks', 'must be a list of one check or more');
  return list.map((entry, index) => {
    const path = `checks[${index}]`;
    const record = expectObject(entry, path, fail);
    const kind = record['kind'];
    const known = Object.keys(FILE_KINDS).join(', ');
    if (kind === undefined) throw fail(path, `needs "kind": which check (${known})`);
    if (typeof kind !== 'string') throw fail(`${path}.kind`, `must be a string: one of ${known}`);
    const reader: FileKind | undefined = Object.hasOwn(FILE_KINDS, kind)
      ? FILE_KINDS[kind as CheckKind]
      : undefined;
    if (reader === undefined)
      throw fail(`${path}.kind`, `'${kind}' is not a kind of check (known: ${known})`);
    checkKeys(record, ['kind', ...reader.keys], path, fail);
    return reader.read(new CheckFields(record, path, fail));
  });
}

/**
 * The checks file of `warren check --file`: read by warren and by checks.schema.json, which
 * must agree on what they accept and refuse; warren's errors name the field, line and column.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { FILE_KEYS, FILE_KINDS, parseChecksFile } from '../../src/check/file.js';
import { DataError } from '../../src/errors.js';

const root = new URL('../../', import.meta.url);
const readJson = (name: string) => JSON.parse(readFileSync(new URL(name, root), 'utf8'));
const schema = readJson('checks.schema.json');
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
const keysOf = (object: { properties: Record<string, unknown> }) => Object.keys(object.properties).sort();

describe('checks.schema.json and the code agree', () => {
  it('on the kinds, and on every key of each', () => {
    expect(keysOf(schema)).toEqual([...FILE_KEYS].sort());
    const refs = schema.properties.checks.items.oneOf.map((ref: { $ref: string }) => ref.$ref);
    expect(refs).toEqual(Object.keys(FILE_KINDS).map((kind) => `#/$defs/${kind}`));
    for (const [kind, reader] of Object.entries(FILE_KINDS)) {
      expect(keysOf(schema.$defs[kind])).toEqual(['kind', ...reader.keys].sort());
      expect(schema.$defs[kind].properties.kind.const).toBe(kind);
    }
  });

  it('describes every field', () => {
    const undescribed: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (node === null || typeof node !== 'object') return;
      const record = node as Record<string, unknown>;
      for (const [key, value] of Object.entries((record['properties'] ?? {}) as Record<string, unknown>)) {
        if (typeof (value as { description?: unknown }).description !== 'string')
          undescribed.push(`${path}.${key}`);
      }
      for (const [key, value] of Object.entries(record)) walk(value, `${path}.${key}`);
    };
    walk(schema, '');
    expect(undescribed).toEqual([]);
  });

  it('on examples/checks.json: both accept it', () => {
    const text = readFileSync(new URL('examples/checks.json', root), 'utf8');
    expect(validate(JSON.parse(text)), JSON.stringify(validate.errors)).toBe(true);
    expect(parseChecksFile(text, 'examples/checks.json')).toEqual([
      { kind: 'connection', warnMs: 100, critMs: 1000, certWarnDays: undefined, certCritDays: undefined },
      { kind: 'connection', warnMs: undefined, critMs: undefined, certWarnDays: 30, certCritDays: 7 },
    ]);
  });

  const good: [string, unknown][] = [
    ['the least', { checks: [{ kind: 'connection' }] }],
    ['milliseconds', { checks: [{ kind: 'connection', warn: 0, crit: 250 }] }],
    ['durations', { checks: [{ kind: 'connection', warn: '1m30s', crit: '0.5s' }] }],
    ['days as a duration', { checks: [{ kind: 'connection', certWarn: '36h', certCrit: 0.5 }] }],
    ['with $schema', { $schema: '../checks.schema.json', checks: [{ kind: 'connection' }] }],
  ];
  it.each(good)('both accept: %s', (_, value) => {
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    expect(() => parseChecksFile(JSON.stringify(value), 'c.json')).not.toThrow();
  });

  const bad: [string, unknown, string][] = [
    ['no checks', {}, 'checks'],
    ['an empty list', { checks: [] }, 'checks'],
    ['an unknown top key', { checks: [{ kind: 'connection' }], extra: 1 }, 'extra'],
    ['no kind', { checks: [{ warn: '1s' }] }, 'checks[0]'],
    ['an unknown kind', { checks: [{ kind: 'connection' }, { kind: 'mood' }] }, 'checks[1].kind'],
    ['a kind not a string', { checks: [{ kind: 3 }] }, 'checks[0].kind'],
    ['an unknown key', { checks: [{ kind: 'connection', warning: '1s' }] }, 'checks[0].warning'],
    ['a bad duration', { checks: [{ kind: 'connection', warn: 'soon' }] }, 'checks[0].warn'],
    ['a negative duration', { checks: [{ kind: 'connection', crit: -1 }] }, 'checks[0].crit'],
    ['a bad days', { checks: [{ kind: 'connection', certWarn: 'a month' }] }, 'checks[0].certWarn'],
    ['negative days', { checks: [{ kind: 'connection', certCrit: -2 }] }, 'checks[0].certCrit'],
    ['a check not an object', { checks: ['connection'] }, 'checks[0]'],
  ];
  it.each(bad)('both refuse: %s', (_, value, field) => {
    expect(validate(value)).toBe(false);
    expect(() => parseChecksFile(JSON.stringify(value), 'c.json')).toThrow(`c.json: ${field} (line 1`);
  });

  it('the kind named is a property of the table, not of every object', () => {
    const text = JSON.stringify({ checks: [{ kind: 'toString' }] });
    expect(() => parseChecksFile(text, 'c.json')).toThrow("'toString' is not a kind of check");
  });
});

describe('errors name the line', () => {
  it('of the field, on a file of several lines (exit 65)', () => {
    const text = [
      '{',
      '  "checks": [',
      '    { "kind": "connection", "warn": "100ms" },',
      '    { "kind": "connection",',
      '      "crit": "fast" }',
      '  ]',
      '}',
    ].join('\n');
    let caught: unknown;
    try {
      parseChecksFile(text, 'checks.json');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DataError);
    expect((caught as DataError).exitCode).toBe(65);
    expect((caught as DataError).message).toBe(
      "checks.json: checks[1].crit (line 5, column 15): 'fast' is not a duration (500ms, 10s, 5m, 1h) or a number of milliseconds",
    );
  });

  it('of a JSON syntax error', () => {
    expect(() => parseChecksFile('{\n  "checks": [\n    {"kind": }\n', 'checks.json')).toThrow(
      /checks\.json: invalid JSON at line 3/,
    );
  });
});

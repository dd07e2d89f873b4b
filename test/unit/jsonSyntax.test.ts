import { describe, expect, it } from 'vitest';
import { JsonTextError, jsonSyntaxError, parseJson } from '../../src/json.js';
import { seededRandom } from '../helpers/random.js';

const VALID = `{
  "default": "local",
  "profiles": {
    "local": { "url": "amqp://guest:guest@localhost:5672/", "insecure": false },
    "two": { "urls": ["amqps://a:1", "amqps://b:2"], "format": "ndjson", "n": -1.5e3, "z": null },
    "esc": { "vhost": "a\\"b\\\\c\\u00e9\\n" }
  }
}`;

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('parseJson', () => {
  it('parses what JSON.parse does, up to 256 levels', () => {
    expect(parseJson(`{"a":${'['.repeat(255)}${']'.repeat(255)}}`)).toBeTypeOf('object');
  });

  it('refuses deeper nesting with the offset where it goes too deep', () => {
    const error = (() => {
      try {
        parseJson(`  ${'['.repeat(5000)}${']'.repeat(5000)}`);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(JsonTextError);
    expect(error).toMatchObject({ offset: 258, problem: 'nested deeper than 256 levels' });
  });

  it('names the line when told the text is one', () => {
    expect(() => parseJson('{"a":', 'line')).toThrow(/the line ends where a value/);
  });
});

describe('jsonSyntaxError', () => {
  it.each([
    ['{"a": 1,}', 8, 'expected a key in double quotes'],
    ['{"a" 1}', 5, "expected ':' after the key"],
    ['{"a": amqp://x}', 6, 'expected a value (text goes in double quotes)'],
    ['{"a": "b}', 9, 'a string is not closed'],
    ['{"a": [1, 2}', 11, "expected ',' or ']'"],
    ['{"a": 1', 7, "the file ends where ',' or '}' should be"],
    ['{} x', 3, 'unexpected text after the end'],
    ["{'a': 1}", 1, 'expected a key in double quotes'],
  ])('%s: offset %d, %s', (text, offset, problem) => {
    expect(jsonSyntaxError(text)).toEqual({ offset, problem });
  });

  it('reads any depth without overflowing the stack, and names where it goes beyond 256', () => {
    const open = '['.repeat(300_000);
    expect(jsonSyntaxError(open)).toEqual({ offset: 256, problem: 'nested deeper than 256 levels' });
    expect(jsonSyntaxError(`${open}${']'.repeat(300_000)}`)?.offset).toBe(256);
    expect(jsonSyntaxError(`{"a":${'{"b":'.repeat(300)}1`)).toEqual({
      offset: 5 + 255 * 5,
      problem: 'nested deeper than 256 levels',
    });
  });

  it('takes 256 levels', () => {
    expect(jsonSyntaxError(`${'['.repeat(256)}${']'.repeat(256)}`)).toBeUndefined();
  });

  it('finds nothing wrong in valid JSON', () => {
    expect(jsonSyntaxError(VALID)).toBeUndefined();
  });

  it('agrees with JSON.parse on what is valid, over thousands of damaged files', () => {
    const random = seededRandom(20261127);
    const noise = ['"', '{', '}', '[', ']', ',', ':', ' ', '\n', 'x', '1', '-', '.', 'e', '\\', 'u', 'true'];
    for (let i = 0; i < 5000; i += 1) {
      let text = VALID;
      for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits -= 1) {
        const at = Math.floor(random() * text.length);
        const piece = noise[Math.floor(random() * noise.length)] ?? '';
        text =
          random() < 0.5
            ? text.slice(0, at) + text.slice(at + 1)
            : text.slice(0, at) + piece + text.slice(at);
      }
      expect(jsonSyntaxError(text) === undefined, text).toBe(parses(text));
    }
  });
});

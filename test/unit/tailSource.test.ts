import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseSource, parseStreamOffset } from '../../src/tailSource.js';

describe('tail sources', () => {
  it.each([
    ['orders', { exchange: 'orders', key: undefined }],
    ['orders:order.*', { exchange: 'orders', key: 'order.*' }],
    ['orders:', { exchange: 'orders', key: '' }],
    ['a:b:c', { exchange: 'a', key: 'b:c' }],
  ])('%s', (text, expected) => {
    expect(parseSource(text)).toEqual(expected);
  });

  it('refuses the default exchange', () => {
    expect(() => parseSource(':q')).toThrow(UsageError);
  });
});

describe('stream offsets', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  it.each([
    ['first', 'first'],
    ['last', 'last'],
    ['next', 'next'],
    ['42', { '!': 'int64', value: '42' }],
    ['10m', { '!': 'timestamp', value: now / 1000 - 600 }],
    ['1h ago', { '!': 'timestamp', value: now / 1000 - 3600 }],
    ['2026-11-27T11:00:00Z', { '!': 'timestamp', value: now / 1000 - 3600 }],
  ])('%s', (text, expected) => {
    expect(parseStreamOffset(text, now)).toEqual(expected);
  });

  it.each(['soon', '-5', ''])('%j is a usage error', (text) => {
    expect(() => parseStreamOffset(text, now)).toThrow(UsageError);
  });
});

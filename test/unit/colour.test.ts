import { describe, expect, it } from 'vitest';
import { colourLevel, paintFor } from '../../src/ui/colour.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };
const noStreamFlag = {};

describe('colourLevel', () => {
  it('a pipe or file gets no colour', () => {
    expect(colourLevel(pipe, {}, undefined)).toBe(0);
    expect(colourLevel(noStreamFlag, {}, undefined)).toBe(0);
  });

  it('a terminal gets colour', () => {
    expect(colourLevel(tty, {}, undefined)).toBe(2);
    expect(colourLevel(tty, { COLORTERM: 'truecolor' }, undefined)).toBe(3);
  });

  it('TERM=dumb gets no colour, even on a terminal', () => {
    expect(colourLevel(tty, { TERM: 'dumb' }, undefined)).toBe(0);
  });

  it('--no-color wins over everything', () => {
    expect(colourLevel(tty, {}, false)).toBe(0);
    expect(colourLevel(tty, { FORCE_COLOR: '3' }, false)).toBe(0);
  });

  it('NO_COLOR (any non-empty value) switches colour off on a terminal', () => {
    expect(colourLevel(tty, { NO_COLOR: '1' }, undefined)).toBe(0);
    expect(colourLevel(tty, { NO_COLOR: 'yes' }, undefined)).toBe(0);
  });

  it('an empty NO_COLOR is ignored', () => {
    expect(colourLevel(tty, { NO_COLOR: '' }, undefined)).toBe(2);
  });

  it('FORCE_COLOR switches colour on in a pipe, at its level', () => {
    expect(colourLevel(pipe, { FORCE_COLOR: '1' }, undefined)).toBe(1);
    expect(colourLevel(pipe, { FORCE_COLOR: '2' }, undefined)).toBe(2);
    expect(colourLevel(pipe, { FORCE_COLOR: '3' }, undefined)).toBe(3);
    expect(colourLevel(pipe, { FORCE_COLOR: 'true' }, undefined)).toBe(1);
    expect(colourLevel(pipe, { FORCE_COLOR: '' }, undefined)).toBe(1);
    expect(colourLevel(pipe, { FORCE_COLOR: '7' }, undefined)).toBe(1);
  });

  it('FORCE_COLOR=0 or false switches colour off on a terminal', () => {
    expect(colourLevel(tty, { FORCE_COLOR: '0' }, undefined)).toBe(0);
    expect(colourLevel(tty, { FORCE_COLOR: 'false' }, undefined)).toBe(0);
  });
});

describe('paintFor', () => {
  it('returns colours only at the decided level', async () => {
    expect((await paintFor(pipe, {}, undefined)).red('x')).toBe('x');
    expect((await paintFor(pipe, {}, undefined)).enabled).toBe(false);
    expect((await paintFor(tty, {}, undefined)).red('x')).toContain('\u001b[');
    expect((await paintFor(tty, {}, false)).red('x')).toBe('x');
  });
});

import { describe, expect, it } from 'vitest';
import { oneRow } from '../../src/ui/spinner.js';

describe('oneRow: the status line text fits one row, after the frame and a space', () => {
  it('leaves text that fits as it is', () => {
    expect(oneRow('publishing…', 80)).toBe('publishing…');
    expect(oneRow('x'.repeat(77), 80)).toBe('x'.repeat(77));
  });

  it('cuts text that does not fit, and says so with an ellipsis', () => {
    const cut = oneRow('x'.repeat(78), 80);
    expect(cut).toBe(`${'x'.repeat(76)}…`);
    expect([...cut]).toHaveLength(77);
  });

  it('counts wide characters as two columns, and never cuts one in two', () => {
    const rabbits = oneRow('🐇'.repeat(50), 20);
    expect(rabbits).toBe(`${'🐇'.repeat(8)}…`);
    expect(oneRow(`waiting on '${'队列'.repeat(20)}'`, 30)).toBe(`waiting on '${'队列'.repeat(3)}队…`);
    expect(oneRow('队列'.repeat(5), 23)).toBe('队列'.repeat(5));
  });

  it('an ellipsis alone on a terminal too narrow for more', () => {
    expect(oneRow('waiting for messages', 4)).toBe('…');
  });
});

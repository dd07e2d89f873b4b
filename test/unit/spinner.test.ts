import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { oneRow, startSpinner } from '../../src/ui/spinner.js';

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

describe('startSpinner: one spinner at a time on a terminal', () => {
  /** A terminal as ora draws on it: what it was sent, its cursor moves as no-ops. */
  const terminal = () => {
    const sent: string[] = [];
    const stream = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 80,
      cursorTo: () => true,
      moveCursor: () => true,
      clearLine: () => true,
    });
    stream.on('data', (chunk: Buffer) => sent.push(chunk.toString()));
    return { stream, sent };
  };
  const options = { enabled: true, colour: false };

  it('draws nothing for a second one (connecting again during a progress line) until the first stops', async () => {
    const { stream } = terminal();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const progress = await startSpinner(stream, 'publishing: 10 published', options);
      const connecting = await startSpinner(stream, 'connecting to amqp://…', options);
      expect([progress.active, connecting.active]).toEqual([true, false]);
      connecting.stop();
      progress.stop();
      const next = await startSpinner(stream, 'connecting to amqp://…', options);
      expect(next.active).toBe(true);
      next.stop();
      // ora's own line about spinners drawn at once never comes.
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('keeps spinners on two terminals apart', async () => {
    const [a, b] = [terminal(), terminal()];
    const first = await startSpinner(a.stream, 'one', options);
    const second = await startSpinner(b.stream, 'two', options);
    expect([first.active, second.active]).toEqual([true, true]);
    first.stop();
    second.stop();
  });
});

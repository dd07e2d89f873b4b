/**
 * A person at a live terminal (a tmux pane): typing warren's input, resizing the window while
 * it runs. What is asserted is what tmux shows on the screen.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker } from '../helpers/broker.js';
import { startInTmux, type TmuxPane } from '../helpers/tmux.js';

let broker: TestBroker;
const panes: TmuxPane[] = [];

beforeAll(async () => {
  broker = await connectTestBroker();
});
afterEach(async () => {
  for (const pane of panes.splice(0)) await pane.close();
});
afterAll(async () => {
  await broker?.cleanup();
});

async function pane(...args: Parameters<typeof startInTmux>): Promise<TmuxPane> {
  const started = await startInTmux(...args);
  panes.push(started);
  return started;
}

/** Lets a status line that redraws every 100 ms do so several times: no assertion on time. */
const redraws = () => new Promise((resolve) => setTimeout(resolve, 600));

describe('typing the input of publish --input lines', () => {
  it('what is typed stays on the screen, the cursor stays shown, and each line is published', async () => {
    const queue = await broker.queue('typed');
    const term = await pane(['publish', '-k', queue, '--input', 'lines']);
    await term.waitFor('one per line');
    await term.type('first message');
    await term.press('Enter');
    // Published once warren has read it: the line went through to warren, not swallowed.
    await eventually(async () => (await broker.messageCount(queue)) === 1);
    await term.type('second mess');
    await redraws();
    const typing = await term.screen();
    expect(typing).toContain('first message');
    expect(typing.at(typing.findLastIndex((line) => line !== ''))).toBe('second mess');
    expect(typing.filter((line) => line.includes('publishing'))).toEqual([]);
    expect(await term.cursorShown()).toBe(true);

    await term.type('age');
    await term.press('Enter', 'C-d');
    expect(await term.exitCode()).toBe(0);
    const end = (await term.screen()).filter((line) => line !== '');
    expect(end.slice(0, 3), end.join('\n')).toEqual([
      'reading messages from the terminal, one per line: Ctrl-D ends',
      'first message',
      'second message',
    ]);
    expect(end[3]).toMatch(/^published 2, confirmed 2, returned 0, nacked 0 in /);
    expect((await broker.drain(queue)).map((m) => m.content.toString())).toEqual([
      'first message',
      'second message',
    ]);
  });
});

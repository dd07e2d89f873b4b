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

const TITLE = /^\d{2}:\d{2}:\d{2}\.\d{3} {2}/;

/** A topic exchange with a queue bound to it for '#', so each message can have a key of its own. */
async function topicWithQueue(prefix: string): Promise<{ exchange: string; queue: string }> {
  const exchange = await broker.exchange(`${prefix}-x`, 'topic');
  const queue = await broker.queue(prefix);
  await broker.channel.bindQueue(queue, exchange, '#');
  return { exchange, queue };
}

/** The rows of each pretty block on the screen, by routing key (from its title to the next). */
function blocks(screen: string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const row of screen) {
    const key = TITLE.test(row) ? / → (\S+)/.exec(row)?.[1] : undefined;
    if (key !== undefined) {
      current = [];
      found.set(key, current);
    } else if (/^consumed \d+ messages? from /.test(row)) current = undefined;
    else current?.push(row);
  }
  return found;
}

describe('keys typed while a status line shows', () => {
  it('stay for the shell: the status line never takes the keyboard', async () => {
    const queue = await broker.queue('type-ahead');
    const term = await pane(['consume', queue, '--count', '1', '--timeout', '20s'], {
      after: 'read -r line; echo "the shell read: $line"',
    });
    await term.waitFor('waiting for messages on');
    await term.type('typed ahead');
    await term.press('Enter');
    await redraws();
    await broker.publish('', queue, 'the message');
    expect(await term.exitCode()).toBe(0);
    const screen = await term.screen();
    expect(screen).toContain('the message');
    expect(screen).toContain('the shell read: typed ahead');
  });
});

describe('pretty output after the terminal is resized', () => {
  const properties = {
    contentType: 'application/json',
    correlationId: 'corr-0123456789abcdef',
    replyTo: 'replies.for.order.service',
    messageId: 'msg-2f1c9a7e-5b3d-4e8a',
    type: 'order.created',
    appId: 'checkout-service',
  };
  const body = Array.from({ length: 200 }, (_, i) => `line ${i + 1}`).join('\n');

  it('wraps the properties to the new width and cuts the body to the new height', async () => {
    const { exchange, queue } = await topicWithQueue('resize');
    const term = await pane(['consume', queue, '--count', '2'], { columns: 100, rows: 40 });
    await broker.publish(exchange, 'before.resize', body, properties);
    await term.waitFor(/ → before\.resize /);
    await term.waitFor(/more lines \(--full shows all\)/);
    await term.resize(50, 20);
    // The new size reaches warren as SIGWINCH; the next message comes through the broker.
    await redraws();
    await broker.publish(exchange, 'after.resize', body, properties);
    expect(await term.exitCode()).toBe(0);

    const shown = blocks(await term.screen());
    const before = shown.get('before.resize') ?? [];
    const after = shown.get('after.resize') ?? [];
    const propertyRows = (rows: string[]) => rows.filter((row) => /^ {2}\w+: /.test(row));
    const bodyRows = (rows: string[]) => rows.filter((row) => /^line \d+$/.test(row));
    // Before: 100 columns and 40 rows. A row is a line as warren wrote it (wrapped rows joined).
    expect(Math.max(...propertyRows(before).map((row) => row.length))).toBeGreaterThan(50);
    expect(bodyRows(before)).toHaveLength(40 - 8);
    // After: each line fits 50 columns, and the body fits 20 rows.
    expect(propertyRows(after).length).toBeGreaterThan(propertyRows(before).length);
    for (const row of after)
      expect(row.length, `'${row}' is wider than the terminal`).toBeLessThanOrEqual(50);
    expect(bodyRows(after)).toHaveLength(20 - 8);
    expect(after).toContain('… 188 more lines (--full shows all)');
  });
});

describe('a binary body in a narrow pane', () => {
  const body = Buffer.from(Array.from({ length: 200 }, (_, i) => 0x80 + (i % 0x80)));
  const hexRows = (rows: string[]) => rows.filter((row) => /^[0-9a-f]{8} {2}/.test(row));
  const bytesIn = (row: string) => row.slice(10).split('  ')[0]?.split(' ').length;

  it('a hex dump of fewer bytes a row, each row within the width, also after a resize', async () => {
    const { exchange, queue } = await topicWithQueue('hex');
    const term = await pane(['consume', queue, '--count', '2'], { columns: 44, rows: 30 });
    await broker.publish(exchange, 'at.44', body);
    await term.waitFor(/ → at\.44 /);
    await term.resize(30, 30);
    await redraws();
    await broker.publish(exchange, 'at.30', body);
    expect(await term.exitCode()).toBe(0);

    const shown = blocks(await term.screen());
    const wide = hexRows(shown.get('at.44') ?? []);
    const narrow = hexRows(shown.get('at.30') ?? []);
    expect(wide.length).toBeGreaterThan(0);
    for (const row of wide) {
      expect(row.length, `'${row}' is wider than the terminal`).toBeLessThanOrEqual(44);
      expect(bytesIn(row)).toBe(8);
    }
    expect(wide[1]).toMatch(/^00000008 {2}88 89 8a 8b 8c 8d 8e 8f {2}\.{8}$/);
    expect(narrow.length).toBeGreaterThan(0);
    for (const row of narrow) {
      expect(row.length, `'${row}' is wider than the terminal`).toBeLessThanOrEqual(30);
      expect(bytesIn(row)).toBe(4);
    }
  });
});

describe('the status line when the terminal is resized', () => {
  it('takes one row at any width, so growing the window never erases the lines above it', async () => {
    // A long queue name: the status line is wider than the pane.
    const queue = await broker.queue(`status-resize-${'q'.repeat(60)}`);
    const term = await pane(['consume', queue, '--count', '1', '--timeout', '20s'], {
      columns: 40,
      rows: 12,
      before: "printf 'kept line 1\\nkept line 2\\n'",
    });
    const narrow = await term.waitFor('waiting for messages on');
    const status = narrow.filter((row) => row.includes('waiting for messages'));
    expect(status).toHaveLength(1);
    expect(status[0]!.length, `'${status[0]}' is wider than the pane`).toBeLessThan(40);
    await term.resize(100, 12);
    await redraws();
    await term.resize(120, 12);
    await redraws();
    expect((await term.screen()).slice(0, 2)).toEqual(['kept line 1', 'kept line 2']);

    await broker.publish('', queue, 'done');
    expect(await term.exitCode()).toBe(0);
    const end = await term.screen();
    expect(end.slice(0, 2)).toEqual(['kept line 1', 'kept line 2']);
    expect(end.filter((row) => row.includes('waiting for messages'))).toEqual([]);
    expect(end).toContain('done');
  });
});

/**
 * What a person sees: warren run in a real pseudo-terminal (util-linux `script`, stdout and
 * stderr both on the pty), the raw bytes captured with every escape sequence, and a small
 * terminal model that applies the cursor moves and line clears to get the screen's text.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker, uniqueName } from '../helpers/broker.js';
import { ndjson, runWarren, testEnv } from '../helpers/cli.js';
import { REPO_ROOT, runShell } from '../helpers/spawn.js';

let broker: TestBroker;
const tempFiles: string[] = [];

beforeAll(async () => {
  broker = await connectTestBroker();
});

afterAll(async () => {
  for (const file of tempFiles) rmSync(file, { force: true });
  await broker?.cleanup();
});

// ---------------------------------------------------------------------------------------
// Running warren in a pseudo-terminal.

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

interface PtyOptions {
  columns?: number;
  rows?: number;
  /** Changes to the environment: by default colour is allowed (no NO_COLOR, a real TERM). */
  env?: Record<string, string | undefined>;
  /** Shell text after warren's arguments, e.g. `2>/dev/null` to leave only stdout on the pty. */
  redirect?: string;
  /** Shell text after the command, e.g. `; echo "EXIT=$?"`. */
  after?: string;
  timeoutMs?: number;
}

interface PtyResult {
  /** Everything the terminal was sent, escape sequences included. */
  raw: string;
  /** script's exit code: warren's, unless `after` runs more. */
  code: number | null;
}

interface Pty {
  output(): string;
  /** Resolves once the output so far contains `text` (or matches it). */
  waitFor(text: string | RegExp, ms?: number): Promise<void>;
  /** Keys typed at the terminal (through the line discipline: `\x03` is Ctrl-C). */
  type(keys: string): void;
  done: Promise<PtyResult>;
}

function startPty(args: string[], options: PtyOptions = {}): Pty {
  const { columns = 80, rows = 30 } = options;
  const command = `stty cols ${columns} rows ${rows}; node bin/warren.js ${args.map(quote).join(' ')}${
    options.redirect ? ` ${options.redirect}` : ''
  }${options.after ?? ''}`;
  const child: ChildProcess = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: REPO_ROOT,
    env: testEnv({
      NO_COLOR: undefined,
      COLORTERM: undefined,
      // ora draws no animation (and no line clears) when it sees CI.
      CI: undefined,
      TERM: 'xterm-256color',
      SHELL: '/bin/bash',
      ...options.env,
    }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    for (const watcher of watchers) watcher();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const output = () => Buffer.concat(chunks).toString('utf8');
  const done = new Promise<PtyResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pty run did not finish; output so far: ${JSON.stringify(output())} ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin?.destroy();
      resolve({ raw: output(), code });
    });
  });
  return {
    output,
    done,
    type: (keys) => {
      child.stdin?.write(keys);
    },
    waitFor: (text, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const seen = () => (typeof text === 'string' ? output().includes(text) : text.test(output()));
        const finish = () => {
          clearTimeout(timer);
          watchers.delete(check);
          child.off('close', closed);
        };
        const check = () => {
          if (!seen()) return;
          finish();
          resolve();
        };
        const closed = () => {
          finish();
          if (seen()) resolve();
          else reject(new Error(`exited before showing ${text}: ${JSON.stringify(output())}`));
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no ${text} within ${ms} ms: ${JSON.stringify(output())}`));
        }, ms);
        watchers.add(check);
        child.on('close', closed);
        check();
      }),
  };
}

function inPty(args: string[], options: PtyOptions = {}): Promise<PtyResult> {
  return startPty(args, options).done;
}

// ---------------------------------------------------------------------------------------
// Reading the screen.

// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are the subject
const CSI = /^\x1b\[([0-9;?]*)([@-~])/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are the subject
const OSC = /^\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are the subject
const SGR = /\x1b\[[0-9;]*m/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are the subject
const ANY_SGR = /\x1b\[[0-9;]*m/;

/**
 * The text a terminal shows after `raw`: SGR and private modes dropped, carriage returns,
 * cursor moves (CUB/CUF/CUU/CUD/CHA) and line erases (EL) applied. Lines are not wrapped:
 * each entry is one line as written, trailing blanks trimmed.
 */
function screenLines(raw: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = (): string[] => {
    while (lines.length <= row) lines.push([]);
    return lines[row]!;
  };
  let i = 0;
  while (i < raw.length) {
    const ch = raw[i]!;
    if (ch === '\x1b') {
      const rest = raw.slice(i, i + 64);
      const csi = CSI.exec(rest);
      if (csi) {
        const [whole, params = '', final] = csi;
        const n = Number.parseInt(params.replace('?', ''), 10);
        const current = line();
        switch (final) {
          case 'G':
            col = (Number.isNaN(n) ? 1 : n) - 1;
            break;
          case 'K':
            if (Number.isNaN(n) || n === 0) current.length = Math.min(current.length, col);
            else if (n === 1) for (let c = 0; c <= col && c < current.length; c += 1) current[c] = ' ';
            else if (n === 2) current.length = 0;
            break;
          case 'A':
            row = Math.max(0, row - (Number.isNaN(n) ? 1 : n));
            break;
          case 'B':
            row += Number.isNaN(n) ? 1 : n;
            break;
          case 'C':
            col += Number.isNaN(n) ? 1 : n;
            break;
          case 'D':
            col = Math.max(0, col - (Number.isNaN(n) ? 1 : n));
            break;
        }
        i += whole.length;
        continue;
      }
      const osc = OSC.exec(raw.slice(i, i + 4096));
      i += osc ? osc[0].length : 2;
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row += 1;
      col = 0;
    } else if (ch === '\b') col = Math.max(0, col - 1);
    else if (ch >= ' ' && ch !== '\x7f') {
      const current = line();
      while (current.length < col) current.push(' ');
      current[col] = ch;
      col += 1;
    }
    i += 1;
  }
  return lines.map((l) => l.join('').trimEnd());
}

const TIME = /\d{2}:\d{2}:\d{2}\.\d{3}/;
const sameTime = (text: string) => text.replace(new RegExp(TIME.source, 'g'), 'HH:MM:SS.mmm');
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The title line of a pretty block, once stripped. */
function titleOf(exchange: string, routingKey: string, bytes: number): RegExp {
  return new RegExp(`^${TIME.source}  ${escapeRegExp(exchange)} → ${escapeRegExp(routingKey)}  ${bytes} B$`);
}

/** The raw bytes from the first pretty title (its time) on. */
function fromFirstRecord(raw: string): { before: string; after: string } {
  const at = raw.search(TIME);
  expect(at, 'no record on the screen').toBeGreaterThan(-1);
  return { before: raw.slice(0, at), after: raw.slice(at) };
}

/** An ESC that does not start an SGR colour code: what a message must never put on a screen. */
function foreignEscapes(raw: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are the subject
  return [...raw.replace(SGR, '').matchAll(/\x1b.{0,8}/gs)].map((m) => JSON.stringify(m[0]));
}

/** A topic exchange with a queue bound to it for '#'. */
async function topicWithQueue(prefix: string): Promise<{ exchange: string; queue: string }> {
  const exchange = await broker.exchange(`${prefix}-x`, 'topic');
  const queue = await broker.queue(prefix);
  await broker.channel.bindQueue(queue, exchange, '#');
  return { exchange, queue };
}

function tempFile(prefix: string, contents: string): string {
  const path = join(tmpdir(), `${uniqueName(prefix)}.ndjson`);
  writeFileSync(path, contents);
  tempFiles.push(path);
  return path;
}

// ---------------------------------------------------------------------------------------

describe('a pretty block at 80 columns', () => {
  it('shows the title, wrapped properties, the timestamp as UTC, the headers, the JSON and the summary', async () => {
    const { exchange, queue } = await topicWithQueue('pretty');
    const routingKey = 'order.created.eu-west';
    const body = JSON.stringify({
      id: 1042,
      customer: { name: 'Ada', vip: true },
      items: [{ sku: 'X-1', qty: 2 }],
      note: null,
    });
    const stamp = Date.UTC(2026, 2, 4, 5, 6, 7) / 1000;
    await broker.publish(exchange, routingKey, body, {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      persistent: true,
      priority: 7,
      correlationId: 'corr-0123456789abcdef',
      replyTo: 'replies.for.order.service',
      expiration: '60000',
      messageId: 'msg-2f1c9a7e-5b3d-4e8a-9c0f-1234567890ab',
      timestamp: stamp,
      type: 'order.created',
      userId: 'guest',
      appId: 'checkout-service',
      headers: { 'x-tenant': 'acme', 'x-region': 'eu-west-1' },
    });

    const run = await inPty(['consume', queue, '--count', '1']);
    expect(run.code).toBe(0);
    const lines = screenLines(run.raw);
    const first = lines.findIndex((l) => TIME.test(l));
    expect(lines[first]).toMatch(titleOf(exchange, routingKey, Buffer.byteLength(body)));

    // The properties: after the title, up to the first header line.
    const headerAt = lines.findIndex((l) => l.startsWith('  x-tenant: '));
    expect(headerAt).toBeGreaterThan(first + 1);
    const propertyLines = lines.slice(first + 1, headerAt);
    expect(propertyLines.length).toBeGreaterThan(1); // they did not fit one line: wrapped
    for (const l of propertyLines) {
      expect(l.startsWith('  ')).toBe(true);
      expect(l.length, `'${l}' is wider than the terminal`).toBeLessThanOrEqual(80);
    }
    const items = propertyLines.map((l) => l.slice(2).split('  '));
    // Greedy wrapping: the next line's first item would not have fitted on the line before.
    for (let n = 0; n + 1 < propertyLines.length; n += 1) {
      expect(propertyLines[n]!.length + 2 + items[n + 1]![0]!.length).toBeGreaterThan(80);
    }
    expect(items.flat().sort()).toEqual(
      [
        'contentType: application/json',
        'contentEncoding: utf-8',
        'deliveryMode: 2',
        'priority: 7',
        'correlationId: corr-0123456789abcdef',
        'replyTo: replies.for.order.service',
        'expiration: 60000',
        'messageId: msg-2f1c9a7e-5b3d-4e8a-9c0f-1234567890ab',
        'timestamp: 2026-03-04T05:06:07Z',
        'type: order.created',
        'userId: guest',
        'appId: checkout-service',
      ].sort(),
    );

    // Headers, then the body pretty-printed, then a blank line and the summary.
    expect(lines.slice(headerAt, headerAt + 2)).toEqual(['  x-tenant: acme', '  x-region: eu-west-1']);
    const json = JSON.stringify(JSON.parse(body), null, 2).split('\n');
    expect(lines.slice(headerAt + 2, headerAt + 2 + json.length)).toEqual(json);
    const rest = lines.slice(headerAt + 2 + json.length).filter((l) => l !== '');
    expect(rest).toEqual([`consumed 1 message from '${queue}'`]);
  });
});

// Each exchange's colour, as the palette in src/format/pretty.ts picks it: used only to choose
// two exchanges whose colours must differ.
const PALETTE = [36, 35, 34, 32, 33];
function expectedColour(name: string): number {
  let hash = 0;
  for (let i = 0; i < name.length; i += 1) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

describe('colour', () => {
  let exchangeA: string;
  let exchangeB: string;
  const body = '{"id":7,"ok":true}';
  /** stdout of the same three messages: coloured (twice), with --no-color, with NO_COLOR=1. */
  let coloured: string;
  let colouredAgain: string;
  let noColorFlag: string;
  let noColorEnv: string;

  /** A queue bound to both exchanges holding A→a.1, A→a.2, B→b.1. */
  async function filled(): Promise<string> {
    const queue = await broker.queue('colour');
    await broker.channel.bindQueue(queue, exchangeA, '#');
    await broker.channel.bindQueue(queue, exchangeB, '#');
    await broker.publish(exchangeA, 'a.1', body, { contentType: 'application/json' });
    await broker.publish(exchangeA, 'a.2', body, { contentType: 'application/json' });
    await broker.publish(exchangeB, 'b.1', body, { contentType: 'application/json' });
    return queue;
  }

  /** The colour code (`\x1b[3Xm`) around each title's exchange name, in order. */
  function exchangeCodes(raw: string): { exchange: string; code: number }[] {
    const names = `(${escapeRegExp(exchangeA)}|${escapeRegExp(exchangeB)})`;
    const pattern = new RegExp(`\\x1b\\[(3[0-7])m${names}\\x1b\\[39m`, 'g');
    return [...raw.matchAll(pattern)].map((m) => ({ exchange: m[2]!, code: Number(m[1]) }));
  }

  beforeAll(async () => {
    exchangeA = await broker.exchange('colour-a', 'topic');
    for (let tries = 0; tries < 20; tries += 1) {
      exchangeB = await broker.exchange('colour-b', 'topic');
      if (expectedColour(exchangeB) !== expectedColour(exchangeA)) break;
    }
    expect(expectedColour(exchangeB)).not.toBe(expectedColour(exchangeA));
    coloured = await stdoutOnly([]);
    colouredAgain = await stdoutOnly([]);
    noColorFlag = await stdoutOnly(['--no-color']);
    noColorEnv = await stdoutOnly([], { NO_COLOR: '1' });
  });

  /** stdout alone on the pty (stderr to /dev/null), three pretty blocks. */
  async function stdoutOnly(extraArgs: string[], env: Record<string, string | undefined> = {}) {
    const queue = await filled();
    const run = await inPty(['consume', queue, '--count', '3', ...extraArgs], {
      env,
      redirect: '2>/dev/null',
    });
    expect(run.code).toBe(0);
    return run.raw;
  }

  it('paints each exchange name in its own stable colour, and the JSON keys', () => {
    const codes = exchangeCodes(coloured);
    expect(codes.map((c) => c.exchange)).toEqual([exchangeA, exchangeA, exchangeB]);
    const [a1, a2, b1] = codes.map((c) => c.code);
    expect(a1).toBe(a2); // the same exchange twice: the same colour
    expect(b1).not.toBe(a1); // these two exchanges: two colours
    // Stable: another run paints them the same.
    expect(exchangeCodes(colouredAgain)).toEqual(codes);
    // JSON keys are coloured: `"id"` wrapped in a foreground colour, then the colon.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are the subject
    expect(coloured).toMatch(/\x1b\[3[0-7]m"id"\x1b\[39m:/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are the subject
    expect(coloured).toMatch(/\x1b\[3[0-7]m"ok"\x1b\[39m:/);
  });

  it('--no-color and NO_COLOR=1: no SGR code on stdout, and the same layout', () => {
    expect(noColorFlag).not.toMatch(ANY_SGR);
    expect(noColorEnv).not.toMatch(ANY_SGR);
    const text = (raw: string) => sameTime(screenLines(raw).join('\n'));
    expect(text(coloured)).toContain(`${exchangeB} → b.1`);
    expect(text(noColorFlag)).toBe(text(coloured));
    expect(text(noColorEnv)).toBe(text(coloured));
  });

  it('--no-color and NO_COLOR=1: the status line on stderr is not coloured either', async () => {
    // README: "--no-color: no colour. NO_COLOR does the same".
    const queue = await broker.queue('colour-status');
    const flag = await inPty(['consume', queue, '--timeout', '300ms', '--no-color']);
    const env = await inPty(['consume', queue, '--timeout', '300ms'], { env: { NO_COLOR: '1' } });
    expect(flag.raw).toContain('waiting for messages');
    expect(env.raw).toContain('waiting for messages');
    expect(flag.raw.match(SGR) ?? []).toEqual([]);
    expect(env.raw.match(SGR) ?? [], 'SGR codes on the screen with NO_COLOR=1').toEqual([]);
  });
});

describe('the status line gives way to records', () => {
  function expectClearedBeforeRecord(raw: string, queue: string, routingKey: string) {
    const { before } = fromFirstRecord(raw);
    expect(before).toContain(`waiting for messages on '${queue}'`);
    // ora's line clear: cursor to column 1, then erase the line.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are the subject
    expect(before).toMatch(/\x1b\[1G\x1b\[[02]K/);
    const lines = screenLines(raw);
    const title = lines.find((l) => l.includes(` → ${routingKey}  `));
    expect(title).toBeDefined();
    expect(title).toMatch(new RegExp(`^${TIME.source}  `));
    expect(lines.filter((l) => l.includes('waiting for messages') && l.includes(routingKey))).toEqual([]);
    // Nothing of the status line is left on the screen at the end.
    expect(lines.filter((l) => l.includes('waiting for messages'))).toEqual([]);
  }

  it('a message already in the queue: the title line starts clean at column 0', async () => {
    const { exchange, queue } = await topicWithQueue('spinner-ready');
    await broker.publish(exchange, 'spin.ready', 'hello');
    const run = await inPty(['consume', queue, '--count', '1']);
    expect(run.code).toBe(0);
    expectClearedBeforeRecord(run.raw, queue, 'spin.ready');
  });

  it('a message arriving while the status line spins: the same', async () => {
    const { exchange, queue } = await topicWithQueue('spinner-later');
    const pty = startPty(['consume', queue, '--count', '1', '--timeout', '10s']);
    await pty.waitFor(`waiting for messages on '${queue}'`);
    await broker.publish(exchange, 'spin.later', 'hello later');
    const run = await pty.done;
    expect(run.code).toBe(0);
    expectClearedBeforeRecord(run.raw, queue, 'spin.later');
  });
});

describe('consume --exec: the status line', () => {
  it('shows handled / failed / retried / in flight, gives way to every handler line, and is gone at the end', async () => {
    const queue = await broker.queue('exec-status');
    for (let i = 1; i <= 4; i += 1) await broker.publish('', queue, `m${i}`, { messageId: `st-${i}` });
    const handler = 'sleep 0.3; echo "line from $WARREN_MESSAGE_ID" >&2; [ "$WARREN_MESSAGE_ID" != st-2 ]';
    // Wide enough for the status line on one row: the screen model here does not wrap.
    const run = await inPty(['consume', queue, '--exec', handler, '--count', '4', '--on-failure', 'reject'], {
      redirect: '> /dev/null',
      columns: 200,
    });
    expect(run.code).toBe(0);
    expect(run.raw).toMatch(
      new RegExp(`handling '${escapeRegExp(queue)}': 0 handled, 0 failed, 0 retried, 1 in flight`),
    );
    expect(run.raw).toMatch(
      new RegExp(`handling '${escapeRegExp(queue)}': 2 handled, 1 failed, 0 retried, 1 in flight`),
    );
    const lines = screenLines(run.raw).filter((line) => line !== '');
    // Each handler line and each warning whole on a line of its own: the status line was
    // cleared before it, and drawn again after.
    expect(lines).toEqual([
      'line from st-1',
      'line from st-2',
      'warning: message st-2: handler exit 1: rejected',
      'line from st-3',
      'line from st-4',
      expect.stringMatching(
        new RegExp(
          `^handled 4 messages from '${escapeRegExp(queue)}': 3 acked, 1 rejected \\(1 run failed\\) in `,
        ),
      ),
    ]);
  });

  it('stays away when stderr is not a terminal', async () => {
    const queue = await broker.queue('exec-status-pipe');
    await broker.publish('', queue, 'm1');
    const run = await runWarren(['consume', queue, '--exec', 'true', '--count', '1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('handling');
    expect(run.stderr).toMatch(/^handled 1 message from '[^']+': 1 acked in \S+\n$/);
  });
});

describe('Ctrl-C', () => {
  it('stops a consume with exit 130 and leaves the cursor shown', async () => {
    const queue = await broker.queue('ctrl-c');
    const pty = startPty(['consume', queue], { after: '; echo "EXIT=$?"' });
    await pty.waitFor(`waiting for messages on '${queue}'`);
    pty.type('\x03'); // Ctrl-C at the terminal: SIGINT to the foreground process group
    const run = await pty.done;
    expect(run.raw).toMatch(/EXIT=130\r?\n/);
    const hidden = run.raw.lastIndexOf('\x1b[?25l');
    const shown = run.raw.lastIndexOf('\x1b[?25h');
    expect(hidden).toBeGreaterThan(-1); // the spinner did hide it
    expect(shown).toBeGreaterThan(hidden);
    const lines = screenLines(run.raw);
    expect(lines).toContain(`consumed 0 messages from '${queue}'`);
    expect(lines.filter((l) => l.includes('waiting for messages'))).toEqual([]);
  });
});

describe('long bodies on a terminal', () => {
  const numberedLines = Array.from({ length: 200 }, (_, i) => `line ${i + 1}`);
  const longLine = Array.from({ length: 20_000 }, (_, i) => String(i % 10)).join('');

  it('200 lines on 30 rows: the first 22, and a note of the rest', async () => {
    const queue = await broker.queue('cut-lines');
    await broker.publish('', queue, numberedLines.join('\n'));
    const run = await inPty(['consume', queue, '--count', '1'], { rows: 30 });
    expect(run.code).toBe(0);
    const lines = screenLines(run.raw);
    expect(lines.filter((l) => /^line \d+$/.test(l))).toEqual(numberedLines.slice(0, 22));
    const at = lines.indexOf('line 22');
    expect(lines[at + 1]).toBe('… 178 more lines (--full shows all)');
  });

  it('a body that ends with a newline counts the same', async () => {
    const queue = await broker.queue('cut-lines-nl');
    await broker.publish('', queue, `${numberedLines.join('\n')}\n`);
    const run = await inPty(['consume', queue, '--count', '1'], { rows: 30 });
    const lines = screenLines(run.raw);
    expect(lines.filter((l) => /^line \d+$/.test(l))).toEqual(numberedLines.slice(0, 22));
    expect(lines).toContain('… 178 more lines (--full shows all)');
  });

  it('--full: all 200 lines, no note', async () => {
    const queue = await broker.queue('cut-full');
    await broker.publish('', queue, numberedLines.join('\n'));
    const run = await inPty(['consume', queue, '--count', '1', '--full'], { rows: 30 });
    expect(run.code).toBe(0);
    const lines = screenLines(run.raw);
    expect(lines.filter((l) => /^line \d+$/.test(l))).toEqual(numberedLines);
    expect(run.raw).not.toContain('--full shows all');
  });

  it('one line of 20,000 characters: cut, with a count of the characters left out', async () => {
    const queue = await broker.queue('cut-chars');
    await broker.publish('', queue, longLine);
    const run = await inPty(['consume', queue, '--count', '1'], { columns: 80, rows: 30 });
    expect(run.code).toBe(0);
    const lines = screenLines(run.raw);
    const shown = lines.find((l) => l.startsWith('0123456789'));
    expect(shown).toBeDefined();
    expect(longLine.startsWith(shown!)).toBe(true);
    expect(shown!.length).toBeLessThan(longLine.length);
    expect(shown!.length).toBeLessThanOrEqual(22 * 80); // a screenful at most
    expect(lines).toContain(`… ${longLine.length - shown!.length} more characters (--full shows all)`);
  });

  it('long lines: the cut counts the rows they wrap to, so the block still fits the screen', async () => {
    // README: "A body longer than the terminal is cut to fit". 200 lines of 100 characters
    // on an 80-column terminal take two rows each.
    const queue = await broker.queue('cut-wrapped');
    const wide = Array.from({ length: 200 }, (_, i) => `${String(i + 1).padStart(3, '0')} ${'w'.repeat(96)}`);
    await broker.publish('', queue, wide.join('\n'));
    const run = await inPty(['consume', queue, '--count', '1'], { columns: 80, rows: 30 });
    expect(run.code).toBe(0);
    const bodyRows = screenLines(run.raw)
      .filter((l) => /^\d{3} w/.test(l))
      .reduce((sum, l) => sum + Math.ceil(l.length / 80), 0);
    expect(bodyRows, 'screen rows the shown body takes').toBeLessThanOrEqual(30 - 8);
  });

  it('in a pipe, --format pretty cuts nothing', async () => {
    const queue = await broker.queue('cut-pipe');
    await broker.publish('', queue, numberedLines.join('\n'));
    await broker.publish('', queue, longLine);
    const run = await runWarren(['consume', queue, '--count', '2', '--format', 'pretty']);
    expect(run.code).toBe(0);
    const out = run.stdout.toString('utf8');
    expect(out).not.toMatch(ANY_SGR);
    const lines = out.split('\n');
    expect(lines.filter((l) => /^line \d+$/.test(l))).toEqual(numberedLines);
    expect(lines).toContain(longLine);
    expect(out).not.toContain('--full shows all');
  });
});

describe('bodies that could drive the terminal', () => {
  it('a binary body is a size and a hex dump; its ESC bytes never reach the screen', async () => {
    const { exchange, queue } = await topicWithQueue('binary');
    const body = Buffer.concat([
      Buffer.from('\x1b[2J\x1b]0;pwned\x07', 'latin1'),
      Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x1b, 0x63]),
      Buffer.from('tail text'),
    ]);
    await broker.publish(exchange, 'bin.data', body);
    const run = await inPty(['consume', queue, '--count', '1']);
    expect(run.code).toBe(0);
    const { after } = fromFirstRecord(run.raw);
    expect(foreignEscapes(after.slice(0, after.indexOf('consumed 1 message')))).toEqual([]);
    expect(run.raw).not.toContain('pwned\x07');

    const lines = screenLines(run.raw);
    expect(lines.find((l) => TIME.test(l))).toMatch(titleOf(exchange, 'bin.data', body.length));
    const at = lines.indexOf(`binary, ${body.length} bytes`);
    expect(at).toBeGreaterThan(-1);
    const hexRow = (offset: number) => {
      const row = body.subarray(offset, offset + 16);
      const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
      return `${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`.trimEnd();
    };
    expect(lines.slice(at + 1, at + 3)).toEqual([hexRow(0), hexRow(16)]);
    expect(lines[at + 1]).toMatch(/^00000000 {2}1b 5b 32 4a 1b 5d /);
  });

  it('ESC in a text body and in a header is shown as \\x1b, not sent', async () => {
    const queue = await broker.queue('escape-text');
    await broker.publish('', queue, 'before\x1b[2Jafter', { headers: { 'x-evil': '\x1b]0;owned\x07' } });
    const run = await inPty(['consume', queue, '--count', '1']);
    expect(run.code).toBe(0);
    const { after } = fromFirstRecord(run.raw);
    expect(foreignEscapes(after.slice(0, after.indexOf('consumed 1 message')))).toEqual([]);
    expect(run.raw).not.toContain('owned\x07');
    const lines = screenLines(run.raw);
    expect(lines).toContain('before\\x1b[2Jafter');
    expect(lines).toContain('  x-evil: \\x1b]0;owned\\x07');
  });
});

describe('replay --dry-run', () => {
  const envelopes = [
    { exchange: 'dry.orders', routingKey: 'order.created', body: 'first', properties: { messageId: 'd-1' } },
    {
      exchange: '',
      routingKey: 'dry.queue',
      body: '{"n":2}',
      properties: { contentType: 'application/json' },
      headers: { 'x-tenant': 'acme' },
    },
  ];
  const capture = () =>
    tempFile('dry-run', `${envelopes.map((envelope) => JSON.stringify(envelope)).join('\n')}\n`);

  it('on a terminal: a pretty block per message with its destination', async () => {
    const run = await inPty(['replay', capture(), '--dry-run']);
    expect(run.code).toBe(0);
    const lines = screenLines(run.raw);
    const titles = lines.filter((l) => TIME.test(l));
    expect(titles).toHaveLength(2);
    expect(titles[0]).toMatch(titleOf('dry.orders', 'order.created', 5));
    expect(titles[1]).toMatch(titleOf('(default)', 'dry.queue', 7));
    expect(lines).toContain('first');
    expect(lines).toContain('  "n": 2');
    expect(lines).toContain('  x-tenant: acme');
    expect(lines.filter((l) => l.includes('replaying') && l.includes('→'))).toEqual([]);
    expect(lines.some((l) => /^dry run: would publish 2 messages/.test(l))).toBe(true);
  });

  it('with --exchange and --routing-key: the title names the new destination', async () => {
    const run = await inPty(['replay', capture(), '--dry-run', '--exchange', 'other.ex', '-k', 'new.key']);
    expect(run.code).toBe(0);
    const titles = screenLines(run.raw).filter((l) => TIME.test(l));
    expect(titles).toHaveLength(2);
    for (const title of titles) expect(title).toMatch(/ {2}other\.ex → new\.key {2}\d+ B$/);
  });

  it('in a pipe: NDJSON envelopes', async () => {
    const run = await runWarren(['replay', capture(), '--dry-run']);
    expect(run.code).toBe(0);
    const records = ndjson(run.stdout);
    expect(records.map((r) => [r['exchange'], r['routingKey'], r['body']])).toEqual(
      envelopes.map((e) => [e.exchange, e.routingKey, e.body]),
    );
    expect(records[1]?.['headers']).toEqual({ 'x-tenant': 'acme' });
    expect(run.stdout.toString()).not.toContain('→');
  });
});

describe('the "connecting" status line', () => {
  const args = [
    '--url',
    'amqp://guest:guest@127.0.0.1:1',
    '--wait-for-broker',
    '1500ms',
    'publish',
    '-k',
    'x',
    'y',
  ];

  it('shows the masked URL while trying, then gives its line to the error (exit 69)', async () => {
    const run = await inPty(args);
    expect(run.code).toBe(69);
    expect(run.raw).toContain('connecting to amqp://guest:***@127.0.0.1:1');
    expect(run.raw).not.toContain('guest:guest');
    const lines = screenLines(run.raw).filter((l) => l !== '');
    const error = lines.find((l) => l.includes('error:'));
    expect(error).toMatch(/^error: cannot connect to amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/);
    expect(lines.filter((l) => l.includes('connecting to'))).toEqual([]);
    expect(run.raw.lastIndexOf('\x1b[?25h')).toBeGreaterThan(run.raw.lastIndexOf('\x1b[?25l'));
  });

  it('-q: no status line, just the error', async () => {
    const run = await inPty(['-q', ...args]);
    expect(run.code).toBe(69);
    expect(run.raw).not.toContain('connecting to');
    expect(run.raw).not.toContain('\x1b[?25l');
    expect(screenLines(run.raw).filter((l) => l !== '')[0]).toMatch(/^error: cannot connect to /);
  });
});

describe('bash completion', () => {
  const script = readFileSync(join(REPO_ROOT, 'completions/warren.bash'), 'utf8');
  const fn = /complete .*-F (\S+) warren/.exec(script)?.[1];

  async function complete(words: string[]): Promise<string[]> {
    const quoted = words.map(quote).join(' ');
    const run = await runShell(
      `source completions/warren.bash && COMP_WORDS=(${quoted}) && COMP_CWORD=${words.length - 1} && ${fn} && printf '%s\\n' "\${COMPREPLY[@]}"`,
    );
    expect(run.code).toBe(0);
    return run.stdout.toString().split('\n').filter(Boolean).sort();
  }

  it('loads and registers a completion for warren', async () => {
    expect(fn).toBeDefined();
    const run = await runShell('source completions/warren.bash && complete -p warren');
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toMatch(/^complete .*-F \S+ warren$/m);
  });

  it('completes commands, flags and flag values', async () => {
    expect(await complete(['warren', 're'])).toEqual(['replay']);
    expect(await complete(['warren', 'replay', '--fr'])).toEqual(['--from-queue', '--from-stream']);
    expect(await complete(['warren', 'consume', 'q', '--on-'])).toEqual(['--on-failure']);
    expect(await complete(['warren', 'consume', 'q', '--on-failure', 'd'])).toEqual(['dead-letter']);
  });

  it('completes subcommands, their flags and their flag values', async () => {
    expect(await complete(['warren', 'declare', 'qu'])).toEqual(['queue']);
    expect(await complete(['warren', 'declare', 'queue', 'q', '--max-a'])).toEqual(['--max-age']);
    expect(await complete(['warren', 'declare', 'queue', 'q', '--type', 'q'])).toEqual(['quorum']);
    expect(await complete(['warren', 'delete', 'binding', '--sou'])).toEqual(['--source']);
    expect(await complete(['warren', 'profile', 'add', 'p', '--for'])).toEqual(['--force', '--format']);
    expect(await complete(['warren', 'declare', '--ch'])).toEqual(['--check']);
  });
});
